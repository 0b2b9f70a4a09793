// Form building blocks for settings pages: labelled fields with an error slot, and placing an
// API error's `detail` next to the `field` it names (or at the top of the form). Inputs are
// never cleared on error, so the user keeps what they typed.

import { h, mount } from "../dom.js";
import { describeError } from "../errors.js";

let seq = 0;

/**
 * A labelled control with a hint and an error line. `name` is the API's field path
 * (`"email"`, `"skills.billing"`) used to place errors.
 * @param {{label: string, control: HTMLElement, name?: string, hint?: string|null, testid?: string}} o
 * @returns {HTMLDivElement}
 */
export function field(o) {
  const id = o.control.id || `f${++seq}`;
  o.control.id = id;
  const err = h("div", { class: "field-error", id: `${id}-error`, role: "alert", hidden: true,
    "data-testid": o.testid ? `${o.testid}-error` : null });
  const hint = o.hint ? h("div", { class: "field-hint", id: `${id}-hint` }, o.hint) : null;
  if (hint) o.control.setAttribute("aria-describedby", `${id}-hint`);
  return h("div", { class: "field", "data-field": o.name || null },
    h("label", { for: id }, o.label), o.control, hint, err);
}

/**
 * A text-like input: `input({type: "email", testid: "agent-email", value})`.
 * @param {Record<string, any>} props
 * @returns {HTMLInputElement}
 */
export function input(props) {
  const { testid, ...rest } = props;
  return h("input", { type: "text", class: "input", "data-testid": testid, ...rest });
}

/**
 * A select with `[value, label]` options.
 * @param {Record<string, any>} props
 * @param {[string, string][]} options
 * @param {string} [value]
 * @returns {HTMLSelectElement}
 */
export function select(props, options, value) {
  const { testid, ...rest } = props;
  const el = h("select", { class: "input", "data-testid": testid, ...rest },
    options.map(([v, label]) => h("option", { value: v, selected: v === value }, label)));
  if (value !== undefined) el.value = value;
  return el;
}

/**
 * A checkbox with its label on the right.
 * @param {{label: string, checked?: boolean, testid?: string, name?: string}} o
 * @returns {{row: HTMLLabelElement, box: HTMLInputElement}}
 */
export function checkbox(o) {
  const box = h("input", { type: "checkbox", checked: !!o.checked, "data-testid": o.testid, name: o.name });
  return { row: h("label", { class: "check" }, box, h("span", {}, o.label)), box };
}

/**
 * Shows errors in a form: `show(e)` puts the text next to the field whose `data-field` is
 * `e.field` (or its closest parent path), else in the form's top error box; `clear()` hides all.
 * @param {HTMLElement} form
 */
export function formErrors(form) {
  const top = h("div", { class: "form-error", role: "alert", hidden: true, "data-testid": "form-error" });
  form.prepend(top);
  const clear = () => {
    top.hidden = true;
    for (const el of form.querySelectorAll(".field-error")) { /** @type {HTMLElement} */ (el).hidden = true; el.textContent = ""; }
    for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  };
  /** @param {unknown} e */
  const show = (e) => {
    clear();
    const { text, extra } = describeError(e);
    const fieldName = /** @type {{field?: string|null}} */ (e || {}).field;
    const target = fieldName ? findField(form, fieldName) : null;
    const slot = target && target.querySelector(".field-error");
    if (target && slot) {
      mount(slot, text, extra ? h("div", { class: "error-extra" }, extra) : null);
      /** @type {HTMLElement} */ (slot).hidden = false;
      const control = target.querySelector("input, select, textarea");
      if (control) {
        control.setAttribute("aria-invalid", "true");
        control.setAttribute("aria-errormessage", slot.id);
        /** @type {HTMLElement} */ (control).focus();
      }
    } else {
      mount(top, text, extra ? h("div", { class: "error-extra" }, extra) : null);
      top.hidden = false;
    }
  };
  return { show, clear };
}

/**
 * The field for `path`, or for its nearest parent (`skills.billing` → `skills`).
 * @param {HTMLElement} form
 * @param {string} path
 * @returns {Element|null}
 */
function findField(form, path) {
  let p = path;
  for (;;) {
    const el = [...form.querySelectorAll("[data-field]")].find((f) => f.getAttribute("data-field") === p);
    if (el) return el;
    const cut = Math.max(p.lastIndexOf("."), p.lastIndexOf("["));
    if (cut <= 0) return null;
    p = p.slice(0, cut);
  }
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
 * @param {{show: (e: unknown) => void, clear: () => void}} errors
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
