// Teams (supervisors and admins): create, rename, set members, delete.

import { items } from "../../api.js";
import { registerStrings } from "../../i18n.js";
import { h, mount, toast } from "../../dom.js";
import { errorText } from "../../errors.js";
import { openDialog, confirmDialog, field, input, checkbox, formErrors, submitting } from "../../forms/index.js";
import strings from "./strings.js";

registerStrings(strings);

/** @typedef {import("../../types.js").Agent} Agent */
/** @typedef {import("../../types.js").Team} Team */

/** @param {Team} tm */
const memberIds = (tm) => tm.member_ids || tm.agent_ids || [];

/** @type {import("../page.js").Page} */
export const page = {
  id: "teams",
  titleKey: "teams.title",
  minRole: "supervisor",
  async render(container, { api, t }) {
    /** @type {Team[]} */
    let teams = [];
    /** @type {Agent[]} */
    let agents = [];
    const list = h("div", { class: "stack", "data-testid": "teams-list" });

    const name = input({ testid: "team-new-name", required: true, maxlength: "100", autocomplete: "off" });
    const create = h("button", { type: "submit", class: "btn primary", "data-testid": "team-create" }, t("teams.create"));
    const form = h("form", { class: "card inline-form", novalidate: true, "data-testid": "team-create-form" },
      field({ label: t("teams.newName"), control: name, name: "name", testid: "team-new-name" }), create);
    const errors = formErrors(form);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const ok = await submitting(create, errors, async () => {
        teams.push(await api.post("/teams", { name: name.value.trim() }));
      });
      if (ok) { name.value = ""; toast(t("teams.created"), "info"); render(); }
    });
    mount(container, form, list);

    const load = async () => {
      const [tm, ag] = await Promise.all([api.get("/teams"), api.get("/agents")]);
      teams = items(tm);
      agents = items(ag);
      render();
    };

    /** @param {Team} saved */
    const replace = (saved) => {
      teams = teams.map((x) => (x.id === saved.id ? { ...x, ...saved } : x));
      toast(t("teams.saved"), "info");
      render();
    };

    /** @param {Team} tm */
    const rename = (tm) => {
      const nameEl = input({ testid: "team-rename-name", value: tm.name, required: true, maxlength: "100" });
      const save = h("button", { type: "submit", class: "btn primary", "data-testid": "team-rename-save" }, t("common.save"));
      const f = h("form", { class: "stack", novalidate: true },
        field({ label: t("teams.name"), control: nameEl, name: "name", testid: "team-rename-name" }),
        h("div", { class: "form-actions" }, save));
      const errs = formErrors(f);
      f.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        await submitting(save, errs, async () => {
          const saved = await api.patch(`/teams/${tm.id}`, { name: nameEl.value.trim() });
          close();
          replace(saved);
        });
      });
      const close = openDialog({ title: t("teams.renameTitle", { name: tm.name }), body: f, testid: "team-rename-dialog" });
      nameEl.select();
    };

    /** @param {Team} tm */
    const members = (tm) => {
      const have = new Set(memberIds(tm));
      const boxes = agents.map((a) => ({ id: a.id, ...checkbox({ label: `${a.name} · ${a.email}`, checked: have.has(a.id), testid: `team-member-${a.id}` }) }));
      const save = h("button", { type: "submit", class: "btn primary", "data-testid": "team-members-save" }, t("teams.saveMembers"));
      const f = h("form", { class: "stack", novalidate: true },
        h("fieldset", { class: "field", "data-field": "agent_ids" },
          h("legend", {}, t("teams.members")),
          h("div", { class: "checks" }, boxes.map((b) => b.row)),
          h("div", { class: "field-error", role: "alert", hidden: true, id: "team-members-error" })),
        h("div", { class: "form-actions" }, save));
      const errs = formErrors(f);
      f.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const ids = boxes.filter((b) => b.box.checked).map((b) => b.id);
        await submitting(save, errs, async () => {
          const saved = await api.put(`/teams/${tm.id}/members`, { agent_ids: ids });
          close();
          replace(saved && saved.id != null ? saved : { ...tm, member_ids: ids, agent_ids: ids });
        });
      });
      const close = openDialog({ title: t("teams.membersTitle", { name: tm.name }), body: f, testid: "team-members-dialog" });
    };

    /** @param {Team} tm */
    const remove = async (tm) => {
      if (!(await confirmDialog(t("teams.deleteTitle", { name: tm.name }), t("teams.deleteText"), t("common.delete")))) return;
      try {
        await api.del(`/teams/${tm.id}`);
        teams = teams.filter((x) => x.id !== tm.id);
        toast(t("teams.deleted"), "info");
        render();
      } catch (e) { toast(errorText(e)); }
    };

    const render = () => {
      if (!teams.length) { mount(list, h("p", { class: "muted" }, t("teams.empty"))); return; }
      const byId = new Map(agents.map((a) => [a.id, a]));
      mount(list, teams.map((tm) => {
        const names = memberIds(tm).map((id) => byId.get(id)?.name || `#${id}`);
        return h("section", { class: "card team", "data-testid": "team-card", "data-id": tm.id, "data-name": tm.name },
          h("div", { class: "toolbar" },
            h("h2", { class: "team-name" }, tm.name),
            h("span", { class: "pill" }, names.length === 1 ? t("teams.memberOne") : t("teams.memberCount", { n: names.length })),
            h("div", { class: "spacer" }),
            h("button", { type: "button", class: "btn small", "data-testid": "team-rename", onclick: () => rename(tm) }, t("teams.rename")),
            h("button", { type: "button", class: "btn small", "data-testid": "team-members", onclick: () => members(tm) }, t("teams.editMembers")),
            h("button", { type: "button", class: "btn small danger", "data-testid": "team-delete", onclick: () => remove(tm) }, t("common.delete"))),
          h("p", { class: "muted", "data-testid": "team-member-names" }, names.length ? names.join(", ") : t("teams.noMembers")));
      }));
    };

    await load();
  },
};
