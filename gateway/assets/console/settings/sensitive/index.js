// Sensitive words and personal data (admins): rules of words or a personal-data detector, each
// with one action (mask, block, flag, or hand the conversation to a team).

import { items } from "../../api.js";
import { registerStrings } from "../../i18n.js";
import { h, mount, toast } from "../../dom.js";
import { errorText } from "../../errors.js";
import { openDialog, confirmDialog, field, input, select, checkbox, formErrors, submitting } from "../../forms/index.js";
import strings from "./strings.js";

registerStrings(strings);

/** @typedef {import("../../types.js").SensitiveRule} SensitiveRule */

const DETECTORS = ["cn_id", "bank_card", "mobile", "email"];
const ACTIONS = ["mask", "block", "flag", "route"];

/**
 * The rule's form controls, filled from `r` when editing.
 * @param {(key: string) => string} t
 * @param {{id: number, name: string}[]} teams
 * @param {SensitiveRule} [r]
 */
function controls(t, teams, r) {
  const name = input({ testid: "sensitive-name", value: r?.name || "", required: true, maxlength: "100", autocomplete: "off" });
  const kind = select({ testid: "sensitive-kind" },
    [["words", t("sensitivePage.lookWords")], ["detector", t("sensitivePage.detector")]], r?.detector ? "detector" : "words");
  const words = /** @type {HTMLTextAreaElement} */ (h("textarea", { class: "input", rows: "4", "data-testid": "sensitive-words" }));
  words.value = (r?.words || []).join("\n");
  const detector = select({ testid: "sensitive-detector" },
    DETECTORS.map((d) => [d, t(`sensitivePage.detector.${d}`)]), r?.detector || "cn_id");
  const action = select({ testid: "sensitive-action" }, ACTIONS.map((a) => [a, t(`sensitivePage.action.${a}`)]), r?.action || "block");
  const team = select({ testid: "sensitive-team" },
    [["", t("sensitivePage.noTeam")], ...teams.map((x) => /** @type {[string, string]} */ ([String(x.id), x.name]))], r?.team_id ? String(r.team_id) : "");
  const enabled = checkbox({ label: t("sensitivePage.enabled"), checked: r ? r.enabled : true, testid: "sensitive-enabled" });
  const wordsField = field({ label: t("sensitivePage.words"), control: words, name: "words" });
  const detectorField = field({ label: t("sensitivePage.detector"), control: detector, name: "detector" });
  const teamField = field({ label: t("sensitivePage.team"), control: team, name: "team_id" });
  const sync = () => {
    wordsField.hidden = kind.value !== "words";
    detectorField.hidden = kind.value !== "detector";
    teamField.hidden = action.value !== "route";
  };
  kind.addEventListener("change", sync);
  action.addEventListener("change", sync);
  sync();
  const body = () => ({
    name: name.value.trim(),
    words: kind.value === "words" ? words.value.split("\n").map((s) => s.trim()).filter(Boolean) : [],
    detector: kind.value === "detector" ? detector.value : null,
    action: action.value,
    team_id: action.value === "route" && team.value ? Number(team.value) : null,
    enabled: enabled.box.checked,
  });
  const fields = [
    field({ label: t("sensitivePage.name"), control: name, name: "name", required: true }),
    field({ label: t("sensitivePage.lookFor"), control: kind, name: "kind" }),
    wordsField,
    detectorField,
    field({ label: t("sensitivePage.action"), control: action, name: "action" }),
    teamField,
    enabled.row,
  ];
  return { fields, body, name };
}

/** @type {import("../page.js").Page} */
export const page = {
  id: "sensitive",
  titleKey: "sensitivePage.title",
  minRole: "admin",
  async render(container, { api, t }) {
    /** @type {SensitiveRule[]} */
    let rules = [];
    /** @type {{id: number, name: string}[]} */
    const teams = items(await api.get("/teams"));
    const list = h("div", { class: "stack", "data-testid": "sensitive-list" });

    const add = controls(t, teams);
    const create = h("button", { type: "submit", class: "btn primary", "data-testid": "sensitive-create" }, t("sensitivePage.create"));
    const form = h("form", { class: "card stack", novalidate: true, "data-testid": "sensitive-create-form" },
      add.fields, h("div", { class: "form-actions" }, create));
    const errors = formErrors(form);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const ok = await submitting(create, errors, async () => {
        rules.push(await api.post("/sensitive-rules", add.body()));
      });
      if (ok) {
        add.name.value = "";
        toast(t("sensitivePage.created"), "info");
        render();
      }
    });
    mount(container, h("p", { class: "muted" }, t("sensitivePage.intro")), form, list);

    /** @param {SensitiveRule} r */
    const edit = (r) => {
      const c = controls(t, teams, r);
      const save = h("button", { type: "submit", class: "btn primary", "data-testid": "sensitive-edit-save" }, t("common.save"));
      const f = h("form", { class: "stack", novalidate: true }, c.fields, h("div", { class: "form-actions" }, save));
      const errs = formErrors(f);
      f.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        await submitting(save, errs, async () => {
          const saved = await api.put(`/sensitive-rules/${r.id}`, c.body());
          close();
          rules = rules.map((x) => (x.id === saved.id ? saved : x));
          toast(t("sensitivePage.saved"), "info");
          render();
        });
      });
      const close = openDialog({ title: t("sensitivePage.editTitle"), body: f, testid: "sensitive-edit-dialog" });
      c.name.select();
    };

    /** @param {SensitiveRule} r */
    const remove = async (r) => {
      if (!(await confirmDialog(t("sensitivePage.deleteTitle"), t("sensitivePage.deleteText"), t("common.delete")))) return;
      try {
        await api.del(`/sensitive-rules/${r.id}`);
        rules = rules.filter((x) => x.id !== r.id);
        toast(t("sensitivePage.deleted"), "info");
        render();
      } catch (err) { toast(errorText(err)); }
    };

    /** @param {SensitiveRule} r */
    const what = (r) => (r.detector ? t(`sensitivePage.detector.${r.detector}`) : r.words.join(" · "));
    /** @param {SensitiveRule} r */
    const does = (r) => {
      const team = teams.find((x) => x.id === r.team_id);
      return t(`sensitivePage.action.${r.action}`) + (team ? ` (${team.name})` : "");
    };
    const render = () => {
      if (!rules.length) { mount(list, h("p", { class: "muted", "data-testid": "sensitive-empty" }, t("sensitivePage.empty"))); return; }
      mount(list, rules.map((r) => h("section", { class: "card", "data-testid": "sensitive-row", "data-id": r.id },
        h("div", { class: "toolbar" },
          h("h2", { "data-testid": "sensitive-row-name" }, r.name),
          r.enabled ? null : h("span", { class: "badge", "data-testid": "sensitive-row-disabled" }, t("sensitivePage.disabled")),
          h("div", { class: "spacer" }),
          h("button", { type: "button", class: "btn small", "data-testid": "sensitive-edit", onclick: () => edit(r) }, t("sensitivePage.edit")),
          h("button", { type: "button", class: "btn small danger", "data-testid": "sensitive-delete", onclick: () => remove(r) }, t("common.delete"))),
        h("p", { class: "muted", "data-testid": "sensitive-row-what" }, what(r)),
        h("p", { "data-testid": "sensitive-row-action" }, does(r)))));
    };

    rules = items(await api.get("/sensitive-rules"));
    render();
  },
};
