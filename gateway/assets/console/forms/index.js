// Shared helpers of the settings pages: the stylesheet, API calls with field errors, and the
// re-exports pages use.

import { request } from "../api.js";

export { schemaForm } from "./schema-form.js";
export { ErrorView, fieldErrors } from "./errors.js";
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

/**
 * The REST calls the settings pages make; errors are `ApiError`s carrying `field` and `body`.
 */
export const http = {
  /** @param {string} path */
  get: (path) => request("GET", path),
  /** @param {string} path @param {unknown} [body] */
  post: (path, body) => request("POST", path, body === undefined ? {} : body),
  /** @param {string} path @param {unknown} body */
  put: (path, body) => request("PUT", path, body),
  /** @param {string} path @param {unknown} body */
  patch: (path, body) => request("PATCH", path, body),
  /** @param {string} path */
  del: (path) => request("DELETE", path),
};

/**
 * The items of a list answer (`{items}`; a bare array is tolerated).
 * @param {any} data
 * @returns {any[]}
 */
export function itemsOf(data) {
  if (Array.isArray(data)) return data;
  return (data && data.items) || [];
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
