// Canned responses (every agent): the ones the signed-in agent sees — everyone's, their
// teams' and their own — with a scope badge; create, edit and delete those they manage. Admins
// manage everyone's and every team's, supervisors their teams', each agent their own; the
// server decides (`editable`), this page only offers the scopes the role may pick.
// A response may send files (uploaded here, removable), which the reply box attaches when the
// response is picked. The reply box's `/` picker (conversations/canned.js) reads the same list.

import { items } from "../../api.js";
import { registerStrings } from "../../i18n.js";
import { h, mount, toast } from "../../dom.js";
import { errorText } from "../../errors.js";
import { openDialog, confirmDialog, field, input, select, formErrors, submitting } from "../../forms/index.js";
import { savedFiles, fileLinks } from "../../forms/files.js";
import { forgetCanned } from "../../conversations/canned.js";
import strings from "./strings.js";

registerStrings(strings);

/** @typedef {import("../../types.js").CannedResponse} CannedResponse */

/** The most files one response sends (`canned::MAX_FILES`). */
const MAX_FILES = 10;
/** @typedef {import("../../types.js").Team} Team */
/** @typedef {CannedResponse["scope"]} Scope */

/** @type {import("../page.js").Page} */
export const page = {
  id: "canned",
  titleKey: "cannedPage.title",
  minRole: "agent",
  async render(container, { api, t, me }) {
    /** @type {CannedResponse[]} */
    let list = [];
    /** @type {Team[]} */
    let teams = [];
    const rows = h("div", { class: "stack", "data-testid": "canned-list" });
    const filter = input({ type: "search", testid: "canned-filter", placeholder: t("cannedPage.filter"), "aria-label": t("cannedPage.filter"), autocomplete: "off" });
    filter.addEventListener("input", () => render());

    /** The teams whose responses the signed-in agent may manage. */
    const myTeams = () => me.role === "admin" ? teams
      : me.role === "supervisor" ? teams.filter((tm) => (me.team_ids || []).includes(tm.id)) : [];

    /**
     * The fields of the create form and the edit dialog, filled from `r` when editing.
     * @param {string} prefix test id prefix: `canned-new` or `canned-edit`
     * @param {CannedResponse} [r]
     */
    const editor = (prefix, r) => {
      const shortcut = input({ testid: `${prefix}-shortcut`, value: r ? r.shortcut : "", required: true, maxlength: "50", autocomplete: "off", spellcheck: "false" });
      const content = h("textarea", { class: "input", rows: "4", "data-testid": `${prefix}-content`, required: true, maxlength: "10000" });
      content.value = r ? r.content : "";
      /** @type {[string, string][]} */
      const scopes = [["personal", t("cannedPage.scope.personal")]];
      if (myTeams().length || r?.scope === "team") scopes.push(["team", t("cannedPage.scope.team")]);
      if (me.role === "admin" || r?.scope === "global") scopes.push(["global", t("cannedPage.scope.global")]);
      const scope = select({ testid: `${prefix}-scope` }, scopes, r ? r.scope : "personal");
      const teamChoices = myTeams().map((tm) => /** @type {[string, string]} */ ([String(tm.id), tm.name]));
      if (r?.team_id != null && !teamChoices.some(([id]) => id === String(r.team_id))) teamChoices.push([String(r.team_id), teamName(r.team_id)]);
      const team = select({ testid: `${prefix}-team` }, teamChoices, r?.team_id != null ? String(r.team_id) : undefined);
      const teamField = field({ label: t("cannedPage.team"), control: team, name: "team_id", testid: `${prefix}-team` });
      const showTeam = () => { teamField.hidden = scope.value !== "team"; };
      scope.addEventListener("change", showTeam);
      showTeam();
      // Its files: uploaded at once, each a chip that can be removed.
      const files = savedFiles({ prefix, initial: r?.attachments, max: MAX_FILES });
      return {
        fields: [
          h("div", { class: "inline-form canned-fields" },
            field({ label: t("cannedPage.shortcut"), control: shortcut, name: "shortcut", help: t("cannedPage.shortcutHelp"), testid: `${prefix}-shortcut` }),
            field({ label: t("cannedPage.scope"), control: scope, name: "scope", testid: `${prefix}-scope` }),
            teamField),
          field({ label: t("cannedPage.content"), control: content, name: "content", help: t("cannedPage.variables"), testid: `${prefix}-content` }),
          field({ label: t("cannedPage.files"), control: files.el, name: "attachment_ids", help: t("cannedPage.filesHelp"), testid: `${prefix}-files` }),
        ],
        shortcut,
        content,
        /** Whether a file is still uploading (saving waits for it). */
        busy: files.busy,
        /** Forgets the files (after a create). */
        clearFiles: files.clear,
        /** The request body. */
        body() {
          const s = /** @type {Scope} */ (scope.value);
          const attachment_ids = files.ids();
          return { shortcut: shortcut.value.trim(), content: content.value, scope: s, ...(s === "team" ? { team_id: Number(team.value) } : {}), attachment_ids };
        },
      };
    };

    /** @param {number} id */
    const teamName = (id) => teams.find((tm) => tm.id === id)?.name || `#${id}`;

    const renderForm = () => {
      const ed = editor("canned-new");
      const create = h("button", { type: "submit", class: "btn primary", "data-testid": "canned-create" }, t("cannedPage.create"));
      const form = h("form", { class: "card stack", novalidate: true, "data-testid": "canned-create-form" },
        ed.fields, h("div", { class: "form-actions" }, create));
      const errors = formErrors(form);
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        if (ed.busy()) { toast(t("files.waitUpload"), "info"); return; }
        const ok = await submitting(create, errors, async () => {
          list.push(await api.post("/canned-responses", ed.body()));
        });
        if (ok) { ed.shortcut.value = ""; ed.content.value = ""; ed.clearFiles(); toast(t("cannedPage.created"), "info"); changed(); }
      });
      return form;
    };

    /** Re-renders and makes the reply box's picker load the list again. */
    const changed = () => { list.sort((a, b) => a.shortcut.localeCompare(b.shortcut)); render(); forgetCanned(); };

    /** @param {CannedResponse} r */
    const edit = (r) => {
      const ed = editor("canned-edit", r);
      const save = h("button", { type: "submit", class: "btn primary", "data-testid": "canned-edit-save" }, t("common.save"));
      const f = h("form", { class: "stack", novalidate: true }, ed.fields, h("div", { class: "form-actions" }, save));
      const errs = formErrors(f);
      f.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        if (ed.busy()) { toast(t("files.waitUpload"), "info"); return; }
        await submitting(save, errs, async () => {
          /** @type {CannedResponse} */
          const saved = await api.patch(`/canned-responses/${r.id}`, ed.body());
          close();
          list = list.map((x) => (x.id === saved.id ? saved : x));
          toast(t("cannedPage.saved"), "info");
          changed();
        });
      });
      const close = openDialog({ title: t("cannedPage.editTitle", { shortcut: r.shortcut }), body: f, testid: "canned-edit-dialog" });
      ed.content.focus();
    };

    /** @param {CannedResponse} r */
    const remove = async (r) => {
      if (!(await confirmDialog(t("cannedPage.deleteTitle", { shortcut: r.shortcut }), t("cannedPage.deleteText"), t("common.delete")))) return;
      try {
        await api.del(`/canned-responses/${r.id}`);
        list = list.filter((x) => x.id !== r.id);
        toast(t("cannedPage.deleted"), "info");
        changed();
      } catch (e) { toast(errorText(e)); }
    };

    /** @param {CannedResponse} r */
    const badge = (r) => h("span", { class: `chip scope-${r.scope}`, "data-testid": "canned-row-scope", "data-scope": r.scope },
      r.scope === "team" ? t("cannedPage.badge.team", { name: r.team_id != null ? teamName(r.team_id) : "" }) : t(`cannedPage.badge.${r.scope}`));

    const render = () => {
      if (!list.length) { mount(rows, h("p", { class: "muted", "data-testid": "canned-empty" }, t("cannedPage.empty"))); return; }
      const q = filter.value.trim().replace(/^\//, "").toLowerCase();
      const shown = q ? list.filter((r) => r.shortcut.includes(q) || r.content.toLowerCase().includes(q)) : list;
      if (!shown.length) { mount(rows, h("p", { class: "muted", "data-testid": "canned-no-match" }, t("cannedPage.noMatch"))); return; }
      mount(rows, shown.map((r) => h("section", { class: "card canned-row", "data-testid": "canned-row", "data-shortcut": r.shortcut },
        h("div", { class: "toolbar" },
          h("h2", { class: "canned-shortcut" }, `/${r.shortcut}`),
          badge(r),
          h("div", { class: "spacer" }),
          r.editable ? [
            h("button", { type: "button", class: "btn small", "data-testid": "canned-edit", onclick: () => edit(r) }, t("cannedPage.edit")),
            h("button", { type: "button", class: "btn small danger", "data-testid": "canned-delete", onclick: () => remove(r) }, t("common.delete")),
          ] : null),
        h("p", { class: "canned-content", "data-testid": "canned-row-content" }, r.content),
        fileLinks(r.attachments, "canned-row-file"))));
    };

    const [c, tm] = await Promise.all([api.get("/canned-responses"), api.get("/teams")]);
    list = items(c);
    teams = items(tm);
    mount(container, h("p", { class: "muted" }, t("cannedPage.intro")), renderForm(), filter, rows);
    render();
  },
};
