// The console's form helpers, one module for every page: labelled fields and inputs, errors next
// to their fields, schema-built channel forms, copy rows, dialogs, and carrying typed input over
// a re-render (draft.js); plus the settings stylesheet.

export { api as http, items as itemsOf } from "../api.js";
export { schemaForm } from "./schema-form.js";
export { ErrorView, fieldErrors, localize, formErrors, localError, submitting } from "./errors.js";
export { field, input, select, checkbox, setBadge, copyBox, copyButton, copyField, copyText, stringList, busy, confirmButton, uid } from "./controls.js";
export { openDialog, confirmDialog } from "./dialog.js";
export { snapshot, restore } from "./draft.js";
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
