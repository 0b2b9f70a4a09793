// Agents (supervisors and admins): the list with role, state, capacity, skills and teams.
// Admins invite agents (a one-time link where they set their own password), change roles,
// deactivate and reactivate them, and issue a new invite link; supervisors edit skills and
// capacity.

import { items } from "../../api.js";
import { registerStrings } from "../../i18n.js";
import { h, mount, toast } from "../../dom.js";
import { errorText } from "../../errors.js";
import { openAgentEditor, showInvite } from "./editor.js";
import { confirmDialog } from "../../forms/index.js";
import strings from "./strings.js";

registerStrings(strings);

/** @typedef {import("../../types.js").Agent} Agent */
/** @typedef {import("../../types.js").Team} Team */
/** @typedef {import("../page.js").PageContext} PageContext */

/** @type {import("../page.js").Page} */
export const page = {
  id: "agents",
  titleKey: "agents.title",
  minRole: "supervisor",
  async render(container, ctx) {
    const { api, t, me } = ctx;
    const isAdmin = me.role === "admin";
    /** @type {Agent[]} */
    let agents = [];
    /** @type {Team[]} */
    let teams = [];
    const table = h("div", { class: "table-wrap" });
    const addBtn = isAdmin ? h("button", { type: "button", class: "btn primary", "data-testid": "agent-add",
      onclick: () => openAgentEditor({ agent: null, teams, isAdmin, isSelf: false, onSaved: saved }) }, `+ ${t("agents.add")}`) : null;
    mount(container, h("div", { class: "toolbar" }, h("div", { class: "spacer" }), addBtn), table);

    const load = async () => {
      const [a, tm] = await Promise.all([api.get("/agents"), api.get("/teams").catch(() => ({ items: [] }))]);
      agents = items(a);
      teams = items(tm);
      render();
    };

    /** @param {Agent} a */
    const saved = (a) => {
      toast(t("agents.updated"), "info");
      const i = agents.findIndex((x) => x.id === a.id);
      if (i >= 0) agents[i] = { ...agents[i], ...a }; else agents.push(a);
      render();
      load().catch(() => {});
    };

    /**
     * @param {Agent} a
     * @param {Record<string, any>} patch
     */
    const patch = async (a, patch) => {
      try { saved(await api.patch(`/agents/${a.id}`, patch)); } catch (e) { toast(errorText(e)); }
    };

    /** @param {Agent} a */
    const teamNames = (a) => {
      const ids = new Set(a.team_ids || teams.filter((tm) => (tm.member_ids || tm.agent_ids || []).includes(a.id)).map((tm) => tm.id));
      return teams.filter((tm) => ids.has(tm.id)).map((tm) => tm.name);
    };

    /** @param {Agent} a */
    const state = (a) => a.active === false ? ["off", "agents.state.inactive"]
      : a.invite_pending ? ["warn", "agents.state.invited"] : ["ok", "agents.state.active"];

    /** @param {Agent} a */
    const actions = (a) => {
      const self = a.id === me.id;
      return [
        h("button", { type: "button", class: "btn small", "data-testid": "agent-edit",
          onclick: () => openAgentEditor({ agent: a, teams: teams.map((tm) => tm), isAdmin, isSelf: self, onSaved: saved }) }, t("agents.edit")),
        isAdmin && a.invite_pending && a.active !== false ? h("button", { type: "button", class: "btn small", "data-testid": "agent-reinvite",
          onclick: async () => {
            try { showInvite({ ...a, ...(await api.post(`/agents/${a.id}/invite`, {})) }); } catch (e) { toast(errorText(e)); }
          } }, t("agents.reinvite")) : null,
        isAdmin && !self && a.active !== false ? h("button", { type: "button", class: "btn small danger", "data-testid": "agent-deactivate",
          onclick: async () => {
            if (await confirmDialog(t("agents.deactivateTitle", { name: a.name }), t("agents.deactivateText"), t("agents.deactivate"))) patch(a, { active: false });
          } }, t("agents.deactivate")) : null,
        isAdmin && a.active === false ? h("button", { type: "button", class: "btn small", "data-testid": "agent-reactivate",
          onclick: () => patch(a, { active: true }) }, t("agents.reactivate")) : null,
      ];
    };

    const render = () => {
      if (!agents.length) { mount(table, h("p", { class: "muted pad" }, t("agents.empty"))); return; }
      mount(table, h("table", { class: "list", "data-testid": "agents-table" },
        h("thead", {}, h("tr", {},
          ["agents.col.agent", "agents.col.role", "agents.col.state", "agents.col.max", "agents.col.skills", "agents.col.teams"].map((k) => h("th", { scope: "col" }, t(k))),
          h("th", { scope: "col" }, h("span", { class: "sr-only" }, t("common.actions"))))),
        h("tbody", {}, agents.map((a) => {
          const [cls, key] = state(a);
          return h("tr", { "data-testid": "agent-row", "data-id": a.id, "data-email": a.email, class: a.active === false ? "inactive" : null },
            h("td", {}, h("div", { class: "strong" }, a.name, a.id === me.id ? h("span", { class: "muted" }, ` (${t("agents.you")})`) : null),
              h("div", { class: "muted small" }, a.email)),
            h("td", {}, t(`role.${a.role}`)),
            h("td", {}, h("span", { class: `pill ${cls}`, "data-testid": "agent-state" }, t(key))),
            h("td", {}, String(a.max_concurrent)),
            h("td", {}, h("div", { class: "chips" }, Object.entries(a.skills || {}).map(([k, v]) => h("span", { class: "chip skill" }, `${k} · ${v}`)))),
            h("td", {}, teamNames(a).join(", ")),
            h("td", { class: "actions-cell" }, h("div", { class: "row-actions" }, actions(a))));
        }))));
    };

    await load();
  },
};
