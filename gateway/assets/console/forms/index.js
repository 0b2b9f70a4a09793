// Shared helpers of the channel settings pages: the stylesheet, and the form pieces pages use.

export { api as http, items as itemsOf } from "../api.js";
export { schemaForm } from "./schema-form.js";
export { ErrorView, fieldErrors, localize } from "./errors.js";
export { field, setBadge, copyButton, copyField, copyText, stringList, busy, confirmButton, uid } from "./controls.js";
export { translator, isZh } from "./translate.js";

/** Adds the settings stylesheet to the page once. */
export function ensureStyles() {
  if (document.querySelector("link[data-kefu-forms]")) return;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = new URL("./forms.css", import.meta.url).href;
  link.setAttribute("data-kefu-forms", "");
  document.head.appendChild(link);
}

const INBOX_KEY = "kefu.settings.inbox";

/** The inbox last picked on a per-inbox settings page (kept for this browser tab). */
export function lastInbox() {
  return sessionStorage.getItem(INBOX_KEY);
}

/** @param {string | number} id */
export function rememberInbox(id) {
  sessionStorage.setItem(INBOX_KEY, String(id));
}
