// One open conversation: header with actions, the message thread, and the reply box.

import { api, qs, items } from "../api.js";
import { t, getLang } from "../i18n.js";
import { h, mount, linkified, safeUrl, fmtClock, fmtDay, fmtFull, avatar, randomId, toast, icon } from "../dom.js";
import { errorText } from "../errors.js";
import { OPEN_STATUSES } from "../vocab.js";
import { buildComposer, loadDraft } from "./composer.js";
import { labelChip, pickLabels, saveLabels } from "./labels.js";
import { loadActivities, activityLine } from "./activity.js";
import { pickHandover } from "./handover.js";
import { withMentions } from "./mention.js";
import { failureText, fallbackNote } from "./delivery.js";
import { ContactPanel } from "./contact.js";
import { intentLabel } from "./names.js";

/** @param {any} s */
const isOpen = (s) => OPEN_STATUSES.includes(s);
const PAGE = 100;

/** @param {any} a @param {any} b */
const same = (a, b) => a != null && b != null && String(a) === String(b);

/** @typedef {import("../types.js").Conversation} Conversation */

/**
 * What the thread needs from the conversations view.
 * @typedef {Object} ThreadContext
 * @property {() => import("../types.js").Profile} me
 * @property {() => Conversation|undefined} conv
 * @property {(id: any) => Promise<Conversation|null>} fetchConv
 * @property {(c: Conversation) => void} upsertConv
 * @property {(c: Conversation) => string} contactName
 * @property {(c: Conversation) => string} inboxLabel
 * @property {(id: any) => string|null|undefined} agentName
 * @property {() => {id: number|string, name: string}[]} teams
 * @property {() => {name?: string}|undefined} typingOf
 * @property {(frame: object) => boolean} sendFrame
 * @property {(id: any, text: string) => void} onPreview
 */

/**
 * A reply file: uploading (`id` null), ready, or failed.
 * @typedef {{name: string, id: any, error: string|null}} PendingFile
 */

export class Thread {
  /**
   * @param {string} id conversation id
   * @param {ThreadContext} ctx
   */
  constructor(id, ctx) {
    this.id = id;
    this.ctx = ctx;
    /** @type {Map<string, any>} messages by `id:<id>` or `local:<client id>` */
    this.msgs = new Map();
    this.lastSeq = 0;
    this.note = false;
    /** @type {import("./mention.js").Mentionable[]} agents and teams picked for the note being written */
    this.mentioned = [];
    this.loaded = false;
    this.busy = null;
    this.draft = loadDraft(id);
    /** whether the message list follows the newest message (the agent has not scrolled up) */
    this.stick = true;
    this.typingOn = false;
    this.typingAt = 0;
    this.closed = false;
    this.loading = false;
    this.again = false;
    /** @type {PendingFile[]} */
    this.pendingFiles = [];
    /** @type {import("../types.js").Activity[]} the timeline, oldest first */
    this.activities = [];
    /** @type {HTMLTextAreaElement|null} */
    this.input = null;
    /** @type {HTMLElement|null} */
    this.head = null;
    /** @type {HTMLElement|null} */
    this.list = null;
    /** @type {HTMLElement|null} */
    this.typing = null;
    /** @type {HTMLElement|null} */
    this.composer = null;
    /** @type {number|undefined} */
    this.typingIdle = undefined;
    this.contact = new ContactPanel();
    ctx.fetchConv(id);
    this.loadMessages();
    this.loadActivities();
  }

  close() {
    this.closed = true;
    this.setTyping(false);
  }

  /**
   * Rebuild the whole view into `container` (first open, language switch).
   * @param {HTMLElement} container
   */
  rerender(container) {
    if (this.input) this.draft = this.input.value;
    this.head = h("div", { class: "thread-head" });
    this.list = h("div", { class: "messages", role: "log", "aria-live": "polite", "data-testid": "thread-messages" });
    const list = this.list;
    // Follow the newest message unless the agent scrolled up; images that load later keep
    // the bottom in view.
    list.addEventListener("scroll", () => { this.stick = list.scrollHeight - list.scrollTop - list.clientHeight < 80; });
    list.addEventListener("load", () => { if (this.stick) list.scrollTop = list.scrollHeight; }, true);
    this.typing = h("div", { class: "typing-line" });
    this.composer = this.buildComposer();
    mount(container, h("div", { class: "thread-layout" }, h("section", { class: "thread", "data-testid": "thread", "data-id": this.id },
      this.head, this.list, this.typing, this.composer), this.contact.el));
    this.contact.setConv(this.conv());
    this.contact.render();
    this.renderHead();
    this.renderMessages(true);
    this.renderTyping();
  }

  setConv() { this.renderHead(); this.contact.setConv(this.conv()); }

  /** @returns {Conversation} */
  conv() { return this.ctx.conv() || { id: this.id }; }

  /** The id as the server spelled it (the URL hash only gives a string). */
  wireId() { const c = this.ctx.conv(); return c && c.id != null ? c.id : this.id; }

  // ------------------------------------------------------------ header

  renderHead() {
    if (!this.head) return;
    const c = this.conv();
    const me = this.ctx.me();
    const name = this.ctx.contactName(c);
    const status = c.status;
    const open = isOpen(status);
    const mine = same(c.assignee_id, me.id);
    const contact = c.contact || {};
    const assignee = mine ? t("thread.assignedToYou")
      : c.assignee_id != null ? t("thread.assignedTo", { name: (c.assignee && c.assignee.name) || this.ctx.agentName(c.assignee_id) })
        : t("thread.unassigned");
    const action = (/** @type {string} */ key, /** @type {string} */ testid, /** @type {string} */ path, /** @type {any} */ body, cls = "") => h("button", {
      type: "button", class: `btn ${cls}`, "data-testid": testid, disabled: this.busy ? true : null,
      onclick: () => this.act(path, body),
    }, t(key));
    mount(this.head,
      h("a", { href: "#/", class: "back btn ghost small", "data-testid": "thread-back", "aria-label": t("thread.back") }, "‹"),
      avatar(name, contact.id || c.id, "avatar lg"),
      h("div", { class: "head-main" },
        h("div", { class: "head-title" }, h("h2", {}, name),
          status ? h("span", { class: `pill ${status}`, "data-testid": "conv-status" }, t(`conv.${status}`)) : null),
        h("div", { class: "head-sub" },
          [this.ctx.inboxLabel(c), contact.email, contact.phone, assignee].filter(Boolean).join(" · ")),
        h("div", { class: "chips" },
          c.priority ? h("span", { class: "chip" }, t("thread.priority", { n: c.priority })) : null,
          c.intent ? h("span", { class: "chip intent", "data-testid": "conv-intent", title: t("thread.intentTitle") }, t("thread.intent", { name: intentLabel(c.intent) })) : null,
          skillList(c.skills).map((s) => h("span", { class: "chip skill" }, s))),
        h("div", { class: "chips labels", "data-testid": "thread-labels" },
          (c.labels || []).map((l) => labelChip(l, () => this.setLabels((c.labels || []).filter((x) => x !== l)))),
          h("button", {
            type: "button", class: "btn ghost small", "data-testid": "label-add",
            onclick: () => pickLabels(c.labels || [], (names) => this.setLabels(names)),
          }, icon("tag", "icon tiny"), t("labels.add")))),
      h("div", { class: "actions" },
        open && !mine ? action("thread.assign", "assign-me", "assign", { agent_id: me.id }, "primary") : null,
        open && (mine || me.role !== "agent") ? h("button", {
          type: "button", class: "btn", "data-testid": "handover", disabled: this.busy ? true : null,
          onclick: () => pickHandover(this.conv(), this.ctx.teams(), (got) => {
            if (got && same(got.id, this.id) && got.status) this.ctx.upsertConv(got);
            this.ctx.fetchConv(this.id);
            this.loadActivities();
          }),
        }, c.assignee_id != null ? t("thread.handover") : t("thread.assignTo")) : null,
        open ? action("thread.resolve", "resolve", "resolve", undefined, "success") : null,
        status && !open ? action("thread.reopen", "reopen", "reopen", undefined) : null));
  }

  /**
   * Replaces the conversation's labels.
   * @param {string[]} names
   */
  async setLabels(names) {
    const got = await saveLabels(this.wireId(), names);
    if (got) this.ctx.upsertConv({ id: this.wireId(), labels: got });
  }

  /**
   * @param {string} path
   * @param {any} body
   */
  async act(path, body) {
    this.busy = path;
    this.renderHead();
    try {
      const res = await api.post(`/conversations/${encodeURIComponent(this.id)}/${path}`, body);
      if (res && same(res.id, this.id) && res.status) this.ctx.upsertConv(res);
    } catch (e) {
      toast(errorText(e));
    }
    this.busy = null;
    this.loadActivities();
    await this.ctx.fetchConv(this.id);
    this.renderHead();
  }

  /** Reloads the timeline (after a change here, or an event about this conversation). */
  async loadActivities() {
    try {
      const got = await loadActivities(this.id);
      if (this.closed) return;
      this.activities = got;
      this.renderMessages();
    } catch (e) {
      if (/** @type {any} */ (e).status !== 401) toast(errorText(e));
    }
  }

  // ------------------------------------------------------------ messages

  async loadMessages() {
    if (this.loading) { this.again = true; return; }
    this.loading = true;
    try {
      for (;;) {
        const from = this.lastSeq;
        const data = await api.get(`/conversations/${encodeURIComponent(this.id)}/messages${qs({ after_seq: from, limit: PAGE })}`);
        if (this.closed) return;
        const got = items(data);
        for (const m of got) this.add(m, null, false);
        if (got.length < PAGE || this.lastSeq <= from) break;
      }
    } catch (e) {
      if (/** @type {any} */ (e).status !== 401) toast(errorText(e));
    } finally {
      this.loading = false;
      this.loaded = true;
      this.renderMessages();
    }
    if (this.again) { this.again = false; this.loadMessages(); }
  }

  /** Catch up after the socket reconnects. */
  resync() {
    this.ctx.fetchConv(this.id);
    this.loadMessages();
    this.loadActivities();
  }

  /**
   * @param {string} type
   * @param {any} m
   */
  onMessageEvent(type, m) {
    if (type === "message.updated" || type === "message.failed") {
      const cur = m.id != null && this.msgs.get(`id:${m.id}`);
      if (cur) { merge(cur, m); this.renderMessages(); } else this.loadMessages();
      return;
    }
    const complete = m.id != null && typeof m.seq === "number" && m.content;
    if (!complete || (this.loaded && m.seq > this.lastSeq + 1)) {
      this.loadMessages(); // a gap or a partial payload: ask the server
      return;
    }
    this.add(m);
  }

  /**
   * @param {any} m
   * @param {string|null} [clientId]
   */
  add(m, clientId = null, render = true) {
    if (!m || m.id == null) return;
    for (const cid of [clientId, m.client_id]) if (cid) this.msgs.delete(`local:${cid}`);
    const key = `id:${m.id}`;
    const cur = this.msgs.get(key);
    if (cur) merge(cur, m); else this.msgs.set(key, { ...m });
    if (typeof m.seq === "number" && m.seq > this.lastSeq) this.lastSeq = m.seq;
    if (render) this.renderMessages();
  }

  sorted() {
    return [...this.msgs.values()].sort((a, b) => {
      const as = a.seq ?? Infinity;
      const bs = b.seq ?? Infinity;
      return as !== bs ? as - bs : (a._t || 0) - (b._t || 0);
    });
  }

  renderMessages(forceBottom = false) {
    if (!this.list) return;
    const l = this.list;
    if (forceBottom) this.stick = true;
    const atBottom = this.stick;
    const msgs = this.sorted();
    if (!msgs.length && !this.activities.length) {
      mount(l, h("div", { class: "thread-empty muted" }, this.loaded ? t("thread.nomessages") : t("list.loading")));
      return;
    }
    const c = this.conv();
    const out = [];
    /** @type {string|null} */
    let day = null;
    let prevKey = null;
    // Timeline lines go between the messages by time (a message still being sent has none
    // after it yet).
    let next = 0;
    const acts = this.activities;
    /** @param {string|undefined} before */
    const linesUpTo = (before) => {
      while (next < acts.length && (before === undefined || Date.parse(acts[next].created_at) <= Date.parse(before))) {
        const a = acts[next++];
        const d = fmtDay(a.created_at);
        if (d && d !== day) { out.push(h("div", { class: "day" }, h("span", {}, d))); day = d; }
        out.push(activityLine(a));
        prevKey = null;
      }
    };
    for (const m of msgs) {
      linesUpTo(m._state ? undefined : m.created_at);
      const d = fmtDay(m.created_at);
      if (d && d !== day) { out.push(h("div", { class: "day" }, h("span", {}, d))); day = d; prevKey = null; }
      const sender = m.sender || {};
      if (sender.type === "system") {
        out.push(h("div", { class: "sys-msg", "data-testid": "thread-message", "data-direction": m.direction || "system" },
          (m.content && m.content.text) || ""));
        prevKey = null;
        continue;
      }
      const inbound = m.direction === "inbound";
      const who = inbound ? (sender.name || this.ctx.contactName(c))
        : (sender.name || t(sender.type === "bot" ? "msg.bot" : "msg.system"));
      const key = `${m.direction}:${sender.id ?? who}:${m.private ? 1 : 0}`;
      out.push(this.renderMessage(m, who, key !== prevKey));
      prevKey = key;
    }
    linesUpTo(undefined);
    mount(l, out);
    if (atBottom) l.scrollTop = l.scrollHeight;
  }

  /**
   * @param {any} m
   * @param {string} who
   * @param {boolean} showWho
   */
  renderMessage(m, who, showWho) {
    const inbound = m.direction === "inbound";
    const content = m.content || {};
    const files = (content.attachments || []).map((/** @type {any} */ a) => {
      const href = safeUrl(a.url);
      if (!href) return null;
      if (/^image\//.test(a.mime || "")) {
        return h("a", { class: "att img", "data-testid": "attachment", href, target: "_blank", rel: "noopener noreferrer" }, h("img", { src: href, alt: a.name || "" }));
      }
      return h("a", { class: "att file", "data-testid": "attachment", href, target: "_blank", rel: "noopener noreferrer" },
        icon("clip"), a.name || href, a.size ? h("span", { class: "muted" }, ` ${fmtSize(a.size)}`) : null);
    });
    return h("div", {
      class: `msg ${inbound ? "in" : "out"}${m.private ? " private" : ""}`,
      "data-testid": "thread-message", "data-direction": m.direction, "data-id": m.id ?? null,
      "data-private": m.private ? "true" : null,
    },
    showWho ? h("div", { class: "who" }, m.private ? [icon("lock"), `${t("msg.private")} · ${who}`] : who) : null,
    h("div", { class: "bubble" }, content.text ? (m.private ? withMentions(content.text, this.ctx.teams()) : linkified(content.text)) : null, files),
    h("div", { class: "meta" }, h("time", { datetime: m.created_at, title: fmtFull(m.created_at) }, fmtClock(m.created_at)),
      inbound || m.private ? null : this.deliveryBadge(m)));
  }

  /** @param {any} m */
  deliveryBadge(m) {
    if (m._state === "failed") {
      return h("span", { class: "delivery failed", "data-testid": "delivery-status", "data-status": "failed" },
        ` · ${t("msg.notSent")}${m._error ? `: ${m._error}` : ""} `,
        h("button", { type: "button", class: "link", "data-testid": "msg-retry", onclick: () => this.send(m.content.text, m.private, m.client_id, m._files || []) }, t("msg.retry")));
    }
    const st = (m.delivery && m.delivery.status) || "pending";
    /** @type {Record<string, string>} */
    const labels = { pending: "msg.pending", sent: "msg.sent", delivered: "msg.delivered", failed: "msg.failed" };
    const label = labels[st] || st;
    // Known failures in the agent's language; the server's own words in English, or on a
    // secondary line elsewhere.
    const failed = st === "failed" && m.delivery.error ? failureText(String(m.delivery.error)) : null;
    /** @type {Record<string, string>} */
    const marks = { pending: "◷", sent: "✓", delivered: "✓✓", failed: "⚠" };
    const mark = marks[st] || "";
    const me = this.ctx.me();
    const canRetry = st === "failed" && m.id != null && (me.role !== "agent" || same(m.sender && m.sender.id, me.id));
    return h("span", { class: `delivery ${st}`, "data-testid": "delivery-status", "data-status": st, "data-code": failed && failed.code },
      ` · ${mark} ${t(label)}${failed ? `: ${failed.text}` : ""}`,
      failed && failed.extra ? h("span", { class: "error-extra", "data-testid": "delivery-reason" }, failed.extra) : null,
      fallbackNote(m.delivery),
      canRetry ? h("button", { type: "button", class: "link", "data-testid": "delivery-retry", onclick: () => this.retryDelivery(m) }, ` ${t("msg.retry")}`) : null);
  }

  /**
   * Sends a reply whose delivery failed again.
   * @param {any} m
   */
  async retryDelivery(m) {
    try {
      await api.post(`/messages/${encodeURIComponent(m.id)}/retry`, {});
      m.delivery = { ...m.delivery, status: "pending", error: null };
      this.renderMessages();
    } catch (e) {
      toast(errorText(e));
    }
  }

  renderTyping() {
    if (!this.typing) return;
    const who = this.ctx.typingOf();
    mount(this.typing, who ? [h("span", { class: "dots" }, h("i"), h("i"), h("i")),
      t("thread.typing", { name: who.name || this.ctx.contactName(this.conv()) })] : null);
  }

  // ------------------------------------------------------------ composer

  buildComposer() { return buildComposer(this); }

  /** @param {boolean} on */
  setTyping(on) {
    clearTimeout(this.typingIdle);
    if (on) {
      if (!this.typingOn || Date.now() - this.typingAt > 3000) {
        this.ctx.sendFrame({ type: "typing", conversation_id: this.wireId(), on: true });
        this.typingAt = Date.now();
      }
      this.typingOn = true;
      this.typingIdle = window.setTimeout(() => this.setTyping(false), 4000);
    } else if (this.typingOn) {
      this.typingOn = false;
      this.ctx.sendFrame({ type: "typing", conversation_id: this.wireId(), on: false });
    }
  }

  /**
   * @param {string} text
   * @param {boolean} note
   * @param {string} [clientId]
   * @param {PendingFile[]} [files]
   * @param {{agent_ids: number[], team_ids: number[]}} [mentions]
   */
  async send(text, note, clientId = randomId(), files = [], mentions = undefined) {
    const me = this.ctx.me();
    /** @type {Record<string, any>} */
    const local = {
      client_id: clientId, _state: "sending", _t: Date.now(), direction: "outbound", private: !!note,
      _files: files, sender: { type: "agent", id: me.id, name: me.name }, content: { text, attachments: files },
      delivery: { status: "pending" }, created_at: new Date().toISOString(),
    };
    this.msgs.set(`local:${clientId}`, local);
    this.renderMessages(true);
    try {
      const res = await api.post(`/conversations/${encodeURIComponent(this.id)}/messages`,
        { text, client_id: clientId, private: !!note, attachments: files.map((f) => f.id), mentions });
      const m = res && (res.message || res);
      if (m && m.id != null) this.add(m, clientId);
      else { this.msgs.delete(`local:${clientId}`); this.loadMessages(); }
      if (!note) this.ctx.onPreview(this.id, text);
    } catch (e) {
      local._state = "failed";
      local._error = errorText(e);
      this.renderMessages();
    }
  }
}

/**
 * @param {any} cur
 * @param {any} m
 */
function merge(cur, m) {
  // A reply's own POST answer (pending) may arrive after the events of its first attempt: a
  // pending state never replaces one that is further along.
  const stale = m.delivery && cur.delivery && m.delivery.status === "pending" && cur.delivery.status !== "pending"
    && (m.delivery.attempts || 0) <= (cur.delivery.attempts || 0);
  const delivery = m.delivery && !stale ? { ...(cur.delivery || {}), ...m.delivery } : cur.delivery;
  for (const [k, v] of Object.entries(m)) if (v !== undefined) cur[k] = v;
  cur.delivery = delivery;
  delete cur._state;
}

/**
 * @param {any} skills
 * @returns {string[]}
 */
function skillList(skills) {
  if (!skills) return [];
  if (Array.isArray(skills)) return skills.map((/** @type {any} */ s) => (typeof s === "string" ? s : s.name || s.skill)).filter(Boolean);
  return Object.entries(skills).map(([k, v]) => (typeof v === "number" ? `${k} ≥${v}` : k));
}

/** @param {number} n */
function fmtSize(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1048576) return `${(n / 1024).toFixed(0)} KB`;
  return `${(n / 1048576).toFixed(1)} MB`;
}
