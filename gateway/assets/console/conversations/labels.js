// Labels in the conversations view: the organisation's labels (loaded once into the store),
// coloured chips, and the picker the thread header opens to add or remove labels.

import { api, items } from "../api.js";
import { t } from "../i18n.js";
import { h, toast } from "../dom.js";
import { errorText } from "../errors.js";
import { store } from "../store.js";
import { openDialog, checkbox } from "../forms/index.js";

/** @typedef {import("../types.js").Label} Label */

/** Loads every label into the store (names → labels). */
export async function loadLabels() {
  try {
    const list = /** @type {Label[]} */ (items(await api.get("/labels")));
    store.set("labels", new Map(list.map((l) => [l.name, l])));
  } catch { /* chips fall back to a neutral colour */ }
}

/**
 * A coloured chip for the label `name`, with a remove button when `onRemove` is given.
 * @param {string} name
 * @param {(() => void)|null} [onRemove]
 */
export function labelChip(name, onRemove) {
  const label = store.get("labels").get(name);
  const chip = h("span", { class: "chip label", "data-testid": "label-chip", "data-name": name },
    h("span", { class: "label-dot", "aria-hidden": "true" }), name,
    onRemove ? h("button", {
      type: "button", class: "chip-x", "data-testid": "label-remove", "aria-label": t("labels.remove", { name }),
      onclick: (/** @type {Event} */ e) => { e.preventDefault(); e.stopPropagation(); onRemove(); },
    }, "×") : null);
  // CSSOM, not a style attribute: the colour is data.
  const dot = /** @type {HTMLElement|null} */ (chip.querySelector(".label-dot"));
  if (dot) dot.style.backgroundColor = (label && label.color) || "#64748b";
  return chip;
}

/**
 * Replaces the labels of conversation `id`; resolves to the labels it carries afterwards.
 * @param {number|string} id
 * @param {string[]} names
 * @returns {Promise<string[]|null>}
 */
export async function saveLabels(id, names) {
  try {
    const res = await api.put(`/conversations/${encodeURIComponent(id)}/labels`, { labels: names });
    return res && Array.isArray(res.labels) ? res.labels : names;
  } catch (e) {
    toast(errorText(e));
    return null;
  }
}

/**
 * Opens the picker: a checkbox per label; `onSave` gets the chosen names.
 * @param {string[]} current
 * @param {(names: string[]) => Promise<void>} onSave
 */
export function pickLabels(current, onSave) {
  const all = [...store.get("labels").values()];
  const have = new Set(current);
  const boxes = all.map((l) => ({ name: l.name, ...checkbox({ label: l.name, checked: have.has(l.name), testid: "label-option" }) }));
  for (const b of boxes) b.box.setAttribute("data-name", b.name);
  const save = h("button", { type: "submit", class: "btn primary", "data-testid": "labels-save" }, t("common.save"));
  const form = h("form", { class: "stack", novalidate: true },
    all.length ? h("div", { class: "checks" }, boxes.map((b) => b.row)) : h("p", { class: "muted" }, t("labels.none")),
    h("div", { class: "form-actions" }, save));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    save.disabled = true;
    await onSave(boxes.filter((b) => b.box.checked).map((b) => b.name));
    close();
  });
  const close = openDialog({ title: t("labels.pick"), body: form, testid: "labels-dialog" });
}
