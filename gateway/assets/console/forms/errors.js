// API errors shown next to the field they concern. The API answers `{code, detail, field?}`
// (and may list several problems in `errors`); a form marks each field wrapper with
// `data-field="<json path>"` and this module puts the sentence under it.

import { h, mount } from "../dom.js";
import { describeError } from "../errors.js";
import { translator, isZh } from "./translate.js";
import strings from "./strings.js";

const t = translator(strings);

/**
 * One problem, located by the JSON path of its field (`""` when it concerns no field).
 * @typedef {{field: string, detail: string, code?: string, local?: boolean}} FieldError
 */

/**
 * The problems in the console's language: in zh-CN the server's English sentence is replaced
 * by the translated message for its code (problems the console wrote itself stay as they are).
 * @param {FieldError[]} list
 * @returns {FieldError[]}
 */
export function localize(list) {
  if (!isZh()) return list;
  return list.map((fe) => (fe.local ? fe : { ...fe, detail: problemText(fe.detail) || describeError({ status: 422, code: fe.code, detail: fe.detail }).text }));
}

/** Server sentences the console knows how to say in the UI language, by their wording. */
const PROBLEMS = /** @type {[RegExp, string][]} */ ([
  [/not a valid regular expression/i, "forms.problem.regex"],
  [/needs at least one condition/i, "forms.problem.condition"],
  [/needs at least one action/i, "forms.problem.action"],
  [/level \d+ is outside/i, "forms.problem.level"],
  [/between (-?\d+) and (-?\d+)/i, "forms.problem.range"],
  [/is required|missing field/i, "forms.problem.required"],
  [/must not be blank|must not be empty/i, "forms.problem.blank"],
]);

/**
 * The translated text of a known problem sentence, or `null`.
 * @param {string} detail
 */
function problemText(detail) {
  for (const [re, key] of PROBLEMS) {
    const m = detail.match(re);
    if (m) return t(key, { min: m[1], max: m[2] });
  }
  return null;
}

/**
 * A JSON path in the console's dotted form: `/imap/host` and `imap.host` both become
 * `imap.host`; `rules/2/when` becomes `rules[2].when`.
 * @param {string} path
 * @returns {string}
 */
export function normalizePath(path) {
  let p = String(path || "").trim();
  if (p.startsWith("/")) {
    p = p.slice(1).split("/").map((s) => (/^\d+$/.test(s) ? `[${s}]` : `.${s}`)).join("").replace(/^\./, "");
  }
  return p.replace(/\.\[/g, "[");
}

/**
 * The path and its ancestors, most specific first:
 * `rules[2].when.keywords[0]` → `rules[2].when.keywords[0]`, `rules[2].when.keywords`, …, `rules`.
 * @param {string} path
 * @returns {string[]}
 */
export function ancestors(path) {
  const out = [];
  let p = normalizePath(path);
  while (p) {
    out.push(p);
    const m = p.match(/^(.*)(\[\d+\]|\.[^.[\]]+)$/);
    p = m ? m[1] : "";
  }
  return out;
}

// "rules[0].when.regex: not a valid regular expression", "url: must be https", "channel: ...".
const PREFIXED = /^([A-Za-z_][\w]*(?:\[\d+\]|\.[A-Za-z_][\w]*)*):\s+(.+)$/s;
// "routing.priority must be between 0 and 100", "per_second must be between 1 and 100000".
const LEADING = /^([a-z_][\w]*(?:\[\d+\]|\.[a-z_][\w]*)*)\s+(?:must|is|are|cannot|can't|should|needs?|has|was)\b/;

/**
 * The problems an API error reports, each with the field it concerns. Uses the body's
 * `errors` list or `field` when present, else reads the field from the start of `detail`.
 * @param {any} err an `ApiError` (or anything thrown)
 * @returns {FieldError[]}
 */
export function fieldErrors(err) {
  if (!err) return [];
  const code = err.code || undefined;
  // Found in the browser before sending, already in the UI language (see `localError`).
  if (err.local) return [{ field: normalizePath(err.field || ""), detail: String(err.detail), code, local: true }];
  const body = err.body || null;
  if (body && Array.isArray(body.errors) && body.errors.length) {
    return body.errors.map((/** @type {any} */ e) => {
      const rel = normalizePath(e.field || e.path || "");
      const field = e.rule !== undefined && e.rule !== null ? `rules[${e.rule}]${rel ? `.${rel}` : ""}` : rel;
      return { field, detail: String(e.detail || e.problem || e.message || err.detail), code };
    });
  }
  if (err.status === 0) return [{ field: "", detail: t("forms.network"), code, local: true }];
  if (err.status === 403) return [{ field: "", detail: t("forms.forbidden"), code, local: true }];
  const detail = String(err.detail || err.message || err);
  const parsed = parseDetail(detail, code);
  if (err.field) {
    // The body names the (first) field; a detail listing several problems places each one.
    const field = normalizePath(err.field);
    if (parsed.length > 1 && parsed.every((p) => p.field)) return parsed;
    const one = parsed.length === 1 && parsed[0].field && field.endsWith(parsed[0].field) ? parsed[0].detail : detail;
    return [{ field, detail: one, code }];
  }
  return parsed;
}

/**
 * The problems a `detail` sentence lists, each with the field its text starts with.
 * @param {string} detail
 * @param {string | undefined} code
 * @returns {FieldError[]}
 */
function parseDetail(detail, code) {
  const parts = detail.replace(/^invalid routing configuration:\s*/i, "").split(/;\s+(?=[A-Za-z_][\w.[\]]*:\s)/);
  return parts.map((part) => {
    let rest = part.trim();
    let field = "";
    // "channel: imap.host: is required" → imap.host under channel.
    for (let i = 0; i < 3; i++) {
      const m = rest.match(PREFIXED);
      if (!m) break;
      field = field ? `${field}.${m[1]}` : m[1];
      rest = m[2];
    }
    if (!field) {
      const m = rest.match(LEADING);
      if (m) field = m[1];
    }
    return { field: normalizePath(field), detail: field ? rest : detail, code };
  });
}

/**
 * Error display for one form. Field wrappers inside `root` carry `data-field`, an element
 * `.field-error` and their control(s); problems whose field is not in the form go to `summary`.
 */
export class ErrorView {
  /**
   * @param {HTMLElement} root
   * @param {{prefixes?: string[]}} [opts] `prefixes`: where to look for a field the API names
   *   relative to a part of the form, e.g. `["channel"]` finds `imap.host` at `channel.imap.host`.
   */
  constructor(root, opts = {}) {
    this.root = root;
    this.prefixes = opts.prefixes || [];
    this.summary = h("div", { class: "form-error", role: "alert", "data-testid": "form-error", hidden: true });
  }

  /** Removes every shown error. */
  clear() {
    this.summary.hidden = true;
    mount(this.summary);
    for (const el of /** @type {NodeListOf<HTMLElement>} */ (this.root.querySelectorAll(".field-error"))) {
      el.textContent = "";
      el.hidden = true;
    }
    for (const el of this.root.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
    for (const el of this.root.querySelectorAll(".has-error")) el.classList.remove("has-error");
  }

  /**
   * Shows an API error's problems next to their fields; returns how many were shown.
   * @param {any} err
   * @returns {number}
   */
  show(err) {
    return this.showList(localize(fieldErrors(err)));
  }

  /**
   * @param {FieldError[]} list
   * @returns {number}
   */
  showList(list) {
    this.clear();
    const loose = [];
    let first = null;
    for (const e of list) {
      const wrap = this.find(e.field);
      if (!wrap) { loose.push(e.detail); continue; }
      const slot = /** @type {HTMLElement | null} */ (wrap.querySelector(":scope > .field-error") || wrap.querySelector(".field-error"));
      if (slot) {
        slot.textContent = slot.textContent ? `${slot.textContent} ${e.detail}` : e.detail;
        slot.hidden = false;
      }
      wrap.classList.add("has-error");
      // A group (a rule, a fieldset) is marked as a whole; a single field marks its control.
      const group = wrap.matches("fieldset, .rule, .card");
      const control = group ? null : /** @type {HTMLElement | null} */ (wrap.querySelector("input, select, textarea"));
      if (control) control.setAttribute("aria-invalid", "true");
      first = first || control || wrap;
    }
    if (loose.length || list.length > 1) {
      const lines = loose.length ? loose : [];
      if (list.length > 1) lines.unshift(t("forms.errorsCount", { n: list.length }));
      mount(this.summary, lines.map((l) => h("div", {}, l)));
      this.summary.hidden = false;
    }
    // The first problem comes into view; a single field also takes the focus.
    if (first) {
      first.scrollIntoView({ block: "center" });
      if (first.matches("input, select, textarea")) first.focus({ preventScroll: true });
    } else if (!this.summary.hidden) {
      this.summary.scrollIntoView({ block: "nearest" });
    }
    return list.length;
  }

  /**
   * The wrapper for `field` or its nearest ancestor that the form shows.
   * @param {string} field
   * @returns {HTMLElement | null}
   */
  find(field) {
    const path = normalizePath(field);
    if (!path) return null;
    for (const base of ["", ...this.prefixes]) {
      const full = base ? `${base}.${path}` : path;
      // Under a guessed prefix, never fall back to the prefix itself.
      const candidates = ancestors(full).filter((p) => !base || p.startsWith(`${base}.`));
      for (const p of candidates) {
        const el = this.root.querySelector(`[data-field="${CSS.escape(p)}"]`);
        if (el) return /** @type {HTMLElement} */ (el);
      }
    }
    return null;
  }
}

/**
 * The error display of a form, its summary box at the top of the form.
 * @param {HTMLElement} form
 * @returns {ErrorView}
 */
export function formErrors(form) {
  const view = new ErrorView(form);
  form.prepend(view.summary);
  return view;
}

/**
 * An error found in the browser before sending (already in the UI language), for `show`.
 * @param {string} fieldName
 * @param {string} text
 */
export function localError(fieldName, text) {
  return { local: true, field: fieldName, detail: text, code: null, status: 422 };
}

/**
 * Runs `work` with the submit button busy; errors go to `errors.show`. Resolves to whether
 * it succeeded.
 * @param {HTMLButtonElement} button
 * @param {{show: (e: unknown) => unknown, clear: () => void}} errors
 * @param {() => Promise<void>} work
 */
export async function submitting(button, errors, work) {
  errors.clear();
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    await work();
    return true;
  } catch (e) {
    errors.show(e);
    return false;
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}
