// The settings shell: navigation of the pages the role may see, and the open page.

import { api } from "../api.js";
import { t, registerStrings } from "../i18n.js";
import { h, mount, toast } from "../dom.js";
import { errorText } from "../errors.js";
import { store } from "../store.js";
import { href, navigate } from "../router.js";
import { PAGES, visiblePages } from "./registry.js";
import strings from "./strings.js";

registerStrings(strings);

/** @typedef {import("./page.js").Page} Page */

export class Settings {
  constructor() {
    /** @type {(() => void)|null} */
    this.cleanup = null;
    this.nav = h("nav", { class: "settings-nav", "aria-label": t("settings.nav"), "data-testid": "settings-nav" });
    this.content = h("main", { class: "settings-content", id: "content", tabindex: "-1" });
    this.el = h("div", { class: "body settings" }, this.nav, this.content);
    /** @type {string|null} */
    this.shown = null;
    /** @type {(() => unknown)|null} the open page's unsaved state (see `PageContext.keep`) */
    this.keeper = null;
  }

  /**
   * Shows page `id` (or the first the role may see) in `container`.
   * @param {HTMLElement} container
   * @param {string} id
   * @param {string[]} rest
   * @param {boolean} [force] render again even when it is already shown (language change); the
   *   page gets back what it asked to keep (`PageContext.draft`)
   * @returns {Promise<void>} settles when the page has rendered
   */
  show(container, id, rest, force = false) {
    if (this.el.parentNode !== container) mount(container, this.el);
    const me = store.get("me");
    const pages = visiblePages(me?.role);
    const page = pages.find((p) => p.id === id);
    if (!page) {
      if (!id || !PAGES.some((p) => p.id === id)) {
        if (pages[0]) navigate(href("settings", pages[0].id), { replace: true });
        return Promise.resolve();
      }
      this.leave();
      this.renderNav(pages, id);
      mount(this.content, h("p", { class: "muted", "data-testid": "not-allowed" }, t("settings.notAllowed")));
      return Promise.resolve();
    }
    const key = `${id}/${rest.join("/")}`;
    this.renderNav(pages, id);
    if (!force && this.shown === key) return Promise.resolve();
    const draft = force && this.shown === key && this.keeper ? this.keeper() : undefined;
    this.leave();
    this.shown = key;
    const box = h("div", { class: "page", "data-testid": `page-${page.id}` });
    mount(this.content, h("h1", { class: "page-title" }, t(page.titleKey)), box);
    document.title = `${t(page.titleKey)} · ${t("app.title")}`;
    return this.run(page, box, rest, draft);
  }

  /**
   * @param {Page} page
   * @param {HTMLElement} box
   * @param {string[]} rest
   * @param {unknown} draft
   */
  async run(page, box, rest, draft) {
    const me = /** @type {import("../types.js").Profile} */ (store.get("me"));
    const keep = (/** @type {() => unknown} */ fn) => { if (box.isConnected) this.keeper = fn; };
    try {
      const done = await page.render(box, { api, t, store, me, navigate, href, rest, draft, keep });
      if (typeof done === "function") {
        if (box.isConnected) this.cleanup = done;
        else done();
      }
    } catch (e) {
      toast(errorText(e));
      mount(box, h("p", { class: "form-error" }, t("settings.loadFailed")));
    }
  }

  /** Cleans up the page shown (it is being replaced or the view is left). */
  leave() {
    this.cleanup?.();
    this.cleanup = null;
    this.shown = null;
    this.keeper = null;
  }

  /**
   * @param {Page[]} pages
   * @param {string} current
   */
  renderNav(pages, current) {
    this.nav.setAttribute("aria-label", t("settings.nav"));
    mount(this.nav, h("ul", {}, pages.map((p) => h("li", {},
      h("a", {
        href: href("settings", p.id), class: `nav-link${p.id === current ? " on" : ""}`,
        "aria-current": p.id === current ? "page" : null, "data-testid": `nav-${p.id}`,
      }, t(p.titleKey))))));
  }
}
