// The hash router. Routes:
//   #/                         conversations (no thread open)
//   #/c/<id>                   conversations with one thread open
//   #/contacts[/<id>]          contacts, one of them open
//   #/settings                 the first settings page the role may see
//   #/settings/<page>[/<...>]  one settings page; the rest of the path is the page's own
//   #/invite/<token>           accept an invitation (no sign-in needed)
// `#/inboxes` (older links) leads to the inboxes settings page.

import { store } from "./store.js";

/** @typedef {import("./types.js").Route} Route */

/**
 * Parses a location hash.
 * @param {string} hash
 * @returns {Route}
 */
export function parse(hash) {
  const path = hash.replace(/^#\/?/, "").split("/").filter(Boolean).map((s) => {
    try { return decodeURIComponent(s); } catch { return s; }
  });
  const [head, ...rest] = path;
  if (head === "c" && rest[0]) return { name: "conversations", params: { id: rest[0] }, rest: [] };
  if (head === "contacts") return { name: "contacts", params: { id: rest[0] || "" }, rest: [] };
  if (head === "settings") return { name: "settings", params: { page: rest[0] || "" }, rest: rest.slice(1) };
  if (head === "inboxes") return { name: "settings", params: { page: "inboxes" }, rest: [] };
  if (head === "invite" && rest[0]) return { name: "invite", params: { token: rest[0] }, rest: [] };
  return { name: "conversations", params: {}, rest: [] };
}

/**
 * The hash of a path given as segments, each encoded: `href("settings", "agents")`.
 * @param {...(string|number)} parts
 */
export function href(...parts) {
  return `#/${parts.map((p) => encodeURIComponent(String(p))).join("/")}`;
}

/**
 * Goes to a route. `replace` swaps the history entry (redirects), otherwise a new one is added.
 * @param {string} hash e.g. `#/settings/agents` (see `href`)
 * @param {{replace?: boolean}} [opts]
 */
export function navigate(hash, opts = {}) {
  if (location.hash === hash) return;
  if (opts.replace) {
    history.replaceState(null, "", hash || location.pathname);
    sync();
  } else location.hash = hash;
}

function sync() { store.set("route", parse(location.hash)); }

/** Starts following the location; the current route is in the store under `route`. */
export function startRouter() {
  window.addEventListener("hashchange", sync);
  sync();
}
