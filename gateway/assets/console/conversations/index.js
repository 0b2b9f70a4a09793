// The conversations view: the list (Queue / Mine / All open, narrowed by the filter bar and
// saved views of list.js) with realtime updates, and the open thread (thread.js). One instance
// lives for one sign-in; it keeps running while a settings page is shown so counts and unread
// marks stay right. Unread counts come from the server's per-agent read markers.

import { api, session, qs, items } from "../api.js";
import { t, registerStrings } from "../i18n.js";
import { h, mount, toast, icon } from "../dom.js";
import { errorText } from "../errors.js";
import { store } from "../store.js";
import { OPEN_STATUSES } from "../vocab.js";
import { Realtime, publishAgentEvent } from "../realtime.js";
import { Thread } from "./thread.js";
import { notify } from "./notify.js";
import { messagePatch } from "./row-patch.js";
import { loadLabels } from "./labels.js";
import { sameId, agentName, contactName, inboxLabel, loadDirectory } from "./names.js";
import { bellOnEvent } from "../shell/bell.js";
import { ConversationSearch } from "./search.js";
import { installShortcuts } from "./shortcuts.js";
import { BUILTIN_VIEWS, comparator, filterBar, filterParams, matcher, row, savedViews, storeViews, askViewName, SORTS } from "./list.js";
import strings from "./strings.js";

registerStrings(strings);

/** @typedef {import("../types.js").Conversation} Conversation */
/** @typedef {"queue"|"mine"|"open"} Tab */
/** @typedef {import("./list.js").Filter} Filter */
/** @typedef {import("./list.js").Sort} Sort */

const TAB_KEY = "kefu.console.tab";
const SORT_KEY = "kefu.console.sort";
/** @type {Tab[]} */
const TABS = ["queue", "mine", "open"];

export { sameId };

/** @param {string|undefined} s */
const isOpen = (s) => OPEN_STATUSES.some((o) => o === s);

export class Conversations {
  constructor() {
    const saved = localStorage.getItem(TAB_KEY);
    /** @type {Tab} */
    this.tab = TABS.find((x) => x === saved) || "queue";
    const sort = localStorage.getItem(SORT_KEY);
    /** @type {Sort} */
    this.sort = SORTS.find((x) => x === sort) || "last_activity";
    /** @type {Filter} */
    this.listFilter = {};
    this.viewId = "";
    /** @type {{id: number|string, name: string}[]} */
    this.teams = [];
    /** @type {Map<string, Conversation>} */
    this.convs = new Map();
    /** @type {Record<string, string|null|undefined>} */
    this.cursor = {};
    this.loading = false;
    /** @type {Map<string, string>} text of a reply just sent, until the server's row has it */
    this.preview = new Map();
    /** @type {Map<string, {name?: string, timer: number}>} */
    this.typing = new Map();
    /** @type {Thread|null} */
    this.thread = null;
    /** @type {Map<string, Promise<Conversation|null>>} */
    this.inflight = new Map();
    this.lastCheck = 0;
    /** @type {(() => void)|undefined} */
    this.stopShortcuts = undefined;
    this.tabsEl = h("div", { class: "tabs", role: "tablist", "aria-label": t("list.label") });
    this.barEl = h("div", { class: "list-bar" });
    this.listEl = h("div", { class: "conv-list", role: "list", id: "conv-list" });
    this.main = h("main", { class: "main", id: "content", tabindex: "-1" });
    this.search = new ConversationSearch({
      filterParams: () => filterParams(this.listFilter, this.sort, this.me().id),
      onChange: () => this.renderList(),
      upsert: (c) => this.upsertConv(c, false),
      names: { contactName, inboxLabel, agentName },
    });
    this.el = h("div", { class: "body" }, h("aside", { class: "sidebar" }, this.search.el, this.tabsEl, this.barEl, this.listEl), this.main);
    this.rt = new Realtime(() => session.token, {
      onFrame: (f) => this.onFrame(f),
      onState: (s) => store.set("live", s),
      onReconnect: () => { this.loadAllTabs(); this.thread?.resync(); publishAgentEvent("resync", {}); },
      onDrop: () => this.checkToken(),
    });
    this.unsubBell = store.subscribe("bell", () => this.publishUnread());
    this.onVisible = () => {
      if (document.visibilityState === "visible" && this.thread) this.markRead(this.thread.id);
    };
  }

  /** Loads everything and connects the socket. */
  start() {
    document.addEventListener("visibilitychange", this.onVisible);
    this.stopShortcuts = installShortcuts();
    this.loadInboxes();
    this.loadAgents();
    loadDirectory("intents", "/intents", () => { this.thread?.renderHead(); this.thread?.renderMessages(); });
    this.loadTeams();
    loadLabels().then(() => { this.renderBar(); this.renderList(); this.thread?.renderHead(); });
    this.loadAllTabs();
    this.rt.start();
  }

  /** Disconnects and forgets (sign-out). */
  stop() {
    document.removeEventListener("visibilitychange", this.onVisible);
    this.stopShortcuts?.();
    this.unsubBell();
    this.rt.stop();
    this.thread?.close();
    this.thread = null;
    for (const v of this.typing.values()) clearTimeout(v.timer);
  }

  /** @returns {import("../types.js").Profile} */
  me() { return /** @type {any} */ (store.get("me")); }

  /**
   * Shows the view in `container` with the thread `id` open (or none).
   * @param {HTMLElement} container
   * @param {string|undefined} id
   */
  show(container, id) {
    if (this.el.parentNode !== container) mount(container, this.el);
    this.renderTabs();
    this.renderBar();
    if (id == null) {
      this.thread?.close();
      this.thread = null;
      this.renderEmptyThread();
    } else if (!(this.thread && sameId(this.thread.id, id))) {
      this.openThread(id);
    }
    this.renderList();
  }

  /** Re-renders everything (language switch). */
  rerender() {
    this.tabsEl.setAttribute("aria-label", t("list.label"));
    this.search.relabel();
    this.renderTabs();
    this.renderBar();
    this.renderList();
    if (this.thread) this.thread.rerender(this.main);
    else this.renderEmptyThread();
  }

  renderEmptyThread() {
    this.el.classList.remove("show-thread");
    mount(this.main, h("div", { class: "empty-state" },
      icon("chat", "empty-icon"),
      h("h2", {}, t("thread.empty.title")),
      h("p", { class: "muted" }, t("thread.empty.body"))));
  }

  /** @param {string} id */
  openThread(id) {
    this.thread?.close();
    this.markRead(id);
    this.thread = new Thread(id, {
      me: () => this.me(),
      conv: () => this.convs.get(String(id)),
      fetchConv: (/** @type {any} */ cid) => this.fetchConv(cid),
      upsertConv: (/** @type {Conversation} */ c) => this.upsertConv(c),
      contactName,
      inboxLabel,
      agentName,
      teams: () => this.teams,
      typingOf: () => this.typing.get(String(id)),
      sendFrame: (/** @type {object} */ f) => this.rt.send(f),
      onPreview: (/** @type {any} */ cid, /** @type {string} */ text) => { this.preview.set(String(cid), text); this.renderList(); },
    });
    this.el.classList.add("show-thread");
    this.thread.rerender(this.main);
  }

  checkToken() {
    // A socket refused for a revoked token looks like any drop; a REST call tells them apart.
    if (Date.now() - this.lastCheck < 10000) return;
    this.lastCheck = Date.now();
    api.get(`/agents/${this.me().id}`).catch(() => {});
  }

  /** Every tab once, so the counts are right before the agent visits them. */
  loadAllTabs() {
    for (const k of TABS) if (k !== this.tab) this.loadTab(false, k);
    this.loadTab();
  }

  loadAgents() { loadDirectory("agents", "/agents", () => { this.renderBar(); this.thread?.renderHead(); }); }

  loadInboxes() { loadDirectory("inboxes", "/inboxes", () => { this.renderBar(); this.renderList(); this.thread?.renderHead(); }); }

  async loadTeams() {
    try {
      this.teams = items(await api.get("/teams"));
      this.renderBar();
    } catch { /* the team filter stays empty */ }
  }

  /**
   * Marks conversation `id` read up to its newest message, here and on the server.
   * @param {number|string} id
   */
  markRead(id) {
    const c = this.convs.get(String(id));
    if (c && c.unread_count) { c.unread_count = 0; this.renderList(); }
    const seq = c && c.last_seq != null ? c.last_seq : 2147483647;
    api.post(`/conversations/${encodeURIComponent(id)}/read`, { seq }).catch(() => {});
  }

  renderBar() {
    const me = this.me();
    if (!me) return;
    mount(this.barEl, filterBar({
      filter: this.listFilter, sort: this.sort, viewId: this.viewId, teams: this.teams,
      views: [...BUILTIN_VIEWS, ...savedViews(me.id)],
      onFilter: (f) => { this.viewId = ""; this.applyFilter(f, this.sort); },
      onSort: (s) => { localStorage.setItem(SORT_KEY, s); this.applyFilter(this.listFilter, s); },
      onView: (id) => {
        const v = [...BUILTIN_VIEWS, ...savedViews(me.id)].find((x) => x.id === id);
        this.viewId = v ? v.id : "";
        if (v && this.tab !== "open") { this.tab = "open"; localStorage.setItem(TAB_KEY, "open"); }
        this.applyFilter(v ? { ...v.filter } : {}, (v && v.sort) || this.sort);
      },
      onSaveView: () => askViewName((name) => {
        const id = `v${Date.now()}`;
        storeViews(me.id, [...savedViews(me.id), { id, name, filter: { ...this.listFilter }, sort: this.sort }]);
        this.viewId = id;
        this.renderBar();
      }),
      onDeleteView: () => {
        storeViews(me.id, savedViews(me.id).filter((v) => v.id !== this.viewId));
        this.viewId = "";
        this.applyFilter({}, this.sort);
      },
    }));
  }

  /**
   * @param {Filter} f
   * @param {Sort} sort
   */
  applyFilter(f, sort) {
    this.listFilter = f;
    this.sort = sort;
    this.cursor = {};
    this.renderBar();
    this.renderTabs();
    this.renderList();
    this.loadAllTabs();
    this.search.refresh();
  }

  /** Whether a conversation passes the filter bar. */
  passes() { return matcher(this.listFilter, this.me().id); }

  /** @param {Tab} tab */
  filter(tab) {
    const me = this.me();
    if (tab === "queue") return (/** @type {Conversation} */ c) => c.status === "queued";
    if (tab === "mine") return (/** @type {Conversation} */ c) => sameId(c.assignee_id, me.id) && isOpen(c.status) && c.status !== "queued";
    return (/** @type {Conversation} */ c) => isOpen(c.status);
  }

  /** @param {Tab} tab */
  params(tab) {
    if (tab === "queue") return { status: "queued" };
    if (tab === "mine") return { assignee_id: this.me().id, status: "assigned" };
    return {};
  }

  renderTabs() {
    store.set("mine", [...this.convs.values()].filter(this.filter("mine")).length);
    const passes = this.passes();
    mount(this.tabsEl, TABS.map((k) => {
      const n = [...this.convs.values()].filter(this.filter(k)).filter(passes).length;
      return h("button", {
        type: "button", role: "tab", class: `tab${this.tab === k ? " on" : ""}`,
        "aria-selected": this.tab === k ? "true" : "false", "aria-controls": "conv-list",
        tabindex: this.tab === k ? "0" : "-1", "data-testid": `tab-${k}`,
        onclick: () => this.selectTab(k),
        onkeydown: (/** @type {KeyboardEvent} */ e) => {
          const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
          if (!step) return;
          e.preventDefault();
          this.selectTab(TABS[(TABS.indexOf(k) + step + TABS.length) % TABS.length]);
          /** @type {HTMLElement|null} */ (this.tabsEl.querySelector(".tab.on"))?.focus();
        },
      }, t(`tab.${k}`), n ? h("span", { class: "count" }, n > 99 ? "99+" : n) : null);
    }));
  }

  /** @param {Tab} k */
  selectTab(k) {
    this.tab = k;
    localStorage.setItem(TAB_KEY, k);
    this.renderTabs();
    this.renderList();
    this.loadTab();
  }

  /**
   * @param {boolean} [more]
   * @param {Tab} [tab]
   */
  async loadTab(more = false, tab = this.tab) {
    /** @type {Record<string, any>} */
    const params = { ...this.params(tab), ...filterParams(this.listFilter, this.sort, this.me().id), limit: 50 };
    if (more) params.cursor = this.cursor[tab];
    if (tab === this.tab) { this.loading = true; if (!more) this.renderList(); }
    try {
      const data = await api.get(`/conversations${qs(params)}`);
      const got = items(data);
      const seen = new Set(got.map((c) => String(c.id)));
      for (const c of got) this.upsertConv(c, false);
      this.cursor[tab] = data && data.next_cursor;
      if (!more && !this.cursor[tab]) {
        // Cached rows the server no longer lists here changed while we were not looking.
        const passes = this.passes();
        for (const c of this.convs.values()) if (this.filter(tab)(c) && passes(c) && !seen.has(String(c.id))) this.fetchConv(c.id);
      }
    } catch (e) {
      if (/** @type {any} */ (e).status !== 401) toast(errorText(e));
    } finally {
      if (tab === this.tab) this.loading = false;
      this.renderTabs();
      this.renderList();
    }
  }

  /**
   * @param {Conversation} c
   * @param {boolean} [render]
   */
  upsertConv(c, render = true) {
    if (!c || c.id == null) return;
    const key = String(c.id);
    const merged = { ...(this.convs.get(key) || {}), ...c };
    this.convs.set(key, merged);
    if (render) { this.renderTabs(); this.renderList(); }
    if (this.thread && sameId(this.thread.id, c.id)) this.thread.setConv();
  }

  /**
   * @param {number|string} id
   * @returns {Promise<Conversation|null>}
   */
  fetchConv(id) {
    const key = String(id);
    const cur = this.inflight.get(key);
    if (cur) return cur;
    const p = api.get(`/conversations/${encodeURIComponent(id)}`)
      .then((c) => { this.upsertConv(c); return c; })
      .catch((e) => {
        if (e.status === 404 || e.status === 403) { this.convs.delete(key); this.renderTabs(); this.renderList(); }
        return null;
      })
      .finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  sortedForTab() {
    const list = [...this.convs.values()].filter(this.filter(this.tab)).filter(this.passes());
    return list.sort(comparator(this.sort));
  }

  publishUnread() {
    const n = [...this.convs.values()].filter((c) => (c.unread_count || 0) > 0).length;
    store.set("unread", n);
    const all = n + store.get("bell");
    document.title = (all ? `(${all}) ` : "") + t("app.title");
  }

  renderList() {
    this.publishUnread();
    this.tabsEl.hidden = this.search.active();
    if (this.search.active()) { this.search.render(this.listEl, this.thread && this.thread.id); return; }
    const list = this.sortedForTab();
    if (!list.length) {
      mount(this.listEl, h("div", { class: "list-empty" },
        this.loading ? t("list.loading") : [icon(this.tab === "queue" ? "check" : "inbox", "empty-icon small"),
          t(`list.empty.${this.tab}`)]));
      return;
    }
    const openId = this.thread && this.thread.id;
    mount(this.listEl, list.map((c) => row(c, {
      contactName, inboxLabel, agentName,
      active: sameId(openId, c.id),
      typing: this.typing.has(String(c.id)),
      preview: this.preview.get(String(c.id)),
    })), this.cursor[this.tab] ? h("button", { type: "button", class: "btn ghost block more", "data-testid": "list-more", onclick: () => this.loadTab(true) }, t("list.more")) : null);
  }

  // ---------------------------------------------------------------- realtime

  /** @param {any} f */
  onFrame(f) {
    if (f.type === "event" && f.event && typeof f.event.type === "string") {
      this.onEvent(f.event.type, f.event.data || {});
      publishAgentEvent(f.event.type, f.event.data || {});
    }
    else if (f.type === "typing") this.onTyping(f);
  }

  /**
   * @param {string} type
   * @param {any} data
   */
  onEvent(type, data) {
    bellOnEvent(type, data, this.me().id);
    if (type === "conversation.labels_changed") {
      if (data.conversation_id == null) return;
      if (this.convs.has(String(data.conversation_id))) this.upsertConv({ id: data.conversation_id, labels: data.labels || [] });
      else this.fetchConv(data.conversation_id);
      return;
    }
    if (type.startsWith("conversation.")) {
      const c = data.conversation || data;
      const id = data.conversation_id ?? c.id;
      if (id == null) return;
      const before = this.convs.get(String(id));
      if (c.id != null && sameId(c.id, id) && c.status) this.upsertConv(c);
      if (type === "conversation.assigned" && sameId(c.assignee_id, this.me().id) && !sameId(before?.assignee_id, this.me().id)) {
        notify("assignment", t("notify.assigned"), contactName(this.convs.get(String(id)) || c));
      }
      // Events may carry a partial object; the REST view is authoritative.
      if (!this.convs.has(String(id)) || !c.contact || !c.status) this.fetchConv(id);
      // Handovers and status changes add timeline lines.
      if (this.thread && sameId(this.thread.id, id)) this.thread.loadActivities();
      return;
    }
    if (type === "message.created" || type === "message.updated" || type === "message.failed") {
      const m = data.message || data;
      const cid = data.conversation_id ?? m.conversation_id;
      if (cid == null) return;
      const key = String(cid);
      if (type === "message.created") {
        const conv = this.convs.get(key);
        const inbound = m.direction === "inbound";
        const watching = !!this.thread && sameId(this.thread.id, cid) && document.visibilityState === "visible";
        if (conv) {
          this.preview.delete(key);
          this.upsertConv(messagePatch(conv, m, watching), false);
        } else this.fetchConv(cid);
        if (inbound) {
          this.clearTyping(key);
          if (conv && sameId(conv.assignee_id, this.me().id)) notify("message", contactName(conv), (m.content && m.content.text) || "");
          if (watching) this.markRead(cid);
        }
        this.renderTabs();
        this.renderList();
      }
      if (this.thread && sameId(this.thread.id, cid)) this.thread.onMessageEvent(type, m);
      return;
    }
    if (type === "csat.requested" || type === "csat.submitted") {
      if (this.thread && sameId(this.thread.id, data.conversation_id)) { this.thread.loadActivities(); this.thread.contact.loadCsat().catch(() => {}); }
      return;
    }
    if (type === "agent.status_changed") {
      const id = data.agent_id ?? data.id ?? (data.agent && data.agent.id);
      const status = data.status ?? (data.agent && data.agent.status);
      const me = this.me();
      if (sameId(id, me.id) && status) store.set("me", { ...me, status });
    }
  }

  /** @param {any} f */
  onTyping(f) {
    if (f.conversation_id == null) return;
    const key = String(f.conversation_id);
    this.clearTyping(key, false);
    if (f.on) this.typing.set(key, { name: f.name, timer: window.setTimeout(() => this.clearTyping(key), 8000) });
    this.renderList();
    if (this.thread && sameId(this.thread.id, key)) this.thread.renderTyping();
  }

  /**
   * @param {string} key
   * @param {boolean} [render]
   */
  clearTyping(key, render = true) {
    const cur = this.typing.get(key);
    if (!cur) return;
    clearTimeout(cur.timer);
    this.typing.delete(key);
    if (render) {
      this.renderList();
      if (this.thread && sameId(this.thread.id, key)) this.thread.renderTyping();
    }
  }
}
