// Kefu agent console: login, conversation list (Queue / Mine / All open), realtime updates.
// The open conversation's thread lives in thread.js; REST in api.js; the socket in realtime.js.

import { api, session, setUnauthorizedHandler, qs, items } from "./api.js";
import { t, getLang, setLang } from "./i18n.js";
import { h, mount, fmtShort, avatar, shortId, showError, icon } from "./dom.js";
import { Realtime } from "./realtime.js";
import { Thread } from "./thread.js";
import { renderInboxes } from "./inboxes.js";

const OPEN = ["queued", "assigned", "pending", "transferring", "reopened"];
const TABS = {
  queue: { params: { status: "queued" }, filter: (c) => c.status === "queued" },
  mine: {
    params: () => ({ assignee_id: S.me.id, status: "assigned" }),
    filter: (c) => sameId(c.assignee_id, S.me.id) && OPEN.includes(c.status) && c.status !== "queued",
  },
  open: { params: {}, filter: (c) => OPEN.includes(c.status) },
};

const S = {
  me: null,
  tab: localStorage.getItem("kefu.console.tab") || "queue",
  convs: new Map(),
  inboxes: new Map(),
  agents: new Map(),
  cursor: {},
  loading: false,
  preview: new Map(),
  unread: new Set(),
  typing: new Map(),
  live: "connecting",
  rt: null,
  thread: null,
};

const root = document.getElementById("app");
const ui = {};

export function sameId(a, b) { return a != null && b != null && String(a) === String(b); }

// ---------------------------------------------------------------- login

function renderLogin(notice) {
  S.rt?.stop();
  S.rt = null;
  S.thread = null;
  // Nothing of the previous agent's view may leak into the next sign-in.
  for (const m of [S.convs, S.preview, S.unread, S.agents]) m.clear();
  for (const v of S.typing.values()) clearTimeout(v.timer);
  S.typing.clear();
  S.cursor = {};
  document.title = t("app.title");
  const err = h("div", { class: "form-error", role: "alert" }, notice || "");
  if (!notice) err.hidden = true;
  const email = h("input", { type: "email", id: "email", autocomplete: "username", required: true, "data-testid": "login-email" });
  const password = h("input", { type: "password", id: "password", autocomplete: "current-password", required: true, "data-testid": "login-password" });
  const submit = h("button", { type: "submit", class: "btn primary block", "data-testid": "login-submit" }, t("login.submit"));
  const form = h("form", {
    class: "login-card",
    onsubmit: async (ev) => {
      ev.preventDefault();
      err.hidden = true;
      submit.disabled = true;
      submit.textContent = t("login.busy");
      try {
        await api.login(email.value.trim(), password.value);
        startApp();
      } catch (e) {
        err.textContent = e.status === 0 ? t("error.network") : e.detail;
        err.hidden = false;
        submit.disabled = false;
        submit.textContent = t("login.submit");
      }
    },
  },
  h("div", { class: "brand big" }, h("span", { class: "logo" }, "K"), "Kefu"),
  h("h1", {}, t("login.title")),
  h("p", { class: "muted" }, t("login.subtitle")),
  err,
  h("label", { for: "email" }, t("login.email")), email,
  h("label", { for: "password" }, t("login.password")), password,
  submit);
  mount(root, h("div", { class: "login" }, h("div", { class: "login-lang" }, langButton(() => renderLogin())), form));
  email.focus();
}

function langButton(rerender) {
  return h("button", {
    type: "button", class: "btn ghost small", "data-testid": "lang-toggle",
    onclick: () => { setLang(getLang() === "zh-CN" ? "en" : "zh-CN"); rerender(); },
  }, t("lang.switch"));
}

// ---------------------------------------------------------------- app shell

function startApp() {
  S.me = session.agent;
  if (!S.me || !session.token) return renderLogin();
  renderShell();
  loadInboxes();
  refreshMe();
  loadAgents();
  loadAllTabs();
  S.rt = new Realtime(() => session.token, {
    onFrame,
    onState: (s) => { S.live = s; renderLive(); },
    onReconnect: () => { loadAllTabs(); S.thread?.resync(); },
    onDrop: checkToken,
  });
  S.rt.start();
  routeFromHash();
}

function renderShell() {
  ui.live = h("span", { class: "live" });
  ui.status = h("div", { class: "seg", role: "group", "data-testid": "agent-status" });
  ui.tabs = h("nav", { class: "tabs", role: "tablist" });
  ui.list = h("div", { class: "conv-list", role: "list" });
  ui.main = h("main", { class: "main" });
  const header = h("header", { class: "topbar" },
    h("div", { class: "brand" }, h("span", { class: "logo" }, "K"), "Kefu"),
    h("div", { class: "spacer" }),
    ui.live,
    ui.status,
    S.me.role === "admin" ? h("a", { href: "#/inboxes", class: "btn ghost small", "data-testid": "open-inboxes" }, t("header.inboxes")) : null,
    langButton(() => { renderShell(); renderList(); S.thread?.rerender(ui.main); }),
    h("div", { class: "me" }, avatar(S.me.name || S.me.email, S.me.id, "avatar sm"),
      h("span", { class: "me-name" }, S.me.name || S.me.email)),
    h("button", { type: "button", class: "btn ghost small", "data-testid": "logout", onclick: logout }, t("header.logout")));
  ui.app = h("div", { class: "app" }, header,
    h("div", { class: "body" }, h("aside", { class: "sidebar" }, ui.tabs, ui.list), ui.main));
  mount(root, ui.app);
  if (S.thread) ui.app.classList.add("show-thread");
  renderStatus();
  renderLive();
  renderTabs();
  if (!S.thread) renderEmptyThread();
}

function renderEmptyThread() {
  ui.app.classList.remove("show-thread");
  mount(ui.main, h("div", { class: "empty-state" },
    icon("chat", "empty-icon"),
    h("h2", {}, t("thread.empty.title")),
    h("p", { class: "muted" }, t("thread.empty.body"))));
}

function renderLive() {
  if (!ui.live) return;
  ui.live.className = `live ${S.live}`;
  ui.live.textContent = t(S.live === "live" ? "header.live" : S.live === "offline" ? "header.offline" : "header.connecting");
}

function renderStatus() {
  mount(ui.status, ["online", "away", "offline"].map((s) => h("button", {
    type: "button",
    class: `seg-btn ${s}${S.me.status === s ? " on" : ""}`,
    "aria-pressed": S.me.status === s ? "true" : "false",
    "data-testid": `status-${s}`,
    title: t(`status.${s}`),
    onclick: () => setStatus(s),
  }, h("i", { class: "dot" }), h("span", { class: "lbl" }, t(`status.${s}`)))));
}

async function setStatus(status) {
  const prev = S.me.status;
  S.me.status = status;
  renderStatus();
  try {
    const res = await api.put(`/agents/${S.me.id}/status`, { status });
    if (res && res.status) S.me.status = res.status;
    session.save(null, S.me);
  } catch (e) {
    S.me.status = prev;
    showError(e);
  }
  renderStatus();
}

async function refreshMe() {
  try {
    const me = await api.get(`/agents/${S.me.id}`);
    if (me && me.id) { S.me = { ...S.me, ...me }; session.save(null, S.me); renderStatus(); }
  } catch { /* agents may not read their own record; the login copy is enough */ }
}

let lastCheck = 0;
function checkToken() {
  // A socket refused for a revoked token looks like any drop; a REST call tells them apart.
  if (Date.now() - lastCheck < 10000) return;
  lastCheck = Date.now();
  api.get(`/agents/${S.me.id}`).catch(() => {});
}

function logout() {
  session.clear();
  location.hash = "";
  renderLogin();
}

/** Every tab once, so the counts are right before the agent visits them. */
function loadAllTabs() {
  for (const k of Object.keys(TABS)) if (k !== S.tab) loadTab(false, k);
  loadTab();
}

async function loadAgents() {
  try {
    for (const ag of items(await api.get("/agents"))) S.agents.set(String(ag.id), ag);
    S.thread?.renderHead();
  } catch { /* only supervisors may list agents; ids are shown instead */ }
}

export function agentName(id) {
  if (id == null) return null;
  if (sameId(id, S.me.id)) return S.me.name;
  const ag = S.agents.get(String(id));
  return ag ? ag.name || ag.email : `#${shortId(id)}`;
}

async function loadInboxes() {
  try {
    for (const ib of items(await api.get("/inboxes"))) S.inboxes.set(String(ib.id), ib);
    renderList();
    S.thread?.renderHead();
  } catch { /* not every role may list inboxes */ }
}

// ---------------------------------------------------------------- conversation list

function renderTabs() {
  mount(ui.tabs, Object.keys(TABS).map((k) => {
    const n = [...S.convs.values()].filter(TABS[k].filter).length;
    return h("button", {
      type: "button", role: "tab", class: `tab${S.tab === k ? " on" : ""}`,
      "aria-selected": S.tab === k ? "true" : "false", "data-testid": `tab-${k}`,
      onclick: () => { S.tab = k; localStorage.setItem("kefu.console.tab", k); renderTabs(); renderList(); loadTab(); },
    }, t(`tab.${k}`), n ? h("span", { class: "count" }, n > 99 ? "99+" : n) : null);
  }));
}

async function loadTab(more = false, tab = S.tab) {
  const spec = TABS[tab];
  const params = { ...(typeof spec.params === "function" ? spec.params() : spec.params), limit: 50 };
  if (more) params.cursor = S.cursor[tab];
  if (tab === S.tab) { S.loading = true; if (!more) renderList(); }
  try {
    const data = await api.get(`/conversations${qs(params)}`);
    const got = items(data);
    const seen = new Set(got.map((c) => String(c.id)));
    for (const c of got) upsertConv(c, false);
    S.cursor[tab] = data && data.next_cursor;
    if (!more && !S.cursor[tab]) {
      // Cached rows the server no longer lists here changed while we were not looking.
      for (const c of S.convs.values()) if (spec.filter(c) && !seen.has(String(c.id))) fetchConv(c.id);
    }
  } catch (e) {
    if (e.status !== 401) showError(e);
  } finally {
    if (tab === S.tab) S.loading = false;
    renderTabs();
    renderList();
  }
}

export function upsertConv(c, render = true) {
  if (!c || c.id == null) return;
  const key = String(c.id);
  S.convs.set(key, { ...(S.convs.get(key) || {}), ...c });
  if (render) { renderTabs(); renderList(); }
  if (S.thread && sameId(S.thread.id, c.id)) S.thread.setConv(S.convs.get(key));
}

const inflight = new Map();
export function fetchConv(id) {
  const key = String(id);
  if (inflight.has(key)) return inflight.get(key);
  const p = api.get(`/conversations/${encodeURIComponent(id)}`)
    .then((c) => { upsertConv(c); return c; })
    .catch((e) => {
      if (e.status === 404 || e.status === 403) { S.convs.delete(key); renderTabs(); renderList(); }
      return null;
    })
    .finally(() => inflight.delete(key));
  inflight.set(key, p);
  return p;
}

export function contactName(c) {
  const ct = c.contact || {};
  return ct.name || ct.email || c.contact_name || `${t("visitor")} #${shortId(ct.id || c.contact_id || c.id)}`;
}

export function inboxLabel(c) {
  const ib = S.inboxes.get(String(c.inbox_id));
  const type = (ib && ib.channel && ib.channel.type) || c.channel_type || (c.channel && c.channel.type);
  const kind = type ? t(`channel.${type}`) : "";
  if (ib && ib.name) return kind && kind !== ib.name ? `${ib.name} · ${kind}` : ib.name;
  return kind || (c.inbox_id != null ? `#${shortId(c.inbox_id)}` : "");
}

function sortedForTab() {
  const list = [...S.convs.values()].filter(TABS[S.tab].filter);
  const time = (c) => Date.parse(c.last_message_at || c.created_at || 0) || 0;
  if (S.tab === "queue") {
    // Oldest waiting first within the highest priority, like the dispatcher.
    list.sort((a, b) => (b.priority || 0) - (a.priority || 0) || (Date.parse(a.created_at) || 0) - (Date.parse(b.created_at) || 0));
  } else list.sort((a, b) => time(b) - time(a));
  return list;
}

export function renderList() {
  if (!ui.list) return;
  const list = sortedForTab();
  updateTitle();
  if (!list.length) {
    mount(ui.list, h("div", { class: "list-empty" },
      S.loading ? t("list.loading") : [icon(S.tab === "queue" ? "check" : "inbox", "empty-icon small"),
        t(`list.empty.${S.tab}`)]));
    return;
  }
  const openId = S.thread && S.thread.id;
  mount(ui.list, list.map((c) => {
    const name = contactName(c);
    const typing = S.typing.has(String(c.id));
    const last = S.preview.get(String(c.id));
    const preview = typing ? t("list.typing") : last || inboxLabel(c);
    return h("a", {
      href: `#/c/${encodeURIComponent(c.id)}`,
      class: `conv-item${sameId(openId, c.id) ? " active" : ""}${S.unread.has(String(c.id)) ? " unread" : ""}`,
      role: "listitem", "data-testid": "conv-item", "data-id": c.id, "data-status": c.status,
    },
    avatar(name, (c.contact && c.contact.id) || c.id),
    h("div", { class: "conv-main" },
      h("div", { class: "conv-top" },
        h("span", { class: "conv-name" }, name),
        h("span", { class: "conv-time" }, fmtShort(c.last_message_at || c.created_at))),
      h("div", { class: `conv-sub${typing ? " typing" : ""}` }, preview),
      h("div", { class: "conv-tags" },
        h("span", { class: `pill ${c.status}` }, t(`conv.${c.status}`)),
        typing || last ? h("span", { class: "conv-inbox" }, inboxLabel(c)) : null)));
  }), S.cursor[S.tab] ? h("button", { type: "button", class: "btn ghost block more", onclick: () => loadTab(true) }, t("list.more")) : null);
}

function updateTitle() {
  const n = S.unread.size;
  document.title = (n ? `(${n}) ` : "") + t("app.title");
}

// ---------------------------------------------------------------- thread routing

function routeFromHash() {
  const m = /^#\/c\/(.+)$/.exec(location.hash);
  if (!session.token || !ui.main) return;
  if (location.hash === "#/inboxes") {
    S.thread?.close();
    S.thread = null;
    ui.app.classList.add("show-thread");
    renderInboxes(ui.main, () => { location.hash = ""; });
    renderList();
    return;
  }
  if (!m) {
    S.thread?.close();
    S.thread = null;
    renderEmptyThread();
    renderList();
    return;
  }
  const id = decodeURIComponent(m[1]);
  if (S.thread && sameId(S.thread.id, id)) return;
  S.thread?.close();
  S.unread.delete(String(id));
  S.thread = new Thread(id, {
    me: () => S.me,
    conv: () => S.convs.get(String(id)),
    fetchConv,
    upsertConv,
    contactName,
    inboxLabel,
    agentName,
    typingOf: () => S.typing.get(String(id)),
    sendFrame: (f) => S.rt && S.rt.send(f),
    onPreview: (cid, text) => { S.preview.set(String(cid), text); renderList(); },
  });
  ui.app.classList.add("show-thread");
  S.thread.rerender(ui.main);
  renderList();
}
window.addEventListener("hashchange", routeFromHash);

// ---------------------------------------------------------------- realtime

function onFrame(f) {
  if (f.type === "event" && f.event && typeof f.event.type === "string") onEvent(f.event.type, f.event.data || {});
  else if (f.type === "typing") onTyping(f);
}

function onEvent(type, data) {
  if (type.startsWith("conversation.")) {
    const c = data.conversation || data;
    const id = data.conversation_id ?? c.id;
    if (id == null) return;
    if (c.id != null && sameId(c.id, id) && c.status) upsertConv(c);
    // Events may carry a partial object; the REST view is authoritative.
    if (!S.convs.has(String(id)) || !c.contact || !c.status) fetchConv(id);
    return;
  }
  if (type === "message.created" || type === "message.updated") {
    const m = data.message || data;
    const cid = data.conversation_id ?? m.conversation_id;
    if (cid == null) return;
    const key = String(cid);
    if (type === "message.created") {
      const conv = S.convs.get(key);
      if (conv) upsertConv({ id: conv.id, last_message_at: m.created_at || new Date().toISOString() }, false);
      else fetchConv(cid);
      const text = m.content && m.content.text;
      if (text && !m.private) S.preview.set(key, text);
      if (m.direction === "inbound") {
        clearTyping(key);
        if (!(S.thread && sameId(S.thread.id, cid) && document.visibilityState === "visible")) S.unread.add(key);
      }
      renderTabs();
      renderList();
    }
    if (S.thread && sameId(S.thread.id, cid)) S.thread.onMessageEvent(type, m);
    return;
  }
  if (type === "agent.status_changed") {
    const id = data.agent_id ?? data.id ?? (data.agent && data.agent.id);
    const status = data.status ?? (data.agent && data.agent.status);
    if (sameId(id, S.me.id) && status) { S.me.status = status; session.save(null, S.me); renderStatus(); }
  }
}

function onTyping(f) {
  if (f.conversation_id == null) return;
  const key = String(f.conversation_id);
  clearTyping(key, false);
  if (f.on) S.typing.set(key, { name: f.name, timer: setTimeout(() => clearTyping(key), 8000) });
  renderList();
  if (S.thread && sameId(S.thread.id, key)) S.thread.renderTyping();
}

function clearTyping(key, render = true) {
  const cur = S.typing.get(key);
  if (!cur) return;
  clearTimeout(cur.timer);
  S.typing.delete(key);
  if (render) {
    renderList();
    if (S.thread && sameId(S.thread.id, key)) S.thread.renderTyping();
  }
}

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && S.thread && S.unread.delete(String(S.thread.id))) renderList();
});

// ---------------------------------------------------------------- boot

setUnauthorizedHandler(() => { if (S.rt) renderLogin(t("login.expired")); });
if (session.token && session.agent) startApp();
else renderLogin();
