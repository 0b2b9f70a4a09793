// Small form building blocks: a labelled field with help text and an error slot, inputs,
// selects and checkboxes, the "set" badge of a stored secret, copy buttons, a list-of-strings
// editor, and a busy button.

import { h } from "../dom.js";
import { translator } from "./translate.js";
import strings from "./strings.js";

const t = translator(strings);
let seq = 0;

/** @returns {string} a document-unique id for label/control pairs. */
export function uid(prefix = "f") {
  seq += 1;
  return `${prefix}-${seq}`;
}

/**
 * A field wrapper: label (with optional badge), the control, help text and the error slot the
 * `ErrorView` fills. `path` (or `name`) is the API's field path (`"email"`,
 * `"channel.imap.host"`, `"rules[0].when"`) and goes to `data-field`.
 * @param {{path?: string, name?: string, label: string, control: HTMLElement, help?: string | null,
 *   hint?: string | null, required?: boolean, badge?: HTMLElement | null, id?: string,
 *   inline?: boolean, testid?: string}} o
 * @returns {HTMLElement}
 */
export function field(o) {
  const id = o.id || o.control.id || uid();
  o.control.id = id;
  const help = o.help || o.hint || null;
  const path = o.path || o.name || null;
  const helpId = `${id}-help`;
  const errId = `${id}-err`;
  o.control.setAttribute("aria-describedby", `${help ? `${helpId} ` : ""}${errId}`);
  const label = h("label", { for: id },
    o.label,
    o.required ? h("span", { class: "req", title: t("forms.required"), "aria-hidden": "true" }, " *") : null,
    o.badge || null);
  return h("div", { class: `field${o.inline ? " inline" : ""}`, "data-field": path },
    o.inline ? [o.control, label] : [label, o.control],
    help ? h("p", { class: "field-hint", id: helpId }, help) : null,
    h("p", { class: "field-error", id: errId, role: "alert", "data-testid": "field-error", "data-for": path, hidden: true }));
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
  const box = /** @type {HTMLInputElement} */ (h("input", { type: "checkbox", checked: !!o.checked, "data-testid": o.testid, name: o.name }));
  // What a form reset goes back to.
  box.defaultChecked = !!o.checked;
  return { row: h("label", { class: "check" }, box, h("span", {}, o.label)), box };
}

/** The "set" badge of a stored secret. */
export function setBadge() {
  return h("span", { class: "badge ok", "data-testid": "secret-set" }, t("forms.set"));
}

/**
 * Copies `text` to the clipboard (falls back to a selected textarea where the Clipboard API is
 * unavailable, e.g. plain-http origins).
 * @param {string} text
 */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return;
  } catch { /* fall back below */ }
  const ta = h("textarea", { class: "offscreen", readonly: true });
  ta.value = text;
  document.body.appendChild(ta);
  ta.select();
  try { document.execCommand("copy"); } finally { ta.remove(); }
}

/**
 * A "Copy" button for `text` (a string or a function giving it); shows "Copied" for a moment.
 * @param {string | (() => string)} text
 * @param {string} testid
 */
export function copyButton(text, testid = "copy") {
  const btn = h("button", { type: "button", class: "btn small", "data-testid": testid, "data-state": "idle" }, t("forms.copy"));
  btn.addEventListener("click", async () => {
    await copyText(typeof text === "function" ? text() : text);
    btn.textContent = t("forms.copied");
    btn.dataset.state = "copied";
    setTimeout(() => { btn.textContent = t("forms.copy"); btn.dataset.state = "idle"; }, 2000);
  });
  return btn;
}

/**
 * A read-only value with a copy button and no label of its own (one-time links, new API
 * tokens); the button's test id is `<testid>-copy`.
 * @param {string} value
 * @param {string} testid
 * @param {string} [label] accessible name of the value
 */
export function copyBox(value, testid, label) {
  const box = h("input", { type: "text", class: "input mono", readonly: true, value, "data-testid": testid, "aria-label": label || null });
  box.addEventListener("focus", () => box.select());
  return h("div", { class: "copy-row" }, box, copyButton(value, `${testid}-copy`));
}

/**
 * A read-only value with a copy button, e.g. a callback URL.
 * @param {{label: string, value: string, testid: string, multiline?: boolean, help?: string}} o
 */
export function copyField(o) {
  const control = o.multiline
    ? h("textarea", { readonly: true, rows: 3, class: "mono", "data-testid": o.testid })
    : h("input", { type: "text", readonly: true, class: "mono", "data-testid": o.testid });
  control.value = o.value;
  control.addEventListener("focus", () => control.select());
  const wrap = field({ path: o.testid, label: o.label, control, help: o.help });
  const row = h("div", { class: "copy-row" });
  control.replaceWith(row);
  row.append(control, copyButton(o.value, `${o.testid}-copy`));
  return wrap;
}

/**
 * An editor for a list of strings: one input per item, add and remove buttons.
 * Each row carries `data-field="<path>[i]"`, so an error about one item shows beside it.
 * @param {{values?: string[], testid: string, placeholder?: string, label: string, path?: string}} o
 * @returns {{el: HTMLElement, value: () => string[]}}
 */
export function stringList(o) {
  const rows = h("div", { class: "list-rows" });
  const add = (v = "") => {
    const input = h("input", { type: "text", value: v, placeholder: o.placeholder || "", "data-testid": `${o.testid}-item`, "aria-label": o.label });
    const row = h("div", { class: "list-row" },
      input,
      h("button", {
        type: "button", class: "btn ghost small", "aria-label": `${t("forms.remove")} ${v}`.trim(),
        "data-testid": `${o.testid}-remove`, onclick: () => { row.remove(); renumber(); },
      }, "×"),
      h("p", { class: "field-error", role: "alert", "data-testid": "field-error", hidden: true }));
    rows.appendChild(row);
    renumber();
    return input;
  };
  const renumber = () => {
    [...rows.children].forEach((row, i) => {
      row.setAttribute("data-index", String(i));
      if (o.path) row.setAttribute("data-field", `${o.path}[${i}]`);
    });
  };
  for (const v of o.values || []) add(v);
  const el = h("div", { class: "string-list" }, rows,
    h("button", { type: "button", class: "btn small", "data-testid": `${o.testid}-add`, onclick: () => add().focus() }, `+ ${t("forms.add")}`));
  return {
    el,
    value: () => [...rows.querySelectorAll("input")].map((i) => /** @type {HTMLInputElement} */ (i).value.trim()).filter(Boolean),
  };
}

/**
 * Runs `fn` with `btn` disabled and labelled `busyText`; restores it afterwards.
 * @template T
 * @param {HTMLButtonElement} btn
 * @param {string} busyText
 * @param {() => Promise<T>} fn
 * @returns {Promise<T>}
 */
export async function busy(btn, busyText, fn) {
  const text = btn.textContent;
  btn.disabled = true;
  btn.setAttribute("aria-busy", "true");
  btn.textContent = busyText;
  try {
    return await fn();
  } finally {
    btn.disabled = false;
    btn.removeAttribute("aria-busy");
    btn.textContent = text;
  }
}

/**
 * A two-step delete: the first click asks, "Yes" runs `onConfirm`.
 * @param {{label: string, confirm: string, testid: string, onConfirm: () => void}} o
 */
export function confirmButton(o) {
  const box = h("span", { class: "confirm" });
  const ask = h("button", { type: "button", class: "btn small danger", "data-testid": o.testid }, o.label);
  const show = (/** @type {boolean} */ asking) => {
    box.textContent = "";
    if (!asking) { box.append(ask); return; }
    box.append(
      h("span", { class: "confirm-q" }, o.confirm),
      h("button", { type: "button", class: "btn small danger", "data-testid": `${o.testid}-yes`, onclick: () => { show(false); o.onConfirm(); } }, t("forms.yes")),
      h("button", { type: "button", class: "btn small ghost", "data-testid": `${o.testid}-no`, onclick: () => show(false) }, t("forms.no")));
  };
  ask.addEventListener("click", () => show(true));
  show(false);
  return box;
}
