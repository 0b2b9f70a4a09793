// The routing configuration of one inbox as a form: defaults, ordered rules (conditions and
// actions), overflow, sticky window and claiming. `value()` gives the JSON that
// `PUT /api/v1/inboxes/{id}/routing` takes; every control sits under a `data-field` path the
// API's errors name (`rules[2].when.regex`, `overflow.max_wait_message`, …).

import { h, mount } from "../../dom.js";
import { translator, field, stringList } from "../../forms/index.js";
import strings from "./strings.js";
import { skillsEditor, attributesEditor, teamPicker, choice, parseNumber } from "./widgets.js";

const t = translator(strings);

/**
 * @typedef {import("./widgets.js").Team} Team
 * @typedef {Record<string, any>} Config
 * @typedef {{teams: Team[] | null, channels: string[]}} Lookups
 */

/**
 * @param {Config} config the stored configuration
 * @param {Lookups} lookups
 * @returns {{el: HTMLElement, value: () => Config}}
 */
export function routingEditor(config, lookups) {
  const skills = skillsEditor({ path: "skills", value: config.skills, testid: "default-skill" });
  const priority = /** @type {HTMLInputElement} */ (h("input", { type: "number", min: 0, max: 100, class: "inline-num", value: config.priority ?? 0, "data-testid": "default-priority" }));

  /** @type {Config[]} */
  let ruleValues = (config.rules || []).map((/** @type {Config} */ r) => structuredClone(r));
  /** @type {{el: HTMLElement, value: () => Config}[]} */
  let cards = [];
  const rulesBox = h("div", { class: "items", "data-testid": "rules" });
  const collect = () => { ruleValues = cards.map((c) => c.value()); };
  const renderRules = () => {
    cards = ruleValues.map((r, i) => ruleCard(r, i, ruleValues.length, lookups, (op) => {
      collect();
      if (op === "remove") ruleValues.splice(i, 1);
      if (op === "up" && i > 0) [ruleValues[i - 1], ruleValues[i]] = [ruleValues[i], ruleValues[i - 1]];
      if (op === "down" && i < ruleValues.length - 1) [ruleValues[i + 1], ruleValues[i]] = [ruleValues[i], ruleValues[i + 1]];
      renderRules();
    }));
    mount(rulesBox, cards.length ? cards.map((c) => c.el) : h("p", { class: "muted" }, t("routing.noRules")));
  };
  renderRules();
  const addRule = h("button", {
    type: "button", class: "btn small", "data-testid": "rule-add",
    onclick: () => {
      collect();
      ruleValues.push({ name: "", when: { keywords: [""] }, then: {} });
      renderRules();
      /** @type {HTMLInputElement | null} */ (rulesBox.querySelector(".rule:last-child input"))?.focus();
    },
  }, `+ ${t("routing.addRule")}`);

  const ov = config.overflow || {};
  const num = (/** @type {string} */ testid, /** @type {any} */ v) => /** @type {HTMLInputElement} */ (h("input", { type: "number", min: 0, class: "inline-num", value: v ?? "", "data-testid": testid }));
  const overflowAfter = num("overflow-after", ov.overflow_after_secs);
  const step = num("overflow-step", ov.step_secs);
  const fallback = teamPicker({ teams: lookups.teams, value: ov.fallback_team_id, testid: "overflow-team", label: t("routing.fallbackTeam") });
  const maxWait = num("overflow-max-wait", ov.max_wait_secs);
  const maxWaitMessage = /** @type {HTMLTextAreaElement} */ (h("textarea", { rows: 2, "data-testid": "overflow-max-wait-message" }));
  maxWaitMessage.value = ov.max_wait_message || "";
  const sticky = num("sticky-window", config.sticky_window_secs);
  const allowClaim = /** @type {HTMLInputElement} */ (h("input", { type: "checkbox", "data-testid": "allow-claim" }));
  allowClaim.checked = !!config.allow_claim;

  const el = h("div", { class: "routing-editor" },
    h("section", { class: "card" },
      h("h3", {}, t("routing.defaults")),
      h("p", { class: "muted" }, t("routing.defaultsHelp")),
      h("div", { class: "fields" },
        field({ path: "skills", label: t("routing.skills"), control: skills.el, help: t("routing.skillsHelp") }),
        field({ path: "priority", label: t("routing.priority"), control: priority, help: t("routing.priorityHelp") }))),
    h("section", { class: "card", "data-field": "rules" },
      h("h3", {}, t("routing.rules")),
      h("p", { class: "muted" }, t("routing.rulesHelp")),
      h("p", { class: "field-error", role: "alert", "data-testid": "field-error", hidden: true }),
      rulesBox,
      h("div", { class: "form-actions" }, addRule)),
    h("section", { class: "card" },
      h("h3", {}, t("routing.overflow")),
      h("p", { class: "muted" }, t("routing.overflowHelp")),
      h("div", { class: "fields", "data-field": "overflow" },
        h("p", { class: "field-error", role: "alert", "data-testid": "field-error", hidden: true }),
        h("div", { class: "rule-cols" },
          field({ path: "overflow.overflow_after_secs", label: t("routing.overflowAfter"), control: overflowAfter, help: t("routing.overflowAfterHelp") }),
          field({ path: "overflow.step_secs", label: t("routing.step"), control: step })),
        field({ path: "overflow.fallback_team_id", label: t("routing.fallbackTeam"), control: fallback.el }),
        field({ path: "overflow.max_wait_secs", label: t("routing.maxWait"), control: maxWait }),
        field({ path: "overflow.max_wait_message", label: t("routing.maxWaitMessage"), control: maxWaitMessage }),
        field({ path: "sticky_window_secs", label: t("routing.sticky"), control: sticky, help: t("routing.stickyHelp") }),
        field({ path: "allow_claim", label: t("routing.allowClaim"), control: allowClaim, inline: true }))));

  return {
    el,
    value: () => {
      collect();
      /** @type {Config} */
      const overflow = {};
      const put = (/** @type {Config} */ o, /** @type {string} */ k, /** @type {any} */ v) => { if (v !== undefined && v !== "") o[k] = v; };
      put(overflow, "overflow_after_secs", parseNumber(overflowAfter.value));
      put(overflow, "step_secs", parseNumber(step.value));
      put(overflow, "fallback_team_id", fallback.value());
      put(overflow, "max_wait_secs", parseNumber(maxWait.value));
      put(overflow, "max_wait_message", maxWaitMessage.value.trim() || undefined);
      /** @type {Config} */
      const out = { skills: skills.value(), priority: parseNumber(priority.value) ?? 0, rules: ruleValues, overflow, allow_claim: allowClaim.checked };
      put(out, "sticky_window_secs", parseNumber(sticky.value));
      return out;
    },
  };
}

/**
 * One rule as a card.
 * @param {Config} rule @param {number} i @param {number} count @param {Lookups} lookups
 * @param {(op: "up" | "down" | "remove") => void} onOp
 * @returns {{el: HTMLElement, value: () => Config}}
 */
function ruleCard(rule, i, count, lookups, onOp) {
  const p = `rules[${i}]`;
  const when = rule.when || {};
  const then = rule.then || {};
  const name = /** @type {HTMLInputElement} */ (h("input", { type: "text", maxlength: 64, value: rule.name || "", "data-testid": "rule-name" }));
  const keywords = stringList({ values: when.keywords || [], testid: "rule-keyword", label: t("routing.keywords"), path: `${p}.when.keywords` });
  const regex = /** @type {HTMLInputElement} */ (h("input", { type: "text", class: "mono", value: when.regex || "", spellcheck: "false", "data-testid": "rule-regex" }));
  const channel = choice({ options: [["", t("routing.any")], ...lookups.channels.map((c) => /** @type {[string, string]} */ ([c, labelOf(c)]))], value: when.channel, testid: "rule-channel" });
  const language = choice({ options: [["", t("routing.any")], ["zh", t("routing.lang.zh")], ["latin", t("routing.lang.latin")]], value: when.language, testid: "rule-language" });
  const sentiment = /** @type {HTMLInputElement} */ (h("input", { type: "number", step: "0.1", min: "-1", max: "1", class: "inline-num", value: when.sentiment_below ?? "", "data-testid": "rule-sentiment" }));
  const intents = stringList({ values: when.intent || [], testid: "rule-intent", label: t("routing.intent"), path: `${p}.when.intent` });
  const attrs = attributesEditor({ path: `${p}.when.attributes`, value: when.attributes, testid: "rule-attr" });
  const skills = skillsEditor({ path: `${p}.then.skills`, value: then.skills, testid: "rule-skill" });
  const prio = then.priority || {};
  const prioKind = choice({ options: [["", t("routing.prio.none")], ["raise", t("routing.prio.raise")], ["set", t("routing.prio.set")]], value: "raise" in prio ? "raise" : "set" in prio ? "set" : "", testid: "rule-priority-kind" });
  const prioValue = /** @type {HTMLInputElement} */ (h("input", { type: "number", class: "inline-num", value: prio.raise ?? prio.set ?? "", "aria-label": t("routing.prioAction"), "data-testid": "rule-priority-value" }));
  const team = teamPicker({ teams: lookups.teams, value: then.team_id, testid: "rule-team", label: t("routing.team") });
  const btn = (/** @type {string} */ label, /** @type {string} */ sym, /** @type {"up"|"down"|"remove"} */ op, /** @type {boolean} */ off) =>
    h("button", { type: "button", class: "btn ghost small", title: label, "aria-label": label, disabled: off, "data-testid": `rule-${op}`, onclick: () => onOp(op) }, sym);

  const el = h("div", { class: "rule", "data-field": p, "data-testid": "rule", "data-index": i },
    h("div", { class: "rule-head" },
      h("span", { class: "num" }, t("routing.rule", { n: i + 1 })),
      h("div", { class: "grow" }, field({ path: `${p}.name`, label: t("routing.ruleName"), control: name })),
      btn(t("routing.up"), "↑", "up", i === 0),
      btn(t("routing.down"), "↓", "down", i === count - 1),
      btn(t("routing.removeRule"), "✕", "remove", false)),
    h("p", { class: "field-error", role: "alert", "data-testid": "field-error", hidden: true }),
    h("div", { class: "rule-cols" },
      h("fieldset", { class: "field-group", "data-field": `${p}.when` },
        h("legend", {}, t("routing.when")),
        h("p", { class: "field-error", role: "alert", "data-testid": "field-error", hidden: true }),
        h("div", { class: "fields" },
          field({ path: `${p}.when.keywords`, label: t("routing.keywords"), control: keywords.el, help: t("routing.keywordsHelp") }),
          field({ path: `${p}.when.regex`, label: t("routing.regex"), control: regex, help: t("routing.regexHelp") }),
          field({ path: `${p}.when.channel`, label: t("routing.channel"), control: channel.el }),
          field({ path: `${p}.when.language`, label: t("routing.language"), control: language.el }),
          field({ path: `${p}.when.sentiment_below`, label: t("routing.sentimentBelow"), control: sentiment, help: t("routing.sentimentHelp") }),
          field({ path: `${p}.when.intent`, label: t("routing.intent"), control: intents.el, help: t("routing.intentHelp") }),
          field({ path: `${p}.when.attributes`, label: t("routing.attributes"), control: attrs.el }))),
      h("fieldset", { class: "field-group", "data-field": `${p}.then` },
        h("legend", {}, t("routing.then")),
        h("p", { class: "field-error", role: "alert", "data-testid": "field-error", hidden: true }),
        h("div", { class: "fields" },
          field({ path: `${p}.then.skills`, label: t("routing.skills"), control: skills.el }),
          field({ path: `${p}.then.priority`, label: t("routing.prioAction"), control: h("div", { class: "kv-row" }, prioKind.el, prioValue) }),
          field({ path: `${p}.then.team_id`, label: t("routing.team"), control: team.el })))));

  return {
    el,
    value: () => {
      /** @type {Config} */
      const w = {};
      const kw = keywords.value();
      if (kw.length) w.keywords = kw;
      if (regex.value.trim()) w.regex = regex.value;
      if (channel.value()) w.channel = channel.value();
      if (language.value()) w.language = language.value();
      if (sentiment.value.trim()) w.sentiment_below = parseNumber(sentiment.value);
      const it = intents.value();
      if (it.length) w.intent = it;
      const at = attrs.value();
      if (at.length) w.attributes = at;
      /** @type {Config} */
      const th = {};
      const sk = skills.value();
      if (Object.keys(sk).length) th.skills = sk;
      const kind = prioKind.value();
      if (kind) th.priority = { [kind]: parseNumber(prioValue.value) ?? 0 };
      const tm = team.value();
      if (tm !== undefined) th.team_id = tm;
      /** @type {Config} */
      const out = { when: w, then: th };
      if (name.value.trim()) out.name = name.value.trim();
      return out;
    },
  };
}

/** @param {string} type */
function labelOf(type) {
  const key = `channel.${type}`;
  const s = t(key);
  return s === key ? type : s;
}
