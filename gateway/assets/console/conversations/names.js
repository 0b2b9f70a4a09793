// How the conversations view names agents, contacts and inboxes.

import { api, items } from "../api.js";
import { t } from "../i18n.js";
import { shortId } from "../dom.js";
import { store } from "../store.js";

/** @typedef {import("../types.js").Conversation} Conversation */

/** @param {any} a @param {any} b */
export function sameId(a, b) { return a != null && b != null && String(a) === String(b); }

/** @param {any} id */
export function agentName(id) {
  if (id == null) return null;
  const me = store.get("me");
  if (me && sameId(id, me.id)) return me.name;
  const ag = store.get("agents").get(String(id));
  return ag ? ag.name || ag.email : `#${shortId(id)}`;
}

/** @param {Conversation} c */
export function contactName(c) {
  const ct = c.contact || {};
  return ct.name || ct.email || c.contact_name || `${t("visitor")} #${shortId(ct.id || c.contact_id || c.id)}`;
}

/** @param {Conversation} c */
export function inboxLabel(c) {
  const ib = store.get("inboxes").get(String(c.inbox_id));
  const type = (ib && ib.channel && ib.channel.type) || c.channel_type || (c.channel && c.channel.type);
  const kind = type ? t(`channel.${type}`) : "";
  if (ib && ib.name) return kind && kind !== ib.name ? `${ib.name} · ${kind}` : ib.name;
  return kind || (c.inbox_id != null ? `#${shortId(c.inbox_id)}` : "");
}

/**
 * What the console calls the intent named `name` (its label), or the name itself when the
 * intents are not loaded or it was deleted.
 * @param {string} name
 */
export function intentLabel(name) {
  for (const i of store.get("intents").values()) if (i.name === name) return i.label || name;
  return name;
}

/**
 * Loads a directory (`/agents`, `/inboxes`, `/intents`) into the store as a Map by id, then calls `then`.
 * A role that may not list it keeps the empty map: ids are shown instead of names.
 * @param {"agents"|"inboxes"|"intents"} key
 * @param {string} path
 * @param {() => void} then
 */
export async function loadDirectory(key, path, then) {
  try {
    store.set(key, new Map(items(await api.get(path)).map((x) => [String(x.id), x])));
    then();
  } catch { /* not every role may list it */ }
}
