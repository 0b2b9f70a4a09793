// A translator over one page's own strings (`{en: {...}, "zh-CN": {...}}`), falling back to
// English and then to the console's shared strings, so pages never edit a shared strings file.

import { getLang, t as shared } from "../i18n.js";
import common from "./strings.js";

/**
 * @typedef {Record<string, Record<string, string>>} Strings
 * @typedef {(key: string, vars?: Record<string, unknown>) => string} Translate
 */

/**
 * A `t(key, vars)` for `strings`: the current language, then English, then the form helpers'
 * strings (`forms.*`), then the console's shared strings.
 * `{name}` placeholders are filled from `vars`.
 * @param {Strings} strings
 * @returns {Translate}
 */
export function translator(strings) {
  return (key, vars) => {
    const lang = getLang();
    const s = (strings[lang] && strings[lang][key]) ?? (strings.en && strings.en[key])
      ?? (common[lang] && common[lang][key]) ?? common.en[key] ?? shared(key);
    return vars ? s.replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? "")) : s;
  };
}

/** @returns {boolean} whether the console is showing Chinese. */
export function isZh() {
  return getLang() === "zh-CN";
}
