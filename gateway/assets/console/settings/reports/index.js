// Settings → Reports (supervisors and admins): a range picker, the range's figures, an inline
// SVG bar chart of conversations per day, and tables per agent and per channel, all from
// `GET /reports/{overview|agents|channels}`. Every figure cell carries its raw value in
// `data-value`, so a test can compare it with the API.

import { h, mount } from "../../dom.js";
import { ensureStyles, http, translator, field, busy, ErrorView } from "../../forms/index.js";
import strings from "./strings.js";

const t = translator(strings);
const SVG = "http://www.w3.org/2000/svg";

/**
 * @typedef {{median: number|null, p90: number|null}} Spread
 * @typedef {{conversations: number, first_response_secs: Spread, resolution_secs: Spread,
 *   csat: {responses: number, average: number|null}}} Figures
 * @typedef {Figures & {date?: string, agent_id?: number, channel?: string, name?: string}} Item
 * @typedef {Figures & {items: Item[]}} Report
 */

/** @type {import("../page.js").Page} */
export const page = {
  id: "reports",
  titleKey: "reports.page",
  minRole: "supervisor",
  /** @param {HTMLElement} container */
  render(container) {
    ensureStyles();
    const today = new Date();
    const weekAgo = new Date(today.getTime() - 6 * 86400000);
    const from = /** @type {HTMLInputElement} */ (h("input", { type: "date", "data-testid": "report-from", value: isoDay(weekAgo) }));
    const to = /** @type {HTMLInputElement} */ (h("input", { type: "date", "data-testid": "report-to", value: isoDay(today) }));
    const tz = /** @type {HTMLInputElement} */ (h("input", { type: "text", "data-testid": "report-tz", value: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC" }));
    const show = /** @type {HTMLButtonElement} */ (h("button", { type: "submit", class: "btn primary", "data-testid": "report-show" }, t("reports.show")));
    const out = h("div", { "data-testid": "report-result" });
    const form = h("form", { novalidate: true, class: "card", "data-testid": "report-range" },
      h("div", { class: "rule-cols" },
        field({ path: "from", label: t("reports.from"), control: from }),
        field({ path: "to", label: t("reports.to"), control: to }),
        field({ path: "tz", label: t("reports.tz"), control: tz })),
      h("div", { class: "form-actions" }, show));
    const errors = new ErrorView(form);
    form.prepend(errors.summary);
    const load = async () => {
      errors.clear();
      const q = new URLSearchParams({ from: from.value, to: to.value, tz: tz.value.trim() || "UTC" }).toString();
      try {
        const [overview, agents, channels] = await busy(show, t("reports.show"), () => Promise.all([
          http.get(`/reports/overview?${q}`), http.get(`/reports/agents?${q}`), http.get(`/reports/channels?${q}`)]));
        render(out, /** @type {Report} */ (overview), /** @type {Report} */ (agents), /** @type {Report} */ (channels));
      } catch (e) {
        mount(out);
        errors.show(e);
      }
    };
    form.addEventListener("submit", (ev) => { ev.preventDefault(); load(); });
    mount(container, h("div", { class: "sp", "data-testid": "reports-page" },
      h("p", { class: "muted" }, t("reports.lead")), form, out));
    load();
  },
};

/** @param {Date} d the local date as `YYYY-MM-DD` */
function isoDay(d) {
  const p = (/** @type {number} */ n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** A duration for people: `45 s`, `2 min 5 s`, `1 h 20 min`. @param {number|null} secs */
function duration(secs) {
  if (secs == null) return t("reports.noValue");
  if (secs > 0 && secs < 1) return t("reports.secs", { n: "<1" });
  const s = Math.round(secs);
  if (s < 60) return t("reports.secs", { n: s });
  if (s < 3600) return t("reports.mins", { m: Math.floor(s / 60), s: s % 60 });
  return t("reports.hours", { h: Math.floor(s / 3600), m: Math.floor((s % 3600) / 60) });
}

/** A figure cell: readable text, the raw value in `data-value`. */
function cell(/** @type {string} */ testid, /** @type {number|null} */ value, /** @type {string} */ text) {
  return h("td", { "data-testid": testid, "data-value": value == null ? "" : String(value) }, text);
}

/** @param {HTMLElement} out @param {Report} overview @param {Report} agents @param {Report} channels */
function render(out, overview, agents, channels) {
  const card = (/** @type {string} */ testid, /** @type {string} */ label, /** @type {number|null} */ value, /** @type {string} */ text) =>
    h("div", { class: "card grow", "data-testid": testid, "data-value": value == null ? "" : String(value) },
      h("div", { class: "muted" }, label), h("h3", {}, text));
  const avg = overview.csat.average;
  mount(out,
    h("div", { class: "row" },
      card("total-conversations", t("reports.conversations"), overview.conversations, String(overview.conversations)),
      card("total-first-response", t("reports.firstResponse"), overview.first_response_secs.median, duration(overview.first_response_secs.median)),
      card("total-resolution", t("reports.resolution"), overview.resolution_secs.median, duration(overview.resolution_secs.median)),
      card("total-csat", t("reports.csat"), avg, avg == null ? t("reports.noValue") : `${avg} / 5 (${overview.csat.responses})`)),
    h("section", { class: "card" }, h("h3", {}, t("reports.volume")), chart(overview.items)),
    table("agents", t("reports.byAgent"), t("reports.agent"), agents.items, (i) => i.name || `#${i.agent_id}`, (i) => String(i.agent_id)),
    table("channels", t("reports.byChannel"), t("reports.channel"), channels.items, (i) => i.channel || "", (i) => i.channel || ""));
}

/**
 * @param {string} id @param {string} title @param {string} keyLabel @param {Item[]} items
 * @param {(i: Item) => string} label @param {(i: Item) => string} key
 */
function table(id, title, keyLabel, items, label, key) {
  const heads = [keyLabel, t("reports.conversations"), t("reports.frMedian"), t("reports.frP90"),
    t("reports.resMedian"), t("reports.resP90"), t("reports.ratings"), t("reports.average")];
  return h("section", { class: "card", "data-testid": `report-${id}` },
    h("h3", {}, title),
    items.length ? h("table", { class: "report-table" },
      h("thead", {}, h("tr", {}, heads.map((x) => h("th", {}, x)))),
      h("tbody", {}, items.map((i) => h("tr", { "data-testid": `report-${id}-row`, "data-key": key(i) },
        h("th", { scope: "row" }, label(i)),
        cell("conversations", i.conversations, String(i.conversations)),
        cell("fr-median", i.first_response_secs.median, duration(i.first_response_secs.median)),
        cell("fr-p90", i.first_response_secs.p90, duration(i.first_response_secs.p90)),
        cell("res-median", i.resolution_secs.median, duration(i.resolution_secs.median)),
        cell("res-p90", i.resolution_secs.p90, duration(i.resolution_secs.p90)),
        cell("csat-responses", i.csat.responses, String(i.csat.responses)),
        cell("csat-average", i.csat.average, i.csat.average == null ? t("reports.noValue") : String(i.csat.average))))))
      : h("p", { class: "muted" }, t("reports.none")));
}

/** Conversations per day as an inline SVG bar chart. @param {Item[]} days */
function chart(days) {
  const width = 640, height = 160, pad = 20;
  const max = Math.max(1, ...days.map((d) => d.conversations));
  const step = days.length ? (width - pad) / days.length : width;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", t("reports.volume"));
  svg.setAttribute("data-testid", "report-chart");
  svg.setAttribute("class", "report-chart");
  svg.style.width = "100%";
  svg.style.maxWidth = `${width}px`;
  days.forEach((d, n) => {
    const barHeight = Math.round((d.conversations / max) * (height - 2 * pad));
    const bar = document.createElementNS(SVG, "rect");
    bar.setAttribute("x", String(pad + n * step + step * 0.1));
    bar.setAttribute("y", String(height - pad - barHeight));
    bar.setAttribute("width", String(Math.max(1, step * 0.8)));
    bar.setAttribute("height", String(barHeight));
    bar.setAttribute("fill", "currentColor");
    bar.setAttribute("data-testid", "report-bar");
    bar.setAttribute("data-date", d.date || "");
    bar.setAttribute("data-value", String(d.conversations));
    const tip = document.createElementNS(SVG, "title");
    tip.textContent = `${d.date}: ${d.conversations}`;
    bar.appendChild(tip);
    svg.appendChild(bar);
  });
  // The first and last days under the axis, and the tallest bar's height above it.
  const label = (/** @type {string} */ text, /** @type {number} */ x, /** @type {number} */ y, /** @type {string} */ anchor) => {
    const el = document.createElementNS(SVG, "text");
    el.setAttribute("x", String(x));
    el.setAttribute("y", String(y));
    el.setAttribute("text-anchor", anchor);
    el.textContent = text;
    svg.appendChild(el);
  };
  if (days.length) {
    label(days[0].date || "", pad, height - 4, "start");
    if (days.length > 1) label(days[days.length - 1].date || "", width, height - 4, "end");
    label(String(max), 0, pad, "start");
  }
  return svg;
}
