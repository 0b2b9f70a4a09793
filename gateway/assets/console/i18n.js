// UI text in English and Simplified Chinese. Each feature folder keeps its strings in its own
// `strings.js` and registers them here, so folders never share a strings file. The language
// is remembered per browser and, once signed in, follows the profile's `language`.

import { store } from "./store.js";

/** @typedef {"en"|"zh-CN"} Lang */
/** @typedef {{en: Record<string, string>, "zh-CN": Record<string, string>}} StringTable */

export const LANGS = /** @type {const} */ (["en", "zh-CN"]);
const LANG_KEY = "kefu.console.lang";

/** @type {StringTable} */
const dicts = { en: {}, "zh-CN": {} };

/**
 * Builds a strings table whose zh-CN half must have every key of the English half (checked
 * by `tsc`): `export default defineStrings({...}, {...})`.
 * @template {Record<string, string>} T
 * @param {T} en
 * @param {{[K in keyof T]: string}} zh
 * @returns {StringTable}
 */
export function defineStrings(en, zh) { return { en, "zh-CN": zh }; }

/**
 * Adds a feature's strings. Keys are namespaced by feature (`agents.title`); a key registered
 * twice keeps the last text.
 * @param {StringTable} table
 */
export function registerStrings(table) {
  Object.assign(dicts.en, table.en);
  Object.assign(dicts["zh-CN"], table["zh-CN"]);
}

/** Every registered string of one language (tests compare screens against it). */
export function allStrings(/** @type {Lang} */ lang) { return { ...dicts[lang] }; }

/** @returns {Lang} */
export function getLang() { return store.get("lang"); }

/** @param {string} next */
export function setLang(next) {
  const lang = next === "zh-CN" ? "zh-CN" : "en";
  localStorage.setItem(LANG_KEY, lang);
  document.documentElement.lang = lang;
  if (store.get("lang") !== lang) store.set("lang", lang);
}

/**
 * Translate `key`, filling `{name}` placeholders from `vars`. A missing zh-CN text falls back
 * to English, a missing key shows the key (and the zh-CN test catches both).
 * @param {string} key
 * @param {Record<string, string|number|null|undefined>} [vars]
 */
export function t(key, vars) {
  const lang = store.get("lang");
  const s = dicts[lang][key] ?? dicts.en[key] ?? key;
  return vars ? s.replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? "")) : s;
}

/** Whether a key has text (for optional per-code or per-type strings). */
export function has(/** @type {string} */ key) { return key in dicts.en; }

const saved = localStorage.getItem(LANG_KEY);
setLang(saved || ((navigator.language || "en").toLowerCase().startsWith("zh") ? "zh-CN" : "en"));
