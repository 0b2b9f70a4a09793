// "Send notification" on the contacts page: a proactive message to the open contact
// (`POST /contacts/{id}/notifications`), through the channel they used last ("best") or one of
// their channel types. Each attempt carries an idempotency key kept until it succeeds, so a
// double click or a retry after a network error never sends twice.

import { api } from "../api.js";
import { t } from "../i18n.js";
import { h, mount } from "../dom.js";
import { errorText } from "../errors.js";
import { store } from "../store.js";
import { loadDirectory, sameId } from "../conversations/names.js";

/** Error codes of this endpoint with a text of their own (`contacts.notify.error.<code>`). */
const CODES = new Set([
  "empty_text", "text_too_long", "missing_idempotency_key", "invalid_idempotency_key",
  "unknown_channel_type", "invalid_channels", "no_reachable_identity",
]);

/** A fresh idempotency key. */
function newKey() {
  return globalThis.crypto && crypto.randomUUID
    ? crypto.randomUUID()
    : `${Date.now()}-${Math.random().toString(36).slice(2)}`;
}

/** The text of an error of this form: ours for the endpoint's codes, the console's otherwise. */
function notifyError(/** @type {unknown} */ e) {
  const code = /** @type {{code?: string|null}} */ (e || {}).code || "";
  return CODES.has(code) ? t(`contacts.notify.error.${code}`) : errorText(e);
}

export class NotifyForm {
  constructor() {
    this.el = h("section", { class: "contact-notify", "data-testid": "contact-notify" });
    /** @type {number|string|null} */
    this.contactId = null;
    /** @type {string[]} the contact's channel types, in the order of their identities */
    this.types = [];
    this.key = newKey();
    /** @type {{message_id: number, conversation_id: number}|null} */
    this.result = null;
    /** @type {string|null} */
    this.error = null;
    this.sending = false;
    this.text = /** @type {HTMLTextAreaElement} */ (h("textarea", {
      class: "input", rows: "3", "data-testid": "notify-text",
    }));
    this.channel = /** @type {HTMLSelectElement} */ (h("select", { class: "input", "data-testid": "notify-channel" }));
  }

  /** Shows the form for contact `id`. @param {number|string} id */
  show(id) {
    if (sameId(id, this.contactId)) return;
    this.contactId = id;
    this.types = [];
    this.text.value = "";
    this.result = null;
    this.error = null;
    this.key = newKey();
    this.render();
    this.loadTypes(id);
  }

  /** Reads the contact's identities and names their channel types. @param {number|string} id */
  async loadTypes(id) {
    /** @type {{identities?: {inbox_id: number}[]}|null} */
    const contact = await api.get(`/contacts/${id}`).catch(() => null);
    if (!contact || !sameId(id, this.contactId)) return;
    const fill = () => {
      const inboxes = store.get("inboxes");
      /** @type {string[]} */
      const types = [];
      for (const i of contact.identities || []) {
        const ib = inboxes.get(String(i.inbox_id));
        const type = ib && ib.channel && ib.channel.type;
        if (type && !types.includes(type)) types.push(type);
      }
      this.types = types;
      this.render();
    };
    if (!store.get("inboxes").size) await loadDirectory("inboxes", "/inboxes", () => {});
    fill();
  }

  render() {
    const chosen = this.channel.value || "best";
    mount(this.channel,
      h("option", { value: "best" }, t("contacts.notify.best")),
      this.types.map((type) => h("option", { value: type }, t(`channel.${type}`))));
    this.channel.value = this.types.includes(chosen) ? chosen : "best";
    this.text.placeholder = t("contacts.notify.placeholder");
    const textId = `notify-text-${this.contactId}`;
    const channelId = `notify-channel-${this.contactId}`;
    this.text.id = textId;
    this.channel.id = channelId;
    const r = this.result;
    mount(this.el,
      h("h3", { class: "contact-notify-title" }, t("contacts.notify.title")),
      h("form", { class: "contact-notify-form", onsubmit: (/** @type {Event} */ ev) => { ev.preventDefault(); this.send(); } },
        h("div", { class: "field" }, h("label", { for: textId }, t("contacts.notify.text")), this.text),
        h("div", { class: "field" }, h("label", { for: channelId }, t("contacts.notify.channel")), this.channel),
        h("button", { type: "submit", class: "btn primary small", "data-testid": "notify-send", disabled: this.sending },
          this.sending ? t("contacts.notify.sending") : t("contacts.notify.send"))),
      this.error ? h("p", { class: "field-error", role: "alert", "data-testid": "notify-error" }, this.error) : null,
      r ? h("p", { class: "muted", role: "status", "data-testid": "notify-result" },
        t("contacts.notify.sent"), " ",
        h("a", { href: `#/c/${r.conversation_id}`, "data-testid": "notify-conversation" },
          t("contacts.notify.open", { id: r.conversation_id }))) : null);
  }

  async send() {
    if (this.sending || this.contactId == null) return;
    const text = this.text.value;
    if (!text.trim()) {
      this.error = t("contacts.notify.error.empty_text");
      this.result = null;
      this.render();
      return;
    }
    const choice = this.channel.value;
    /** @type {{text: string, idempotency_key: string, channels?: string[]}} */
    const body = { text, idempotency_key: this.key };
    if (choice && choice !== "best") body.channels = [choice];
    const id = this.contactId;
    this.sending = true;
    this.error = null;
    this.render();
    try {
      const r = await api.post(`/contacts/${id}/notifications`, body);
      if (!sameId(id, this.contactId)) return;
      this.result = { message_id: r.message_id, conversation_id: r.conversation_id };
      this.text.value = "";
      this.key = newKey();
    } catch (e) {
      if (!sameId(id, this.contactId)) return;
      this.result = null;
      this.error = notifyError(e);
      // A refusal means nothing was stored: the next attempt may reuse the key, which is
      // what keeps a retry after a lost answer from sending twice.
    } finally {
      this.sending = false;
    }
    this.render();
  }
}
