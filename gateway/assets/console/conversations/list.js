// The conversation list's filters, sort and saved views, and one row of the list.
//
// A filter applies on top of the current tab, both on the server (query parameters of
// `GET /conversations`) and in the browser (so realtime updates land in the right rows). Saved
// views are filters with a name, kept per agent in localStorage; two are built in.

import { t } from "../i18n.js";
import { h, fmtShort, avatar, icon } from "../dom.js";
import { store } from "../store.js";
import { href } from "../router.js";
import { CONVERSATION_STATUSES, OPEN_STATUSES } from "../vocab.js";
import { openDialog } from "../forms/index.js";
import { labelChip } from "./labels.js";

/** @typedef {import("../types.js").Conversation} Conversation */

/**
 * What the list is narrowed to. `assignee` is an agent id, `"me"` or `"none"`.
 * @typedef {Object} Filter
 * @property {string} [status]
 * @property {string} [inbox_id]
 * @property {string} [assignee]
 * @property {string} [team_id]
 * @property {string} [label]
 * @property {string} [priority_min]
 * @property {"1"} [waiting] only conversations whose customer wrote last
 */

/**
 * A named filter with a sort.
 * @typedef {{id: string, name?: string, key?: string, filter: Filter, sort?: Sort}} View
 */

/** @typedef {"last_activity"|"waiting"|"priority"} Sort */

/** @type {Sort[]} */
export const SORTS = ["last_activity", "waiting", "priority"];

/** @type {View[]} */
export const BUILTIN_VIEWS = [
  { id: "unassigned", key: "view.unassigned", filter: { assignee: "none" }, sort: "waiting" },
  { id: "mine-waiting", key: "view.mineWaiting", filter: { assignee: "me", waiting: "1" }, sort: "waiting" },
];

/** @param {any} a @param {any} b */
const same = (a, b) => a != null && b != null && String(a) === String(b);

/** @param {Filter} f */
export const isEmpty = (f) => !Object.values(f).some((v) => v !== undefined && v !== "");

/**
 * The query parameters of a filter and sort.
 * @param {Filter} f
 * @param {Sort} sort
 * @param {number|string} me
 * @returns {Record<string, any>}
 */
export function filterParams(f, sort, me) {
  /** @type {Record<string, any>} */
  const p = { sort, inbox_id: f.inbox_id, team_id: f.team_id, label: f.label, priority_min: f.priority_min, status: f.status };
  if (f.assignee === "none") p.unassigned = true;
  else if (f.assignee === "me") p.assignee_id = me;
  else if (f.assignee) p.assignee_id = f.assignee;
  // Unset keys must not override the tab's own parameters.
  return Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined && v !== ""));
}

/**
 * Whether a conversation passes a filter (in the browser).
 * @param {Filter} f
 * @param {number|string} me
 */
export function matcher(f, me) {
  return (/** @type {Conversation} */ c) => {
    if (f.status && c.status !== f.status) return false;
    if (f.inbox_id && !same(c.inbox_id, f.inbox_id)) return false;
    if (f.team_id && !same(c.team_id, f.team_id)) return false;
    if (f.label && !(c.labels || []).includes(f.label)) return false;
    if (f.priority_min && (c.priority || 0) < Number(f.priority_min)) return false;
    if (f.assignee === "none" && c.assignee_id != null) return false;
    if (f.assignee === "me" && !same(c.assignee_id, me)) return false;
    if (f.assignee && f.assignee !== "me" && f.assignee !== "none" && !same(c.assignee_id, f.assignee)) return false;
    if (f.waiting && !c.waiting_since) return false;
    return true;
  };
}

/** @param {string|null|undefined} iso */
const time = (iso) => Date.parse(iso || "") || 0;
/** @param {Conversation} c */
const num = (c) => Number(c.id) || 0;

/**
 * The list order of a sort, as the server applies it.
 * @param {Sort} sort
 * @returns {(a: Conversation, b: Conversation) => number}
 */
export function comparator(sort) {
  if (sort === "priority") return (a, b) => (b.priority || 0) - (a.priority || 0) || num(a) - num(b);
  if (sort === "waiting") {
    return (a, b) => {
      const x = time(a.last_inbound_at), y = time(b.last_inbound_at);
      if (!x !== !y) return x ? -1 : 1;
      return x - y || num(a) - num(b);
    };
  }
  return (a, b) => time(b.last_message_at || b.created_at) - time(a.last_message_at || a.created_at) || num(b) - num(a);
}

/**
 * Saved views of one agent.
 * @param {number|string} me
 * @returns {View[]}
 */
export function savedViews(me) {
  try {
    const v = JSON.parse(localStorage.getItem(`kefu.console.views.${me}`) || "[]");
    return Array.isArray(v) ? v.filter((x) => x && typeof x.name === "string" && x.filter) : [];
  } catch { return []; }
}

/**
 * @param {number|string} me
 * @param {View[]} views
 */
export function storeViews(me, views) {
  localStorage.setItem(`kefu.console.views.${me}`, JSON.stringify(views));
}

/**
 * A compact "how long" for the waiting time: 45s, 5m, 3h, 2d.
 * @param {number} ms
 */
export function fmtWait(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return t("dur.s", { n: s });
  if (s < 3600) return t("dur.m", { n: Math.floor(s / 60) });
  if (s < 86400) return t("dur.h", { n: Math.floor(s / 3600) });
  return t("dur.d", { n: Math.floor(s / 86400) });
}

/** @param {string|undefined} type */
function channelIcon(type) {
  const name = type === "email" ? "mail" : type === "app_push" ? "phone"
    : type === "wechat" || type === "wecom_kf" ? "bubbles" : type === "web_chat" ? "chat" : "inbox";
  const el = icon(name, "channel-icon");
  el.setAttribute("data-testid", "conv-channel");
  el.setAttribute("data-channel", type || "");
  el.setAttribute("title", type ? t(`channel.${type}`) : "");
  return el;
}

/**
 * The row context: names and what the list knows beyond the conversation.
 * @typedef {Object} RowCtx
 * @property {(c: Conversation) => string} contactName
 * @property {(c: Conversation) => string} inboxLabel
 * @property {(id: any) => string|null} agentName
 * @property {boolean} active
 * @property {boolean} typing
 * @property {string|undefined} preview live preview text, newer than the server's
 */

/**
 * A small badge for a clearly negative or positive latest customer message; nothing otherwise.
 * @param {number|null|undefined} score from -1 to 1
 */
function mood(score) {
  if (score == null || Math.abs(score) < 0.3) return null;
  const kind = score < 0 ? "negative" : "positive";
  return h("span", { class: `mood ${kind}`, "data-testid": "conv-sentiment", "data-score": score, title: t("list.sentimentTitle", { score: score.toFixed(2) }) }, t(`list.sentiment.${kind}`));
}

/**
 * One row of the list.
 * @param {Conversation} c
 * @param {RowCtx} x
 */
export function row(c, x) {
  const name = x.contactName(c);
  const ib = store.get("inboxes").get(String(c.inbox_id));
  const type = (ib && ib.channel && ib.channel.type) || c.channel_type;
  const last = c.last_message;
  const lastText = last ? (last.text || (last.attachments ? t("list.attachment") : "")) : "";
  const preview = x.typing ? t("list.typing") : x.preview || lastText || x.inboxLabel(c);
  const unread = c.unread_count || 0;
  const open = OPEN_STATUSES.some((s) => s === c.status);
  const waiting = open && c.waiting_since ? fmtWait(Date.now() - time(c.waiting_since)) : null;
  const assignee = c.assignee_id == null ? null : (c.assignee && c.assignee.name) || x.agentName(c.assignee_id);
  return h("a", {
    href: href("c", c.id),
    class: `conv-item${x.active ? " active" : ""}${unread ? " unread" : ""}`,
    role: "listitem", "data-testid": "conv-item", "data-id": c.id, "data-status": c.status,
    "aria-current": x.active ? "true" : null,
  },
  avatar(name, (c.contact && c.contact.id) || c.id),
  h("div", { class: "conv-main" },
    h("div", { class: "conv-top" },
      channelIcon(type),
      h("span", { class: "conv-name" }, name),
      h("span", { class: "conv-time" }, fmtShort(c.last_message_at || c.created_at)),
      unread ? h("span", { class: "unread-badge", "data-testid": "conv-unread", "aria-label": t("list.unread", { n: unread }) }, unread > 99 ? "99+" : unread) : null),
    h("div", { class: `conv-sub${x.typing ? " typing" : ""}`, "data-testid": "conv-preview" },
      last && last.direction === "outbound" && !x.typing && !x.preview ? h("span", { class: "muted" }, t("list.you")) : null, preview),
    h("div", { class: "conv-tags" },
      h("span", { class: `pill ${c.status}` }, t(`conv.${c.status}`)),
      h("span", { class: `conv-assignee${assignee ? "" : " muted"}`, "data-testid": "conv-assignee" }, assignee || t("thread.unassigned")),
      mood(c.sentiment),
      waiting ? h("span", { class: "conv-waiting", "data-testid": "conv-waiting", title: t("list.waitingTitle") }, icon("clock", "icon tiny"), waiting) : null,
      (c.labels || []).map((l) => labelChip(l)))));
}

/**
 * Options for the filter bar's selects.
 * @typedef {Object} BarCtx
 * @property {Filter} filter
 * @property {Sort} sort
 * @property {string} viewId
 * @property {View[]} views built-in and saved
 * @property {{id: number|string, name: string}[]} teams
 * @property {(f: Filter) => void} onFilter
 * @property {(s: Sort) => void} onSort
 * @property {(id: string) => void} onView
 * @property {() => void} onSaveView
 * @property {() => void} onDeleteView
 */

/**
 * The filter bar: views, sort, and a select per filter.
 * @param {BarCtx} x
 */
export function filterBar(x) {
  /**
   * @param {keyof Filter} key
   * @param {[string, string][]} options
   */
  const sel = (key, options) => {
    const el = h("select", {
      class: "input small", "data-testid": `filter-${key}`, "aria-label": t(`filter.${key}`),
      onchange: () => x.onFilter({ ...x.filter, [key]: el.value || undefined }),
    }, h("option", { value: "" }, t(`filter.${key}`)), options.map(([v, label]) => h("option", { value: v }, label)));
    el.value = /** @type {string} */ (x.filter[key] || "");
    return el;
  };
  const agents = [...store.get("agents").values()];
  const inboxes = [...store.get("inboxes").values()];
  const labels = [...store.get("labels").values()];
  const views = h("select", {
    class: "input small", "data-testid": "list-view", "aria-label": t("view.label"),
    onchange: () => x.onView(views.value),
  }, h("option", { value: "" }, t("view.all")),
  x.views.map((v) => h("option", { value: v.id }, v.key ? t(v.key) : v.name || v.id)));
  views.value = x.viewId;
  const sort = h("select", {
    class: "input small", "data-testid": "list-sort", "aria-label": t("sort.label"),
    onchange: () => x.onSort(/** @type {Sort} */ (sort.value)),
  }, SORTS.map((s) => h("option", { value: s }, t(`sort.${s}`))));
  sort.value = x.sort;
  const custom = x.views.find((v) => v.id === x.viewId && !v.key);
  return h("div", { class: "filter-bar", "data-testid": "filter-bar" },
    h("div", { class: "filter-row" }, views, sort,
      !isEmpty(x.filter) && !x.viewId ? h("button", { type: "button", class: "btn ghost small", "data-testid": "view-save", onclick: x.onSaveView }, t("view.save")) : null,
      custom ? h("button", { type: "button", class: "btn ghost small", "data-testid": "view-delete", onclick: x.onDeleteView }, t("view.delete")) : null,
      !isEmpty(x.filter) ? h("button", { type: "button", class: "btn ghost small", "data-testid": "filter-clear", onclick: () => x.onFilter({}) }, t("filter.clear")) : null),
    h("div", { class: "filter-row" },
      sel("status", CONVERSATION_STATUSES.map((s) => [s, t(`conv.${s}`)])),
      sel("inbox_id", inboxes.map((i) => [String(i.id), i.name])),
      sel("assignee", [["me", t("filter.me")], ["none", t("thread.unassigned")], ...agents.map((a) => /** @type {[string, string]} */ ([String(a.id), a.name || a.email]))]),
      sel("team_id", x.teams.map((tm) => [String(tm.id), tm.name])),
      sel("label", labels.map((l) => [l.name, l.name])),
      sel("priority_min", ["1", "2", "3", "5", "8", "10"].map((p) => [p, t("filter.priorityAtLeast", { n: p })]))));
}

/**
 * Asks for a name for the current filter; calls `onName` with it.
 * @param {(name: string) => void} onName
 */
export function askViewName(onName) {
  const name = /** @type {HTMLInputElement} */ (h("input", { type: "text", class: "input", "data-testid": "view-name", required: true, maxlength: "40", "aria-label": t("view.name") }));
  const save = h("button", { type: "submit", class: "btn primary", "data-testid": "view-name-save" }, t("common.save"));
  const form = h("form", { class: "stack", novalidate: true },
    h("label", {}, t("view.name"), name), h("div", { class: "form-actions" }, save));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const v = name.value.trim();
    if (!v) { name.focus(); return; }
    close();
    onName(v);
  });
  const close = openDialog({ title: t("view.saveTitle"), body: form, testid: "view-dialog" });
  name.focus();
}
