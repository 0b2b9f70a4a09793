// The reports page's range tab: a range picker, the range's figures, a chart per figure over
// the days of the range (volume, first response, resolution, satisfaction, agent load) and
// tables per agent, team and channel, all from `GET /reports/{overview|agents|teams|channels}`
// (agent load: `overview?agent_id=` for the busiest agents). Every figure keeps its raw value
// in `data-value`, so a test can compare it with the API.

import { h, mount } from "../../dom.js";
import { http, translator, field, busy, ErrorView } from "../../forms/index.js";
import { barChart } from "./charts.js";
import { duration, shortDuration, count, cell } from "./format.js";
import strings from "./strings.js";

const t = translator(strings);

/** Agents drawn in the load chart (the busiest of the range); the table lists them all. */
const LOAD_AGENTS = 6;

/**
 * @typedef {{median: number|null, p90: number|null}} Spread
 * @typedef {{conversations: number, first_response_secs: Spread, resolution_secs: Spread,
 *   csat: {responses: number, average: number|null}}} Figures
 * @typedef {Figures & {date?: string, agent_id?: number, team_id?: number, channel?: string, name?: string}} Item
 * @typedef {Figures & {items: Item[]}} Report
 */

/**
 * Fills `container` with the range form and, once loaded, the figures.
 * @param {HTMLElement} container
 */
export function renderOverview(container) {
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
      const { reports, perAgent } = await busy(show, t("reports.show"), () => fetchAll(q));
      const [overview, agents, teams, channels] = reports;
      render(out, overview, agents, teams, channels, perAgent);
    } catch (e) {
      mount(out);
      errors.show(e);
    }
  };
  form.addEventListener("submit", (ev) => { ev.preventDefault(); load(); });
  mount(container, form, out);
  load();
}

/**
 * The four reports of the range `q`, and the per-day figures of its busiest agents.
 * @param {string} q
 * @returns {Promise<{reports: Report[], perAgent: {item: Item, days: Item[]}[]}>}
 */
async function fetchAll(q) {
  const reports = /** @type {Report[]} */ (await Promise.all(
    ["overview", "agents", "teams", "channels"].map((g) => http.get(`/reports/${g}?${q}`))));
  const busiest = [...reports[1].items].filter((i) => i.conversations > 0)
    .sort((a, b) => b.conversations - a.conversations).slice(0, LOAD_AGENTS);
  const own = /** @type {Report[]} */ (await Promise.all(
    busiest.map((i) => http.get(`/reports/overview?${q}&agent_id=${i.agent_id}`))));
  return { reports, perAgent: busiest.map((item, n) => ({ item, days: own[n].items })) };
}

/** @param {Date} d the local date as `YYYY-MM-DD` */
function isoDay(d) {
  const p = (/** @type {number} */ n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/**
 * @param {HTMLElement} out @param {Report} overview @param {Report} agents @param {Report} teams
 * @param {Report} channels @param {{item: Item, days: Item[]}[]} perAgent
 */
function render(out, overview, agents, teams, channels, perAgent) {
  const card = (/** @type {string} */ testid, /** @type {string} */ label, /** @type {number|null} */ value, /** @type {string} */ text, /** @type {string} */ note) =>
    h("div", { class: "card grow report-figure", "data-testid": testid, "data-value": value == null ? "" : String(value) },
      h("div", { class: "muted" }, label), h("div", { class: "figure" }, text), h("div", { class: "muted small" }, note));
  const avg = overview.csat.average;
  const days = overview.items;
  const dates = days.map((d) => d.date || "");
  const noValue = t("reports.noValue");
  mount(out,
    h("div", { class: "row report-figures" },
      card("total-conversations", t("reports.conversations"), overview.conversations, String(overview.conversations), t("reports.opened")),
      card("total-first-response", t("reports.firstResponse"), overview.first_response_secs.median, duration(overview.first_response_secs.median),
        t("reports.p90Is", { v: duration(overview.first_response_secs.p90) })),
      card("total-resolution", t("reports.resolution"), overview.resolution_secs.median, duration(overview.resolution_secs.median),
        t("reports.p90Is", { v: duration(overview.resolution_secs.p90) })),
      card("total-csat", t("reports.csat"), avg, avg == null ? noValue : `${avg} / 5`, t("reports.ratingsCount", { n: overview.csat.responses }))),
    h("div", { class: "report-charts" },
      barChart({ id: "volume", title: t("reports.volume"), days: dates, format: count,
        series: [{ key: "conversations", label: t("reports.conversations"), value: (n) => days[n].conversations }] }),
      barChart({ id: "first-response", title: t("reports.frChart"), days: dates, format: shortDuration, empty: t("reports.none"),
        series: [
          { key: "median", label: t("reports.median"), value: (n) => days[n].first_response_secs.median },
          { key: "p90", label: t("reports.p90"), value: (n) => days[n].first_response_secs.p90 }] }),
      barChart({ id: "resolution", title: t("reports.resChart"), days: dates, format: shortDuration, empty: t("reports.none"),
        series: [
          { key: "median", label: t("reports.median"), value: (n) => days[n].resolution_secs.median },
          { key: "p90", label: t("reports.p90"), value: (n) => days[n].resolution_secs.p90 }] }),
      barChart({ id: "csat", title: t("reports.csatChart"), days: dates, format: count, ceiling: 5, empty: t("reports.none"),
        series: [{ key: "average", label: t("reports.average"), value: (n) => days[n].csat.average }] }),
      barChart({ id: "load", title: t("reports.loadChart"), days: dates, format: count, stacked: true, empty: t("reports.none"),
        series: perAgent.map(({ item, days: own }) => ({ key: String(item.agent_id), label: item.name || `#${item.agent_id}`,
          value: (/** @type {number} */ n) => own[n] ? own[n].conversations : null })) })),
    table("agents", t("reports.byAgent"), t("reports.agent"), agents.items, (i) => i.name || `#${i.agent_id}`, (i) => String(i.agent_id)),
    table("teams", t("reports.byTeam"), t("reports.team"), teams.items, (i) => i.name || `#${i.team_id}`, (i) => String(i.team_id)),
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
    items.length ? h("div", { class: "table-scroll" }, h("table", { class: "report-table" },
      h("thead", {}, h("tr", {}, heads.map((x) => h("th", { scope: "col" }, x)))),
      h("tbody", {}, items.map((i) => h("tr", { "data-testid": `report-${id}-row`, "data-key": key(i) },
        h("th", { scope: "row" }, label(i)),
        cell("conversations", i.conversations, String(i.conversations)),
        cell("fr-median", i.first_response_secs.median, duration(i.first_response_secs.median)),
        cell("fr-p90", i.first_response_secs.p90, duration(i.first_response_secs.p90)),
        cell("res-median", i.resolution_secs.median, duration(i.resolution_secs.median)),
        cell("res-p90", i.resolution_secs.p90, duration(i.resolution_secs.p90)),
        cell("csat-responses", i.csat.responses, String(i.csat.responses)),
        cell("csat-average", i.csat.average, i.csat.average == null ? t("reports.noValue") : String(i.csat.average)))))))
      : h("p", { class: "muted" }, t("reports.none")));
}
