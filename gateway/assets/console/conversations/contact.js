// The contact panel beside the thread: who the customer is across channels (identities), their
// name, email, phone and custom attributes (one input of each attribute's kind, saved with
// `PATCH /contacts/{id}`), their other conversations on every channel, and merging another
// contact, found by name, email, phone or channel id, into this one (supervisors and admins).
// The thread shows the open conversation's contact (`setConv`); the contacts page any contact
// (`showContact`).

import { api, qs, items } from "../api.js";
import { t, registerStrings } from "../i18n.js";
import { h, mount, toast, icon, fmtDay, shortId } from "../dom.js";
import { errorText } from "../errors.js";
import { store } from "../store.js";
import { href } from "../router.js";
import { field, input, select, openDialog, confirmDialog, formErrors, submitting } from "../forms/index.js";
import { inboxLabel, sameId } from "./names.js";
import strings from "./contact-strings.js";

registerStrings(strings);

/** @typedef {import("../types.js").Conversation} Conversation */

/**
 * A custom attribute definition (`GET /api/v1/attribute-definitions`).
 * @typedef {Object} AttributeDef
 * @property {number} id
 * @property {string} key
 * @property {string} label
 * @property {"text"|"number"|"date"|"list"|"checkbox"|"link"} type
 * @property {string[]} options
 */

/**
 * A contact (`GET /api/v1/contacts/{id}`).
 * @typedef {Object} Contact
 * @property {number} id
 * @property {string|null} name
 * @property {string|null} email
 * @property {string|null} phone
 * @property {Record<string, any>} attributes
 * @property {{inbox_id: number, external_id: string, display_name: string|null}[]} identities
 * @property {string} created_at
 */

/** The icon of each channel type. */
const CHANNEL_ICONS = /** @type {Record<string, string>} */ ({
  web_chat: "chat", email: "mail", app_push: "phone", wechat: "bubbles", wecom_kf: "bubbles",
});

/**
 * An input of the attribute's kind, holding `value`, and how to read it back (`null`: unset).
 * @param {AttributeDef} d
 * @param {any} value
 * @returns {{control: HTMLElement, read: () => any}}
 */
function attributeInput(d, value) {
  const testid = `contact-attr-${d.key}`;
  if (d.type === "checkbox") {
    const box = h("input", { type: "checkbox", checked: value === true, "data-testid": testid });
    return { control: box, read: () => box.checked };
  }
  if (d.type === "list") {
    const opts = /** @type {[string, string][]} */ ([["", t("contact.unset")], ...d.options.map((o) => [o, o])]);
    const el = select({ testid }, opts, typeof value === "string" ? value : "");
    return { control: el, read: () => el.value || null };
  }
  const type = { number: "number", date: "date", link: "url", text: "text" }[d.type] || "text";
  const el = input({ type, testid, value: value == null ? "" : String(value), step: d.type === "number" ? "any" : null });
  return {
    control: el,
    read: () => {
      const v = el.value.trim();
      if (!v) return null;
      if (d.type === "number") { const n = Number(v); return Number.isFinite(n) ? n : v; }
      return v;
    },
  };
}

export class ContactPanel {
  constructor() {
    this.el = h("aside", { class: "contact-panel", "data-testid": "contact-panel", "aria-label": t("contact.title") });
    /** @type {number|string|null} */
    this.contactId = null;
    /** @type {number|string|null} the open conversation */
    this.convId = null;
    /** @type {Contact|null} */
    this.contact = null;
    /** @type {AttributeDef[]} */
    this.defs = [];
    /** @type {Conversation[]} */
    this.convs = [];
    /** @type {import("../types.js").Csat[]} the contact's satisfaction surveys, newest first */
    this.csat = [];
    /** @type {(() => void)|null} called after the contact was saved or merged */
    this.onChanged = null;
  }

  /**
   * Shows contact `id` with all of its conversations (the contacts page).
   * @param {number|string} id
   */
  showContact(id) {
    this.convId = null;
    if (sameId(id, this.contactId) && this.contact) return;
    this.contactId = id;
    this.contact = null;
    this.render();
    this.load();
  }

  /**
   * The open conversation changed (or was loaded): follow its contact.
   * @param {Conversation} c
   */
  setConv(c) {
    this.convId = c.id;
    const id = c.contact && c.contact.id;
    if (id == null || sameId(id, this.contactId)) return;
    this.contactId = id;
    this.contact = null;
    this.render();
    this.load();
  }

  /** Reads the contact, the attribute definitions and the contact's conversations. */
  async load() {
    const id = this.contactId;
    try {
      const [contact, defs, convs] = await Promise.all([
        api.get(`/contacts/${id}`),
        api.get("/attribute-definitions"),
        api.get(`/conversations${qs({ contact_id: id, limit: 50 })}`),
      ]);
      if (!sameId(id, this.contactId)) return;
      this.contact = contact;
      this.defs = items(defs);
      this.convs = items(convs);
      this.render();
      await this.loadCsat();
    } catch (e) {
      if (sameId(id, this.contactId)) mount(this.el, h("p", { class: "muted" }, errorText(e)));
    }
  }

  /** Reads the contact's satisfaction ratings (seen through the open conversation). */
  async loadCsat() {
    const id = this.contactId, conv = this.convId;
    if (conv == null) return;
    const got = /** @type {import("../types.js").Csat[]} */ (items(await api.get(`/conversations/${encodeURIComponent(String(conv))}/csat`)));
    if (!sameId(id, this.contactId)) return;
    this.csat = got;
    if (this.contact) this.render();
  }

  render() {
    const c = this.contact;
    if (!c) { mount(this.el, h("p", { class: "muted" }, t("contact.loading"))); return; }
    const me = store.get("me");
    mount(this.el,
      h("h3", {}, t("contact.title"), " ", h("span", { class: "muted" }, `#${shortId(c.id)}`),
        this.convId != null ? h("a", { href: href("contacts", c.id), class: "contact-page-link", "data-testid": "contact-open-page" }, t("contact.open")) : null),
      this.identities(c),
      this.satisfaction(),
      this.form(c),
      this.history(),
      me && me.role !== "agent" ? h("button", {
        type: "button", class: "btn small", "data-testid": "contact-merge", onclick: () => this.merge(),
      }, t("contact.merge")) : null);
  }

  /** @param {Contact} c */
  identities(c) {
    const inboxes = store.get("inboxes");
    return h("section", { class: "contact-section" },
      h("h4", {}, t("contact.identities")),
      c.identities.length ? h("ul", { class: "contact-identities" }, c.identities.map((i) => {
        const ib = inboxes.get(String(i.inbox_id));
        const type = ib && ib.channel && ib.channel.type;
        return h("li", { "data-testid": "contact-identity", "data-channel": type || "" },
          icon(CHANNEL_ICONS[type || ""] || "inbox", "icon tiny"), " ",
          h("span", { class: "muted" }, inboxLabel({ id: 0, inbox_id: i.inbox_id })), " ",
          h("code", {}, i.external_id));
      })) : h("p", { class: "muted" }, t("contact.noIdentities")));
  }

  /** @param {Contact} c */
  form(c) {
    const name = input({ testid: "contact-name", value: c.name || "", maxlength: "255" });
    const email = input({ type: "email", testid: "contact-email", value: c.email || "" });
    const phone = input({ type: "tel", testid: "contact-phone", value: c.phone || "" });
    const attrs = this.defs.map((d) => ({ d, ...attributeInput(d, c.attributes ? c.attributes[d.key] : undefined) }));
    const save = h("button", { type: "submit", class: "btn primary small", "data-testid": "contact-save" }, t("contact.save"));
    const f = h("form", { class: "stack contact-form", novalidate: true, "data-testid": "contact-form" },
      h("h4", {}, t("contact.details")),
      field({ label: t("contact.name"), control: name, name: "name" }),
      field({ label: t("contact.email"), control: email, name: "email" }),
      field({ label: t("contact.phone"), control: phone, name: "phone" }),
      h("h4", {}, t("contact.attributes")),
      attrs.length ? attrs.map((a) => field({ label: a.d.label, control: a.control, name: `attributes.${a.d.key}`, inline: a.d.type === "checkbox" }))
        : h("p", { class: "muted" }, t("contact.noAttributes")),
      h("div", { class: "form-actions" }, save));
    const errors = formErrors(f);
    f.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      /** @type {Record<string, any>} */
      const changes = {};
      for (const a of attrs) {
        const now = a.read();
        const before = c.attributes ? c.attributes[a.d.key] : undefined;
        if (now === null ? before != null : now !== before) changes[a.d.key] = now;
      }
      const body = { name: name.value.trim() || null, email: email.value.trim() || null, phone: phone.value.trim() || null, attributes: changes };
      await submitting(save, errors, async () => {
        this.contact = await api.patch(`/contacts/${c.id}`, body);
        toast(t("contact.saved"), "info");
        this.render();
        if (this.onChanged) this.onChanged();
      });
    });
    return f;
  }

  /** This conversation's rating and the customer's average, when there are ratings. */
  satisfaction() {
    const rated = this.csat.filter((s) => s.status === "submitted" && s.rating != null);
    const here = this.csat.find((s) => sameId(s.conversation_id, this.convId));
    if (!rated.length && !here) return null;
    const stars = (/** @type {number} */ n) => "★".repeat(n) + "☆".repeat(5 - n);
    const avg = rated.length ? rated.reduce((a, s) => a + Number(s.rating), 0) / rated.length : 0;
    const line = !here ? null
      : here.status === "submitted" ? h("p", { "data-testid": "contact-csat-here", "data-rating": String(here.rating) },
        h("span", { class: "csat-stars", "aria-label": t("contact.csatRating", { rating: here.rating ?? 0 }) }, stars(Number(here.rating))),
        here.comment ? h("span", { class: "muted" }, ` “${here.comment}”`) : null)
        : h("p", { class: "muted", "data-testid": "contact-csat-here", "data-status": here.status },
          t(here.status === "skipped" ? "contact.csatSkipped" : "contact.csatWaiting"));
    return h("section", { class: "contact-section", "data-testid": "contact-csat" },
      h("h4", {}, t("contact.csat")),
      line,
      rated.length ? h("p", { class: "muted", "data-testid": "contact-csat-average" },
        t("contact.csatAverage", { average: avg.toFixed(1), count: rated.length })) : null);
  }

  history() {
    const others = this.convs.filter((x) => !sameId(x.id, this.convId));
    return h("section", { class: "contact-section" },
      h("h4", {}, t("contact.history")),
      others.length ? h("ul", { class: "contact-history" }, others.map((x) =>
        h("li", { "data-testid": "contact-conversation", "data-id": String(x.id) },
          h("a", { href: `#/c/${x.id}` }, inboxLabel(x)), " ",
          x.status ? h("span", { class: `pill ${x.status}` }, t(`conv.${x.status}`)) : null, " ",
          x.last_message_at ? h("span", { class: "muted" }, fmtDay(x.last_message_at)) : null)))
        : h("p", { class: "muted" }, t("contact.noHistory")));
  }

  /**
   * Asks which contact to merge into this one (searched by name, email, phone, channel id or
   * contact id), confirms, and merges.
   */
  merge() {
    const c = this.contact;
    if (!c) return;
    const name = contactLabel(c);
    const search = input({ type: "search", testid: "contact-merge-search", autocomplete: "off", maxlength: "200", placeholder: t("contact.mergeSearch") });
    const results = h("ul", { class: "merge-results", "data-testid": "contact-merge-results", "aria-label": t("contact.mergeResults") });
    const f = h("form", { class: "stack", novalidate: true },
      field({ label: t("contact.mergeOther"), control: search, name: "q", help: t("contact.mergeHelp", { name }) }),
      results);
    f.addEventListener("submit", (ev) => { ev.preventDefault(); find(); });
    /** @type {ReturnType<typeof setTimeout>|undefined} */
    let timer;
    let asked = "";
    const find = async () => {
      const q = search.value.trim();
      asked = q;
      if (!q) { mount(results); return; }
      try {
        const found = items(await api.get(`/contacts${qs({ q, limit: 10 })}`)).filter((x) => !sameId(x.id, c.id));
        if (asked !== q) return;
        mount(results, found.length ? found.map((x) => h("li", {},
          h("button", {
            type: "button", class: "merge-result", "data-testid": "contact-merge-result", "data-id": String(x.id),
            onclick: () => pick(x),
          }, h("strong", {}, contactLabel(x)), " ", h("span", { class: "muted" }, contactDetail(x)))))
          : h("li", { class: "muted", "data-testid": "contact-merge-none" }, t("contact.mergeNone")));
      } catch (e) {
        if (asked === q) mount(results, h("li", { class: "field-error" }, errorText(e)));
      }
    };
    search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(find, 250); });
    /** @param {Contact} other */
    const pick = async (other) => {
      const otherName = contactLabel(other);
      close();
      const yes = await confirmDialog(t("contact.mergeConfirmTitle", { other: otherName, name }),
        t("contact.mergeConfirmText", { other: otherName }), t("contact.mergeConfirm"));
      if (!yes) return;
      try {
        this.contact = await api.post(`/contacts/${c.id}/merge`, { other_id: other.id });
        toast(t("contact.merged"), "info");
        if (this.onChanged) this.onChanged();
        await this.load();
      } catch (e) { toast(errorText(e)); }
    };
    const close = openDialog({ title: t("contact.mergeTitle", { name }), body: f, testid: "contact-merge-dialog" });
    search.focus();
  }
}

/**
 * What a contact is called: its name, else its email, else its number.
 * @param {{id: number|string, name?: string|null, email?: string|null}} c
 */
export function contactLabel(c) {
  return c.name || c.email || `#${shortId(c.id)}`;
}

/**
 * A contact's other details in one line: email, phone and channel ids not already its label.
 * @param {Contact} c
 */
export function contactDetail(c) {
  const label = contactLabel(c);
  const parts = [c.email, c.phone, ...(c.identities || []).map((i) => i.external_id)];
  return [...new Set(parts.filter((p) => p && p !== label))].join(" · ");
}
