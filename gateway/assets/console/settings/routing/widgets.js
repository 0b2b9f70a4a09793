// Editors the routing page composes: skills with levels, attribute conditions, key/value
// rows, team and number pickers. Each returns `{el, value()}`; rows carry `data-field` paths
// so the API's errors land beside them.

import { h } from "../../dom.js";
import { translator, uid } from "../../forms/index.js";
import strings from "./strings.js";

const t = translator(strings);

/**
 * @typedef {{el: HTMLElement, value: () => any}} Editor
 * @typedef {{id: number, name: string}} Team
 */

/** @param {HTMLElement} row */
function errorSlot(row) {
  row.append(h("p", { class: "field-error", role: "alert", "data-testid": "field-error", hidden: true }));
  return row;
}

/**
 * Skills with minimum levels: `{billing: 3}`.
 * @param {{path: string, value?: Record<string, number>, testid: string}} o
 * @returns {Editor}
 */
export function skillsEditor(o) {
  const rows = h("div", { class: "list-rows" });
  const add = (name = "", level = /** @type {number | string} */ (1)) => {
    const nameIn = /** @type {HTMLInputElement} */ (h("input", { type: "text", value: name, placeholder: t("routing.skill"), "aria-label": t("routing.skill"), "data-testid": `${o.testid}-name` }));
    const levelIn = /** @type {HTMLInputElement} */ (h("input", { type: "number", min: 1, max: 10, step: 1, value: level, "aria-label": t("routing.level"), "data-testid": `${o.testid}-level` }));
    const row = errorSlot(h("div", { class: "kv-row skill-row" }, nameIn, levelIn,
      h("button", { type: "button", class: "btn ghost small", "aria-label": t("forms.remove"), onclick: () => row.remove() }, "×")));
    const sync = () => row.setAttribute("data-field", `${o.path}.${nameIn.value.trim()}`);
    nameIn.addEventListener("input", sync);
    sync();
    rows.append(row);
    return nameIn;
  };
  for (const [k, v] of Object.entries(o.value || {})) add(k, v);
  return {
    el: h("div", { class: "string-list" }, rows,
      h("button", { type: "button", class: "btn small", "data-testid": `${o.testid}-add`, onclick: () => add().focus() }, `+ ${t("routing.addSkill")}`)),
    value: () => {
      /** @type {Record<string, number | string>} */
      const out = {};
      for (const row of rows.children) {
        const [n, l] = row.querySelectorAll("input");
        const name = n.value.trim();
        if (!name) continue;
        const lv = l.value.trim();
        out[name] = /^\d+$/.test(lv) ? Number(lv) : lv;
      }
      return out;
    },
  };
}

/**
 * A number as the API takes it: digits become a number, empty is absent, anything else is sent
 * as typed so the server explains what is wrong with it.
 * @param {string} raw
 */
export function parseNumber(raw) {
  const v = raw.trim();
  if (v === "") return undefined;
  return /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v;
}

/**
 * A JSON value from a text box: numbers, true/false and null as such, everything else a string.
 * @param {string} raw
 */
export function parseValue(raw) {
  const v = raw.trim();
  if (/^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  if (v === "true" || v === "false") return v === "true";
  if (v === "null") return null;
  return raw;
}

const OPS = [["eq", "="], ["ne", "≠"], ["gt", ">"], ["gte", "≥"], ["lt", "<"], ["lte", "≤"]];

/**
 * Attribute conditions: `[{name, op, value}]`.
 * @param {{path: string, value?: {name: string, op: string, value: any}[], testid: string}} o
 * @returns {Editor}
 */
export function attributesEditor(o) {
  const rows = h("div", { class: "list-rows" });
  const renumber = () => [...rows.children].forEach((r, i) => r.setAttribute("data-field", `${o.path}[${i}]`));
  const add = (c = { name: "", op: "eq", value: "" }) => {
    const name = h("input", { type: "text", value: c.name, placeholder: t("routing.attribute"), "aria-label": t("routing.attribute"), "data-testid": `${o.testid}-name` });
    const op = /** @type {HTMLSelectElement} */ (h("select", { "aria-label": "op", "data-testid": `${o.testid}-op` }, OPS.map(([v, s]) => h("option", { value: v }, s))));
    op.value = c.op;
    const value = h("input", { type: "text", value: c.value === undefined || c.value === null ? "" : typeof c.value === "string" ? c.value : JSON.stringify(c.value), placeholder: t("routing.value"), "aria-label": t("routing.value"), "data-testid": `${o.testid}-value` });
    const row = errorSlot(h("div", { class: "kv-row" }, name, op, value,
      h("button", { type: "button", class: "btn ghost small", "aria-label": t("forms.remove"), onclick: () => { row.remove(); renumber(); } }, "×")));
    rows.append(row);
    renumber();
    return name;
  };
  for (const c of o.value || []) add(c);
  return {
    el: h("div", { class: "string-list" }, rows,
      h("button", { type: "button", class: "btn small", "data-testid": `${o.testid}-add`, onclick: () => add().focus() }, `+ ${t("routing.addAttribute")}`)),
    value: () => [...rows.children].map((row) => {
      const [n, v] = row.querySelectorAll("input");
      return { name: n.value.trim(), op: /** @type {HTMLSelectElement} */ (row.querySelector("select")).value, value: parseValue(v.value) };
    }).filter((c) => c.name),
  };
}

/**
 * Free key/value pairs (a contact's attributes for "try it").
 * @param {{testid: string}} o
 * @returns {Editor}
 */
export function pairsEditor(o) {
  const rows = h("div", { class: "list-rows" });
  const add = () => {
    const k = h("input", { type: "text", placeholder: t("routing.attribute"), "aria-label": t("routing.attribute"), "data-testid": `${o.testid}-key` });
    const v = h("input", { type: "text", placeholder: t("routing.value"), "aria-label": t("routing.value"), "data-testid": `${o.testid}-value` });
    const row = h("div", { class: "kv-row" }, k, v,
      h("button", { type: "button", class: "btn ghost small", "aria-label": t("forms.remove"), onclick: () => row.remove() }, "×"));
    rows.append(row);
    return k;
  };
  return {
    el: h("div", { class: "string-list" }, rows,
      h("button", { type: "button", class: "btn small", "data-testid": `${o.testid}-add`, onclick: () => add().focus() }, `+ ${t("forms.add")}`)),
    value: () => {
      /** @type {Record<string, any>} */
      const out = {};
      for (const row of rows.children) {
        const [k, v] = row.querySelectorAll("input");
        if (k.value.trim()) out[k.value.trim()] = parseValue(v.value);
      }
      return out;
    },
  };
}

/**
 * A team picker (a number box when the teams could not be listed).
 * @param {{teams: Team[] | null, value?: number | null, testid: string, label: string}} o
 * @returns {Editor}
 */
export function teamPicker(o) {
  if (!o.teams) {
    const input = /** @type {HTMLInputElement} */ (h("input", { type: "number", min: 1, class: "inline-num", value: o.value ?? "", "data-testid": o.testid, id: uid("team") }));
    return { el: input, value: () => parseNumber(input.value) };
  }
  const known = o.teams.some((tm) => tm.id === o.value);
  const sel = /** @type {HTMLSelectElement} */ (h("select", { "data-testid": o.testid, id: uid("team") },
    h("option", { value: "" }, t("routing.noTeam")),
    o.teams.map((tm) => h("option", { value: String(tm.id) }, tm.name)),
    o.value != null && !known ? h("option", { value: String(o.value) }, `#${o.value}`) : null));
  sel.value = o.value != null ? String(o.value) : "";
  return { el: sel, value: () => (sel.value === "" ? undefined : Number(sel.value)) };
}

/**
 * A select over `options` (`[value, label]`), with "" meaning absent.
 * @param {{options: [string, string][], value?: string | null, testid: string}} o
 * @returns {Editor}
 */
export function choice(o) {
  const sel = /** @type {HTMLSelectElement} */ (h("select", { "data-testid": o.testid, id: uid("sel") },
    o.options.map(([v, l]) => h("option", { value: v }, l))));
  if (o.value != null && !o.options.some(([v]) => v === o.value)) sel.append(h("option", { value: o.value }, o.value));
  sel.value = o.value ?? "";
  return { el: sel, value: () => (sel.value === "" ? undefined : sel.value) };
}
