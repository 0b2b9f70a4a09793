// The header's bell: the agent's notifications (mentions in private notes, conversations
// handed to them) with an unread count, also in the tab title. Opening the bell lists them,
// newest first; a click opens the conversation and marks the notification read; "Mark all
// read" clears the count. The count is loaded at sign-in, when a realtime event may have added
// one (a private note, an assignment to me), and every minute; a new mention plays the sound
// and shows the desktop notification the agent's preferences ask for.

import { api } from "../api.js";
import { t, registerStrings } from "../i18n.js";
import { h, mount, icon, fmtShort, toast } from "../dom.js";
import { errorText } from "../errors.js";
import { store } from "../store.js";
import { href } from "../router.js";
import { notify } from "../conversations/notify.js";
import strings from "./strings.js";

registerStrings(strings);

/**
 * One notification (`GET /api/v1/notifications`).
 * @typedef {Object} Notification
 * @property {number} id
 * @property {"mention"|"assignment"} kind
 * @property {number} conversation_id
 * @property {string|null} [contact_name]
 * @property {string|null} [preview]
 * @property {{id: number, name: string}|null} [actor]
 * @property {string} created_at
 * @property {string|null} [read_at]
 */

const POLL_MS = 60_000;
const PAGE = 20;

/** @type {Bell|null} the signed-in agent's bell */
let current = null;

/**
 * Called with every realtime event: refreshes the bell when the event may have told the agent
 * something (a private note by someone else, a conversation handed to them).
 * @param {string} type
 * @param {any} data
 * @param {number|string} me
 */
export function bellOnEvent(type, data, me) {
  if (!current) return;
  const m = data.message || data;
  const c = data.conversation || data;
  const note = type === "message.created" && m.private && String(m.sender && m.sender.id) !== String(me);
  const handed = (type === "conversation.assigned" || type === "conversation.transferred") && String(c.assignee_id) === String(me);
  if (note || handed) current.refresh();
}

export class Bell {
  constructor() {
    /** @type {Notification[]} */
    this.items = [];
    this.unread = 0;
    /** the newest id seen, so only newer mentions make a sound */
    this.newest = 0;
    this.open = false;
    /** @type {number|null} */
    this.next = null;
    this.seq = 0;
    this.badge = h("span", { class: "count bell-count", "data-testid": "bell-count", hidden: true });
    this.button = h("button", {
      type: "button", class: "btn ghost small bell", "data-testid": "bell", "aria-haspopup": "true", "aria-expanded": "false",
      onclick: () => this.toggle(),
    }, icon("bell"), this.badge);
    this.panel = h("div", { class: "bell-panel", role: "dialog", "data-testid": "bell-panel", hidden: true });
    this.el = h("div", { class: "bell-wrap" }, this.button, this.panel);
    this.onDoc = (/** @type {MouseEvent} */ e) => { if (this.open && !this.el.contains(/** @type {Node} */ (e.target))) this.toggle(false); };
    this.onKey = (/** @type {KeyboardEvent} */ e) => { if (this.open && e.key === "Escape") { this.toggle(false); this.button.focus(); } };
    document.addEventListener("mousedown", this.onDoc);
    document.addEventListener("keydown", this.onKey);
    this.timer = window.setInterval(() => this.refresh(), POLL_MS);
    current = this;
    this.relabel();
    this.refresh();
  }

  dispose() {
    clearInterval(this.timer);
    document.removeEventListener("mousedown", this.onDoc);
    document.removeEventListener("keydown", this.onKey);
    if (current === this) current = null;
    store.set("bell", 0);
  }

  /** Strings that depend on the language. */
  relabel() {
    this.button.setAttribute("aria-label", this.unread ? t("bell.labelUnread", { n: this.unread }) : t("bell.label"));
    this.button.title = t("bell.label");
    if (this.open) this.render();
  }

  /** Loads the first page (and the unread count). */
  async refresh() {
    const seq = ++this.seq;
    try {
      const page = await api.get(`/notifications?limit=${PAGE}`);
      if (seq !== this.seq) return;
      const fresh = /** @type {Notification[]} */ (page.items || []).filter((n) => n.id > this.newest && !n.read_at);
      if (this.newest) {
        const mention = fresh.find((n) => n.kind === "mention");
        if (mention) notify("mention", t("bell.mentioned", { name: (mention.actor && mention.actor.name) || "" }), mention.preview || "");
      }
      this.items = page.items || [];
      this.next = page.next_before ?? null;
      this.newest = Math.max(this.newest, ...this.items.map((n) => n.id), 0) || -1;
      this.setUnread(page.unread_count || 0);
      if (this.open) this.render();
    } catch { /* the count stays as it was; the next refresh tries again */ }
  }

  /** @param {number} n */
  setUnread(n) {
    this.unread = n;
    this.badge.hidden = !n;
    this.badge.textContent = n > 99 ? "99+" : String(n);
    store.set("bell", n);
    this.relabel();
  }

  /** @param {boolean} [open] */
  toggle(open = !this.open) {
    this.open = open;
    this.panel.hidden = !open;
    this.button.setAttribute("aria-expanded", String(open));
    if (open) { this.render(); this.refresh(); }
  }

  async more() {
    if (this.next == null) return;
    try {
      const page = await api.get(`/notifications?limit=${PAGE}&before=${this.next}`);
      this.items = [...this.items, ...(page.items || [])];
      this.next = page.next_before ?? null;
      this.render();
    } catch (e) { toast(errorText(e)); }
  }

  /** @param {number[]|null} ids marks these read, or all of them */
  async markRead(ids) {
    try {
      const res = await api.post("/notifications/read", ids ? { ids } : { all: true });
      const now = new Date().toISOString();
      for (const n of this.items) if (!ids || ids.includes(n.id)) n.read_at = n.read_at || now;
      this.setUnread(res.unread_count || 0);
      if (this.open) this.render();
    } catch (e) { toast(errorText(e)); }
  }

  /** @param {Notification} n */
  line(n) {
    const who = (n.actor && n.actor.name) || t("bell.routing");
    const contact = n.contact_name || `#${n.conversation_id}`;
    const what = n.kind === "mention" ? t("bell.mention", { who, contact }) : t("bell.assignment", { who, contact });
    return h("a", {
      href: href("c", n.conversation_id), class: `bell-item${n.read_at ? "" : " unread"}`,
      "data-testid": "bell-item", "data-kind": n.kind, "data-id": n.id,
      onclick: () => { if (!n.read_at) this.markRead([n.id]); this.toggle(false); },
    },
    icon(n.kind === "mention" ? "at" : "inbox", "icon tiny"),
    h("span", { class: "bell-text" },
      h("span", { class: "bell-what" }, what),
      n.preview ? h("span", { class: "bell-preview muted" }, n.preview) : null,
      h("time", { class: "muted", datetime: n.created_at }, fmtShort(n.created_at))));
  }

  render() {
    mount(this.panel,
      h("div", { class: "bell-head" },
        h("strong", {}, t("bell.title")),
        this.unread ? h("button", { type: "button", class: "link", "data-testid": "bell-read-all", onclick: () => this.markRead(null) }, t("bell.readAll")) : null),
      this.items.length ? this.items.map((n) => this.line(n))
        : h("p", { class: "muted bell-empty", "data-testid": "bell-empty" }, t("bell.empty")),
      this.next != null ? h("button", { type: "button", class: "btn ghost block more", "data-testid": "bell-more", onclick: () => this.more() }, t("bell.more")) : null);
  }
}
