// The agent form in a dialog: invite (create) or edit. One request saves everything, so
// nothing is stored half-done; on error the dialog stays open with what was typed.

import { api } from "../../api.js";
import { t } from "../../i18n.js";
import { h, fmtFull } from "../../dom.js";
import { ROLES } from "../../vocab.js";
import { skillsEditor } from "./skills.js";
import { openDialog, copyBox, field, input, select, checkbox, formErrors, localError, submitting } from "../../forms/index.js";

/** @typedef {import("../../types.js").Agent} Agent */
/** @typedef {import("../../types.js").Team} Team */

/**
 * Opens the form. `agent` null creates (invites) one.
 * @param {{agent: Agent|null, teams: Team[], isAdmin: boolean, isSelf: boolean, onSaved: (a: Agent) => void}} o
 */
export function openAgentEditor(o) {
  const a = o.agent;
  const email = input({ type: "email", testid: "agent-email", value: a ? a.email : "", required: true, autocomplete: "off", disabled: !!a });
  // Supervisors change skills and capacity; names and roles are the admins' (or one's own).
  const mayName = o.isAdmin || o.isSelf;
  const name = input({ testid: "agent-name", value: a ? a.name : "", required: true, autocomplete: "off", disabled: !mayName });
  const role = select({ testid: "agent-role", disabled: !o.isAdmin }, ROLES.map((r) => [r, t(`role.${r}`)]), a ? a.role : "agent");
  const max = input({ type: "number", min: "1", max: "100", step: "1", testid: "agent-max", value: String(a ? a.max_concurrent : 5) });
  const skills = skillsEditor(a ? a.skills : {});
  const teamIds = new Set(!a ? [] : a.team_ids
    || o.teams.filter((tm) => (tm.member_ids || tm.agent_ids || []).includes(a.id)).map((tm) => tm.id));
  const teams = o.teams.map((tm) => ({ id: tm.id, ...checkbox({ label: tm.name, checked: teamIds.has(tm.id), testid: `agent-team-${tm.id}` }) }));
  const submit = h("button", { type: "submit", class: "btn primary", "data-testid": "agent-submit" }, t(a ? "agents.save" : "agents.invite"));
  const form = h("form", { class: "stack", novalidate: true, "data-testid": "agent-form" },
    a ? null : field({ label: t("agents.email"), control: email, name: "email", testid: "agent-email" }),
    field({ label: t("agents.name"), control: name, name: "name", testid: "agent-name" }),
    h("div", { class: "form-row" },
      field({ label: t("agents.role"), control: role, name: "role", testid: "agent-role" }),
      field({ label: t("agents.max"), control: max, name: "max_concurrent", hint: t("agents.maxHint"), testid: "agent-max" })),
    h("fieldset", { class: "field", "data-field": "skills" },
      h("legend", {}, t("agents.skills")),
      h("div", { class: "field-hint" }, t("agents.skillsHint")),
      skills.el,
      h("div", { class: "field-error", role: "alert", hidden: true, id: "agent-skills-error", "data-testid": "agent-skills-error" })),
    h("fieldset", { class: "field", "data-field": "team_ids" },
      h("legend", {}, t("agents.teams")),
      teams.length ? h("div", { class: "checks" }, teams.map((x) => x.row)) : h("div", { class: "muted" }, t("agents.noTeams")),
      h("div", { class: "field-error", role: "alert", hidden: true, id: "agent-teams-error" })),
    h("div", { class: "form-actions" },
      h("button", { type: "button", class: "btn", "data-testid": "agent-cancel", onclick: () => close() }, t("common.cancel")),
      submit));
  const errors = formErrors(form);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const sk = skills.read();
    if (sk.error) { errors.show(localError("skills", sk.error)); return; }
    /** @type {Record<string, any>} */
    const body = {
      max_concurrent: Number(max.value),
      skills: sk.skills,
    };
    if (mayName) body.name = name.value.trim();
    if (o.isAdmin) {
      body.role = role.value;
      body.team_ids = teams.filter((x) => x.box.checked).map((x) => x.id);
    }
    await submitting(submit, errors, async () => {
      /** @type {Agent} */
      const saved = a
        ? await api.patch(`/agents/${a.id}`, body)
        : await api.post("/agents", { email: email.value.trim(), ...body });
      close();
      o.onSaved(saved);
      if (!a && saved.invite_url) showInvite(saved);
    });
  });
  const close = openDialog({ title: a ? t("agents.editTitle", { name: a.name }) : t("agents.createTitle"), body: form, testid: "agent-dialog" });
  (a ? name : email).focus();
}

/**
 * Shows a one-time invite link with a copy button.
 * @param {Agent} a
 */
export function showInvite(a) {
  const text = a.invite_expires_at
    ? t("agents.inviteText", { email: a.email, expires: fmtFull(a.invite_expires_at) })
    : t("agents.inviteTextNoExpiry", { email: a.email });
  const close = openDialog({
    title: t("agents.inviteTitle", { name: a.name }),
    testid: "invite-dialog",
    body: [
      h("p", {}, text),
      copyBox(a.invite_url || "", "invite-url", t("agents.inviteLink")),
      h("div", { class: "form-actions spaced" },
        h("button", { type: "button", class: "btn primary", "data-testid": "invite-done", onclick: () => close() }, t("common.close"))),
    ],
  });
}
