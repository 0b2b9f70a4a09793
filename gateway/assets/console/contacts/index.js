// The contacts page (`#/contacts`, `#/contacts/<id>`): every contact the agent sees, newest
// first, found by name, email, phone, channel ID or number (`GET /contacts?q=`), and the chosen
// one in the same panel the thread shows beside a conversation, with all of their
// conversations, editing and merging, and a form that sends them a notification.

import { api, qs, items } from "../api.js";
import { t, registerStrings } from "../i18n.js";
import { h, mount, icon, avatar, fmtDay } from "../dom.js";
import { errorText } from "../errors.js";
import { href, navigate } from "../router.js";
import { ContactPanel, contactLabel, contactDetail } from "../conversations/contact.js";
import { sameId } from "../conversations/names.js";
import { NotifyForm } from "./notify.js";
import strings from "./strings.js";

registerStrings(strings);

/** @typedef {import("../conversations/contact.js").Contact} Contact */

const PAGE = 50;
const DEBOUNCE_MS = 250;

export class Contacts {
  constructor() {
    this.panel = new ContactPanel();
    this.panel.onChanged = () => this.load();
    this.notify = new NotifyForm();
    this.q = "";
    /** @type {Contact[]} */
    this.items = [];
    /** @type {string|null} */
    this.next = null;
    /** @type {string|null} an error to show in place of the list */
    this.error = null;
    this.loading = false;
    /** @type {number|string|null} */
    this.selected = null;
    /** Counts loads, so that an older answer never replaces a newer one. */
    this.asked = 0;
    /** @type {ReturnType<typeof setTimeout>|undefined} */
    this.timer = undefined;
    this.box = /** @type {HTMLInputElement} */ (h("input", {
      type: "search", class: "input", "data-testid": "contacts-search", maxlength: "200", autocomplete: "off",
    }));
    this.box.addEventListener("input", () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => { this.q = this.box.value.trim(); this.load(); }, DEBOUNCE_MS);
    });
    this.box.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape" && this.box.value) { this.box.value = ""; this.q = ""; this.load(); }
    });
    this.listEl = h("ul", { class: "contacts-list", "data-testid": "contacts-list" });
    this.side = h("section", { class: "contacts-side" });
    this.detail = h("div", { class: "contacts-detail", "data-testid": "contacts-detail" });
    this.el = h("div", { class: "contacts-view", "data-testid": "contacts-view" }, this.side, this.detail);
    this.relabel();
  }

  /** Strings that live in elements kept across renders. */
  relabel() {
    this.box.placeholder = t("contacts.searchHint");
    this.box.setAttribute("aria-label", t("contacts.search"));
    this.listEl.setAttribute("aria-label", t("contacts.list"));
    mount(this.side,
      h("h2", { class: "contacts-title" }, icon("user"), " ", t("contacts.title")),
      h("div", { class: "search-box" }, icon("search", "icon tiny"), this.box),
      this.listEl);
  }

  /**
   * Shows the page in `container`, with contact `id` open when given.
   * @param {HTMLElement} container
   * @param {string|undefined} id
   * @param {boolean} [force] render again (language change)
   */
  show(container, id, force = false) {
    const fresh = this.el.parentNode !== container;
    if (fresh) mount(container, this.el);
    if (force) { this.relabel(); this.panel.contact && this.panel.render(); this.notify.render(); }
    this.selected = id || null;
    if (id) {
      if (this.panel.el.parentNode !== this.detail) mount(this.detail, this.panel.el, this.notify.el);
      this.panel.showContact(id);
      this.notify.show(id);
    } else {
      mount(this.detail, h("p", { class: "muted contacts-pick" }, t("contacts.pick")));
    }
    if (fresh || force) this.load(); else this.renderList();
  }

  /** Reads the first page for the current query. */
  async load() {
    const n = ++this.asked;
    this.loading = true;
    try {
      const page = await api.get(`/contacts${qs({ q: this.q || undefined, limit: PAGE })}`);
      if (n !== this.asked) return;
      this.items = items(page);
      this.next = page.next_cursor || null;
      this.error = null;
    } catch (e) {
      if (n !== this.asked) return;
      this.error = errorText(e);
    }
    this.loading = false;
    this.renderList();
  }

  /** Reads the next page. */
  async more() {
    const n = this.asked;
    const page = await api.get(`/contacts${qs({ q: this.q || undefined, limit: PAGE, cursor: this.next || undefined })}`)
      .catch((e) => { this.error = errorText(e); return null; });
    if (n !== this.asked) return;
    if (page) {
      this.items = this.items.concat(items(page));
      this.next = page.next_cursor || null;
    }
    this.renderList();
  }

  renderList() {
    if (this.error) { mount(this.listEl, h("li", { class: "field-error" }, this.error)); return; }
    if (!this.items.length) {
      mount(this.listEl, this.loading ? null : h("li", { class: "muted", "data-testid": "contacts-empty" },
        this.q ? t("contacts.none", { q: this.q }) : t("contacts.empty")));
      return;
    }
    mount(this.listEl,
      this.items.map((c) => {
        const on = this.selected != null && sameId(c.id, this.selected);
        return h("li", {},
          h("a", {
            href: href("contacts", c.id), class: `contact-row${on ? " on" : ""}`, "aria-current": on ? "page" : null,
            "data-testid": "contact-row", "data-id": String(c.id),
          },
          avatar(contactLabel(c), c.id),
          h("span", { class: "contact-row-text" },
            h("strong", {}, contactLabel(c)),
            h("span", { class: "muted" }, contactDetail(c) || t("contacts.since", { day: fmtDay(c.created_at) })))));
      }),
      this.next ? h("li", {}, h("button", {
        type: "button", class: "btn small", "data-testid": "contacts-more", onclick: () => this.more(),
      }, t("contacts.more"))) : null);
  }

  /** Leaves the page: nothing runs in the background. */
  leave() {
    clearTimeout(this.timer);
  }

  /** Opens contact `id` (from elsewhere in the console). @param {number|string} id */
  static open(id) { navigate(href("contacts", id)); }
}
