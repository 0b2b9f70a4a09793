// A read-only value with a copy button (one-time links, new API tokens).

import { h, toast } from "../dom.js";
import { t } from "../i18n.js";

/**
 * @param {string} value
 * @param {string} testid the value's test id; the button gets `<testid>-copy`
 * @param {string} [label] accessible name of the value
 */
export function copyBox(value, testid, label) {
  const box = h("input", { type: "text", class: "input mono", readonly: true, value, "data-testid": testid,
    "aria-label": label || null, onfocus: (/** @type {Event} */ e) => /** @type {HTMLInputElement} */ (e.target).select() });
  const btn = h("button", {
    type: "button", class: "btn small", "data-testid": `${testid}-copy`,
    onclick: async () => {
      try {
        await navigator.clipboard.writeText(value);
        toast(t("common.copied"), "info");
      } catch {
        box.focus();
        box.select();
      }
    },
  }, t("common.copy"));
  return h("div", { class: "copy-row" }, box, btn);
}
