// Pages register their own `strings.js` with the i18n module and translate with its `t`.

import { registerStrings, getLang, t } from "../i18n.js";
import common from "./strings.js";

registerStrings(common);

/**
 * @typedef {(key: string, vars?: Record<string, string|number|null|undefined>) => string} Translate
 */

/**
 * Registers a page's strings table and returns the console's `t`.
 * @param {import("../i18n.js").StringTable} table
 * @returns {Translate}
 */
export function translator(table) {
  registerStrings(table);
  return t;
}

/** @returns {boolean} whether the console is showing Chinese. */
export function isZh() {
  return getLang() === "zh-CN";
}
