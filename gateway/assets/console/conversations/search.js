// Full-text search from the list's sidebar: messages, contact names and identities, and email
// subjects, in Chinese and English alike. While a query is in the box the sidebar shows its
// results, best match first, each with the passage that matched highlighted, within the
// filter bar's filters; "More results" pages on. Escape or the clear button goes back to the
// tabs.

import { api, qs, items } from "../api.js";
import { t } from "../i18n.js";
import { h, mount, icon } from "../dom.js";
import { errorText } from "../errors.js";
import { sameId } from "./names.js";
import { row } from "./list.js";

/** @typedef {import("../types.js").Conversation} Conversation */
/** @typedef {Conversation & {match?: {field: string, snippet: string, message_id?: number}|null}} Found */

const PAGE = 20;
/** The longest query the server takes (`MAX_QUERY_CHARS`). */
const MAX_CHARS = 200;
const DEBOUNCE_MS = 250;

/**
 * The passage the server highlighted: HTML whose only tags are `<mark>`; everything else is
 * escaped already. Rebuilt as DOM nodes so nothing else from it can become markup.
 * @param {string} html
 * @returns {(string|HTMLElement)[]}
 */
export function snippetNodes(html) {
  const text = (/** @type {string} */ s) => {
    const el = document.createElement("textarea");
    el.innerHTML = s;
    return el.value;
  };
  /** @type {(string|HTMLElement)[]} */
  const out = [];
  const parts = html.split(/<mark>|<\/mark>/);
  parts.forEach((p, i) => {
    if (!p) return;
    out.push(i % 2 ? h("mark", {}, text(p)) : text(p));
  });
  return out;
}

/**
 * Search state and its two pieces of UI: the box (above the tabs) and the results (in place
 * of the list).
 */
export class ConversationSearch {
  /**
   * @param {Object} x
   * @param {() => Record<string, any>} x.filterParams the filter bar's query parameters
   * @param {() => void} x.onChange the sidebar must render again
   * @param {(c: Conversation) => void} x.upsert a result row's conversation, for the thread
   * @param {any} x.names contactName, inboxLabel and agentName for rows
   */
  constructor(x) {
    this.x = x;
    this.q = "";
    /** @type {Found[]} */
    this.results = [];
    /** @type {string|null} */
    this.next = null;
    this.loading = false;
    /** @type {string|null} */
    this.error = null;
    this.seq = 0;
    /** @type {number|undefined} */
    this.timer = undefined;
    this.input = /** @type {HTMLInputElement} */ (h("input", {
      type: "search", class: "input", "data-testid": "search-input",
      autocomplete: "off", spellcheck: "false",
      oninput: () => this.schedule(),
      onkeydown: (/** @type {KeyboardEvent} */ e) => {
        if (e.key === "Enter") { e.preventDefault(); this.run(); }
        if (e.key === "Escape") { e.preventDefault(); this.clear(); }
      },
    }));
    this.clearBtn = h("button", {
      type: "button", class: "btn ghost small icon-only", "data-testid": "search-clear",
      onclick: () => { this.clear(); this.input.focus(); },
    }, icon("close", "icon tiny"));
    this.el = h("form", { class: "search-box", role: "search", onsubmit: (/** @type {Event} */ e) => { e.preventDefault(); this.run(); } },
      icon("search", "icon tiny muted"), this.input, this.clearBtn);
    this.relabel();
  }

  /** Whether results replace the list. */
  active() { return this.q !== ""; }

  /** Strings that depend on the language. */
  relabel() {
    this.input.placeholder = t("search.placeholder");
    this.input.setAttribute("aria-label", t("search.label"));
    this.clearBtn.setAttribute("aria-label", t("search.clear"));
    this.clearBtn.hidden = !this.input.value;
  }

  schedule() {
    clearTimeout(this.timer);
    this.clearBtn.hidden = !this.input.value;
    if (!this.input.value.trim()) { this.clear(); return; }
    this.timer = window.setTimeout(() => this.run(), DEBOUNCE_MS);
  }

  clear() {
    clearTimeout(this.timer);
    this.input.value = "";
    this.q = "";
    this.results = [];
    this.next = null;
    this.error = null;
    this.seq++;
    this.relabel();
    this.x.onChange();
  }

  /** Searches for what is in the box (again, when the filters changed). */
  run() {
    clearTimeout(this.timer);
    const q = this.input.value.trim();
    if (!q) { this.clear(); return; }
    this.q = q;
    this.results = [];
    this.next = null;
    this.load();
  }

  /** Runs the current query again if there is one (the filters changed). */
  refresh() { if (this.active()) this.run(); }

  async load() {
    const seq = ++this.seq;
    this.loading = true;
    this.error = null;
    this.x.onChange();
    /** @type {Record<string, any>} */
    const params = { ...this.x.filterParams(), q: this.q, limit: PAGE };
    delete params.sort;
    if (this.next) params.cursor = this.next;
    if ([...this.q].length > MAX_CHARS) {
      this.loading = false;
      this.error = t("search.tooLong", { n: MAX_CHARS });
      this.x.onChange();
      return;
    }
    try {
      const data = await api.get(`/conversations${qs(params)}`);
      if (seq !== this.seq) return;
      /** @type {Found[]} */
      const got = items(data);
      for (const c of got) this.x.upsert(c);
      this.results = [...this.results, ...got];
      this.next = (data && data.next_cursor) || null;
    } catch (e) {
      if (seq !== this.seq) return;
      this.error = errorText(e);
    } finally {
      if (seq === this.seq) {
        this.loading = false;
        this.x.onChange();
      }
    }
  }

  /**
   * Shows the results in `listEl`.
   * @param {HTMLElement} listEl
   * @param {number|string|null|undefined} openId
   */
  render(listEl, openId) {
    const head = h("div", { class: "search-head muted", "data-testid": "search-summary", "aria-live": "polite" },
      this.loading && !this.results.length ? t("search.searching")
        : this.results.length ? t("search.count", { n: this.results.length + (this.next ? "+" : "") })
          : this.error ? "" : t("search.none", { q: this.q }));
    const error = this.error ? h("div", { class: "form-error", role: "alert", "data-testid": "search-error" }, this.error) : null;
    const rows = this.results.map((c) => {
      const r = row(c, { ...this.x.names, active: sameId(openId, c.id), typing: false, preview: undefined });
      r.setAttribute("data-testid", "search-result");
      const found = c.match;
      if (found && found.snippet) {
        r.querySelector(".conv-main")?.append(h("div", { class: "conv-found", "data-testid": "search-snippet", "data-field": found.field },
          h("span", { class: "muted" }, t(`search.field.${found.field}`) + " · "), snippetNodes(found.snippet)));
      }
      return r;
    });
    const more = this.next ? h("button", {
      type: "button", class: "btn ghost block more", "data-testid": "search-more", disabled: this.loading,
      onclick: () => this.load(),
    }, this.loading ? t("search.searching") : t("search.more")) : null;
    mount(listEl, head, error, rows, more);
  }
}
