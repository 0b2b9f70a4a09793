// "Try it": a message text, channel and contact attributes run through the routing on the
// page (saved or not); shows which rules match, the intent detected and the resulting
// requirements.

import { h, mount } from "../../dom.js";
import { http, translator, field, busy, ErrorView, fieldErrors } from "../../forms/index.js";
import strings from "./strings.js";
import { pairsEditor, choice } from "./widgets.js";

const t = translator(strings);

/**
 * @param {{inboxId: number, channel: string, channels: string[], teams: import("./widgets.js").Team[] | null,
 *   config: () => Record<string, any>, editorErrors: ErrorView}} o
 */
export function tryPanel(o) {
  const text = /** @type {HTMLTextAreaElement} */ (h("textarea", { rows: 3, "data-testid": "try-text" }));
  const channel = choice({ options: o.channels.map((c) => /** @type {[string, string]} */ ([c, label(c)])), value: o.channel, testid: "try-channel" });
  const attrs = pairsEditor({ testid: "try-attr" });
  const run = h("button", { type: "submit", class: "btn primary", "data-testid": "try-run" }, t("routing.run"));
  const result = h("div", { class: "try-result", "data-testid": "try-result", "aria-live": "polite" });
  const form = h("form", { class: "card", "data-testid": "try-panel", novalidate: true },
    h("h3", {}, t("routing.try")),
    h("p", { class: "muted" }, t("routing.tryHelp")),
    h("div", { class: "fields" },
      field({ path: "text", label: t("routing.text"), control: text }),
      field({ path: "channel", label: t("routing.channel"), control: channel.el }),
      field({ path: "attributes", label: t("routing.contactAttributes"), control: attrs.el })),
    h("div", { class: "form-actions" }, run),
    result);
  const errors = new ErrorView(form);
  form.insertBefore(errors.summary, result);

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    errors.clear();
    o.editorErrors.clear();
    mount(result);
    const body = { text: text.value, channel: channel.value(), attributes: attrs.value(), config: o.config() };
    try {
      const res = await busy(/** @type {HTMLButtonElement} */ (run), t("routing.running"), () => http.post(`/inboxes/${o.inboxId}/routing/try`, body));
      mount(result, outcome(res, o.teams));
    } catch (e) {
      // Problems with the unsaved routing go next to its fields above; the rest show here.
      const list = fieldErrors(e).map((fe) => ({ ...fe, field: fe.field.replace(/^config\./, "") }));
      const mine = list.filter((fe) => !fe.field || errors.find(fe.field));
      const theirs = list.filter((fe) => !mine.includes(fe));
      if (theirs.length) {
        o.editorErrors.showList(theirs);
        mine.push({ field: "", detail: t("routing.configProblems") });
      }
      errors.showList(mine);
    }
  });
  return form;
}

/**
 * @param {{rules?: {index: number, name?: string | null, matched: boolean, why?: string[]}[],
 *   requirements?: {skills?: Record<string, number>, priority?: number, team_id?: number | null},
 *   language?: string | null, intent?: {intent: string | null, score: number} | null}} res
 * @param {import("./widgets.js").Team[] | null} teams
 */
function outcome(res, teams) {
  const rules = res.rules || [];
  const req = res.requirements || {};
  const skills = Object.entries(req.skills || {});
  const team = req.team_id != null ? (teams || []).find((tm) => tm.id === req.team_id) : null;
  return h("div", {},
    rules.length ? h("ul", { class: "result-checks" }, rules.map((r) =>
      h("li", { class: `result-check ${r.matched ? "ok" : ""}`, "data-testid": "try-rule", "data-index": r.index, "data-matched": String(!!r.matched) },
        h("b", {}, r.matched ? "✓" : "–"),
        h("span", {}, t("routing.rule", { n: r.index + 1 }), ": ", r.name || t("routing.unnamed")),
        h("span", { class: r.matched ? "hit" : "miss" }, r.matched ? t("routing.matched") : t("routing.notMatched")),
        r.why && r.why.length ? h("span", { class: "mono", "data-testid": "try-why" }, r.why.join(" · ")) : null))) : null,
    h("h3", { class: "mt" }, t("routing.requirements")),
    h("dl", { class: "reqs", "data-testid": "try-requirements" },
      h("dt", {}, t("routing.skills")),
      h("dd", { "data-testid": "try-skills" }, skills.length ? skills.map(([k, v]) => h("span", { class: "chip skill" }, `${k} ≥ ${v}`)) : t("routing.noSkills")),
      h("dt", {}, t("routing.priority")),
      h("dd", { "data-testid": "try-priority" }, String(req.priority ?? 0)),
      h("dt", {}, t("routing.team")),
      h("dd", { "data-testid": "try-team" }, req.team_id == null ? "—" : team ? team.name : `#${req.team_id}`),
      res.language ? [h("dt", {}, t("routing.language")), h("dd", { "data-testid": "try-language" }, t(`routing.lang.${res.language}`))] : null,
      res.intent ? [h("dt", {}, t("routing.detectedIntent")), h("dd", { "data-testid": "try-intent" },
        res.intent.intent ? t("routing.tryIntent", { name: res.intent.intent, score: res.intent.score.toFixed(2) }) : t("routing.noIntent"))] : null));
}

/** @param {string} type */
function label(type) {
  const key = `channel.${type}`;
  const s = t(key);
  return s === key ? type : s;
}
