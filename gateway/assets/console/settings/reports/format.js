// How the reports page writes numbers for people; the raw numbers stay in `data-value`.

import { h } from "../../dom.js";
import { translator } from "../../forms/index.js";
import strings from "./strings.js";

const t = translator(strings);

/** A duration for people: `45 s`, `2 min 5 s`, `1 h 20 min`. @param {number|null|undefined} secs */
export function duration(secs) {
  if (secs == null) return t("reports.noValue");
  if (secs > 0 && secs < 1) return t("reports.secs", { n: "<1" });
  const s = Math.round(secs);
  if (s < 60) return t("reports.secs", { n: s });
  if (s < 3600) return t("reports.mins", { m: Math.floor(s / 60), s: s % 60 });
  return t("reports.hours", { h: Math.floor(s / 3600), m: Math.floor((s % 3600) / 60) });
}

/** A short duration for chart axes: `45 s`, `12 min`, `3 h`. @param {number} secs */
export function shortDuration(secs) {
  if (secs < 10) return t("reports.secs", { n: Math.round(secs * 10) / 10 });
  if (secs < 60) return t("reports.secs", { n: Math.round(secs) });
  if (secs < 3600) return t("reports.minsShort", { m: Math.round(secs / 60) });
  return t("reports.hoursShort", { h: Math.round((secs / 3600) * 10) / 10 });
}

/** A count for axes: whole numbers stay whole. @param {number} n */
export function count(n) {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

/** A figure cell: readable text, the raw value in `data-value`. */
export function cell(/** @type {string} */ testid, /** @type {number|null} */ value, /** @type {string} */ text) {
  return h("td", { "data-testid": testid, "data-value": value == null ? "" : String(value) }, text);
}
