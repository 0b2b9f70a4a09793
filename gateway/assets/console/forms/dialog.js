// A modal dialog on the native <dialog> element: focus is trapped by the browser, Escape
// closes it, and the opener gets focus back.

import { h, mount } from "../dom.js";
import { t } from "../i18n.js";

/**
 * Opens a dialog with a title and a body; returns `close`.
 * @param {{title: string, body: import("../dom.js").Child, testid?: string, onClose?: () => void}} o
 */
export function openDialog(o) {
  const opener = /** @type {HTMLElement|null} */ (document.activeElement);
  const titleId = `dlg-${Math.random().toString(36).slice(2)}`;
  const dlg = h("dialog", { class: "dialog", "aria-labelledby": titleId, "data-testid": o.testid || "dialog" });
  const close = () => {
    if (dlg.open) dlg.close();
  };
  dlg.addEventListener("close", () => {
    dlg.remove();
    o.onClose?.();
    opener?.focus();
  });
  mount(dlg,
    h("div", { class: "dialog-head" },
      h("h2", { id: titleId }, o.title),
      h("button", { type: "button", class: "btn ghost small", "aria-label": t("common.close"), "data-testid": "dialog-close", onclick: close }, "×")),
    h("div", { class: "dialog-body" }, o.body));
  document.body.appendChild(dlg);
  dlg.showModal();
  return close;
}

/**
 * Asks a yes/no question; resolves to the answer.
 * @param {string} title
 * @param {string} text
 * @param {string} confirmLabel
 * @returns {Promise<boolean>}
 */
export function confirmDialog(title, text, confirmLabel) {
  return new Promise((resolve) => {
    let answer = false;
    const yes = h("button", { type: "button", class: "btn danger", "data-testid": "confirm-yes",
      onclick: () => { answer = true; close(); } }, confirmLabel);
    const no = h("button", { type: "button", class: "btn", "data-testid": "confirm-no", onclick: () => close() }, t("common.cancel"));
    const close = openDialog({
      title, testid: "confirm-dialog",
      body: [h("p", {}, text), h("div", { class: "form-actions" }, no, yes)],
      onClose: () => resolve(answer),
    });
    yes.focus();
  });
}
