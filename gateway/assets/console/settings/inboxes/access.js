// The "Who can see this inbox" card of an inbox's settings: its members (agents directly and
// teams) and how far agents reach into conversations assigned to someone else.

import { h, mount, toast } from "../../dom.js";
import { http, itemsOf, translator, checkbox, field, select, formErrors, submitting } from "../../forms/index.js";
import strings from "./strings.js";

const t = translator(strings);

/**
 * @param {Record<string, any>} inbox
 * @returns {HTMLElement}
 */
export function accessPanel(inbox) {
  const body = h("div", {}, h("p", { class: "muted" }, t("forms.loading")));
  const card = h("section", { class: "card", "data-testid": "inbox-access" },
    h("h3", {}, t("access.title")),
    h("p", { class: "muted" }, t("access.lead")),
    body);
  load(inbox, body).catch((e) => mount(body, h("p", { class: "field-error", role: "alert" }, String(e && e.detail || e))));
  return card;
}

/**
 * @param {Record<string, any>} inbox
 * @param {HTMLElement} body
 */
async function load(inbox, body) {
  const [members, agents, teams] = await Promise.all([
    http.get(`/inboxes/${inbox.id}/members`),
    http.get("/agents"),
    http.get("/teams"),
  ]);
  const agentIds = new Set(members.agent_ids || []);
  const teamIds = new Set(members.team_ids || []);
  const agentBoxes = itemsOf(agents).map((a) => ({
    id: a.id, ...checkbox({ label: `${a.name} · ${a.email}`, checked: agentIds.has(a.id), testid: `access-agent-${a.id}` }),
  }));
  const teamBoxes = itemsOf(teams).map((tm) => ({
    id: tm.id, ...checkbox({ label: tm.name, checked: teamIds.has(tm.id), testid: `access-team-${tm.id}` }),
  }));
  const others = select({ testid: "access-others" }, [
    ["none", t("access.others.none")],
    ["read", t("access.others.read")],
    ["reply", t("access.others.reply")],
  ], inbox.others_access || "none");
  const save = h("button", { type: "submit", class: "btn primary", "data-testid": "access-save" }, t("access.save"));
  const form = h("form", { class: "stack", novalidate: true },
    h("fieldset", { class: "field", "data-field": "agent_ids" },
      h("legend", {}, t("access.agents")),
      agentBoxes.length ? h("div", { class: "checks" }, agentBoxes.map((b) => b.row)) : h("p", { class: "muted" }, t("access.noAgents")),
      h("p", { class: "field-error", role: "alert", hidden: true, "data-testid": "field-error", "data-for": "agent_ids" })),
    h("fieldset", { class: "field", "data-field": "team_ids" },
      h("legend", {}, t("access.teams")),
      teamBoxes.length ? h("div", { class: "checks" }, teamBoxes.map((b) => b.row)) : h("p", { class: "muted" }, t("access.noTeams")),
      h("p", { class: "field-error", role: "alert", hidden: true, "data-testid": "field-error", "data-for": "team_ids" })),
    field({ label: t("access.others"), control: others, name: "others_access", help: t("access.othersHelp") }),
    h("div", { class: "form-actions" }, save));
  const errors = formErrors(form);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const ok = await submitting(save, errors, async () => {
      await http.put(`/inboxes/${inbox.id}/members`, {
        agent_ids: agentBoxes.filter((b) => b.box.checked).map((b) => b.id),
        team_ids: teamBoxes.filter((b) => b.box.checked).map((b) => b.id),
      });
      const saved = await http.patch(`/inboxes/${inbox.id}`, { others_access: others.value });
      inbox.others_access = saved.others_access;
    });
    if (ok) toast(t("access.saved"), "info");
  });
  mount(body, form);
}
