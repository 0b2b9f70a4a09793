// Inline SVG bar charts of a report's days: grouped bars (a median beside its p90) or stacked
// bars (each agent's share of a day). Every bar keeps its raw number in `data-value` ("" for
// no value) and says what it is in a <title>, so it can be read by a screen reader, hovered,
// and compared with the API by a test.

import { h } from "../../dom.js";

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 440, HEIGHT = 170, LEFT = 44, BOTTOM = 22, TOP = 10;

/**
 * One series of a chart.
 * @typedef {Object} Series
 * @property {string} key `data-series` of its bars
 * @property {string} label shown in the legend and each bar's title
 * @property {(n: number) => number|null} value its value on day `n`
 */

/**
 * @typedef {Object} ChartSpec
 * @property {string} id `data-chart` of the chart and its bars
 * @property {string} title the chart's heading and accessible name
 * @property {string[]} days the days (`YYYY-MM-DD`), oldest first
 * @property {Series[]} series
 * @property {(v: number) => string} format a value for people
 * @property {boolean} [stacked] stack the series instead of placing them side by side
 * @property {number} [ceiling] the axis' top at least (5 for ratings)
 * @property {string} [empty] said under the chart when no bar has a value
 */

/** @param {string} tag @param {Record<string, string|number>} attrs */
function el(tag, attrs) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

/** `03-07` from `2026-03-07`. @param {string} day */
const short = (day) => day.slice(5);

/**
 * A chart in a card: heading, SVG, legend.
 * @param {ChartSpec} spec
 * @returns {HTMLElement}
 */
export function barChart(spec) {
  const { id, title, days, series, format, stacked = false } = spec;
  const values = days.map((_, n) => series.map((s) => s.value(n)));
  const top = Math.max(spec.ceiling || 0,
    ...values.map((vs) => stacked ? vs.reduce((a, v) => (a || 0) + (v || 0), 0) || 0 : Math.max(0, ...vs.map((v) => v || 0))));
  const max = top > 0 ? top : 1;
  const plotW = WIDTH - LEFT - 6, plotH = HEIGHT - TOP - BOTTOM;
  const step = days.length ? plotW / days.length : plotW;
  const y = (/** @type {number} */ v) => TOP + plotH - (v / max) * plotH;
  const svg = el("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", "aria-label": title,
    class: "report-chart", "data-testid": "report-chart", "data-chart": id });
  svg.appendChild(Object.assign(el("title", {}), { textContent: title }));
  // Grid lines at the top, the middle and the base, the top and middle labelled.
  for (const f of [1, 0.5, 0]) {
    svg.appendChild(el("line", { x1: LEFT, x2: WIDTH - 6, y1: y(max * f), y2: y(max * f), class: f ? "grid" : "axis" }));
    if (f && top > 0) {
      const label = el("text", { x: LEFT - 4, y: y(max * f) + 4, "text-anchor": "end" });
      label.textContent = format(max * f);
      svg.appendChild(label);
    }
  }
  const every = Math.max(1, Math.ceil(days.length / 7));
  days.forEach((day, n) => {
    const x0 = LEFT + n * step;
    const inner = step * 0.76;
    let base = 0;
    series.forEach((s, k) => {
      const v = values[n][k];
      const width = stacked ? inner : inner / series.length;
      const x = stacked ? x0 + step * 0.12 : x0 + step * 0.12 + k * width;
      const from = stacked ? base : 0;
      const to = from + (v || 0);
      if (stacked) base = to;
      const bar = el("rect", { x: x.toFixed(2), y: y(to).toFixed(2), width: Math.max(1, width - 1).toFixed(2),
        height: Math.max(0, y(from) - y(to)).toFixed(2), class: `s${k}`, "data-testid": "chart-bar",
        "data-chart": id, "data-series": s.key, "data-date": day, "data-value": v == null ? "" : String(v) });
      bar.appendChild(Object.assign(el("title", {}), { textContent: `${day} · ${s.label}: ${v == null ? "—" : format(v)}` }));
      svg.appendChild(bar);
    });
    if (n % every === 0 || n === days.length - 1) {
      const label = el("text", { x: (x0 + step / 2).toFixed(2), y: HEIGHT - 6, "text-anchor": "middle" });
      label.textContent = short(day);
      svg.appendChild(label);
    }
  });
  const nothing = values.every((vs) => vs.every((v) => v == null || v === 0));
  return h("section", { class: "card report-chart-card", "data-testid": `chart-${id}` },
    h("h3", {}, title),
    svg,
    series.length > 1 || stacked ? h("ul", { class: "chart-legend" }, series.map((s, k) =>
      h("li", {}, h("span", { class: `swatch s${k}`, "aria-hidden": "true" }), s.label))) : null,
    nothing && spec.empty ? h("p", { class: "muted small" }, spec.empty) : null);
}
