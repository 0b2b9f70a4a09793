// Canned responses (every agent): the ones the signed-in agent sees — everyone's, their
// teams' and their own — with a scope badge; create, edit and delete those they manage. Admins
// manage everyone's and every team's, supervisors their teams', each agent their own; the
// server decides (`editable`), this page only offers the scopes the role may pick.
// A response may send files (uploaded here, removable), which the reply box attaches when the
// response is picked. The reply box's `/` picker (conversations/canned.js) reads the same list.

import { items } from "../../api.js";
import { registerStrings } from "../../i18n.js";
import { h, mount, toast, icon } from "../../dom.js";
import { errorText } from "../../errors.js";
import { openDialog, confirmDialog, field, input, select, formErrors, submitting } from "../../forms/index.js";
import { forgetCanned } from "../../conversations/canned.js";
import strings from "./strings.js";

registerStrings(strings);

/** @typedef {import("../../types.js").CannedResponse} CannedResponse */
/** @typedef {import("../../types.js").CannedFile} CannedFile */

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
      /** @type {(CannedFile & {error?: string, uploading?: boolean})[]} */
      let files = (r?.attachments || []).map((f) => ({ ...f }));
      const chips = h("div", { class: "chips", "data-testid": `${prefix}-files` });
      const renderFiles = () => mount(chips, files.map((f) => h("span", {
        class: `chip${f.error ? " failed" : ""}`, "data-testid": `${prefix}-file`, "data-state": f.error ? "failed" : f.uploading ? "uploading" : "ready",
      }, icon("clip"), ` ${f.name}`, f.error ? ` · ${f.error}` : f.uploading ? ` · ${t("cannedPage.uploading")}` : "",
      h("button", { type: "button", class: "link", "data-testid": `${prefix}-file-remove`, title: t("cannedPage.removeFile"), "aria-label": t("cannedPage.removeFile"),
        onclick: () => { files = files.filter((x) => x !== f); renderFiles(); } }, "×"))));
      const picker = /** @type {HTMLInputElement} */ (h("input", { type: "file", multiple: "", hidden: "", "data-testid": `${prefix}-file-input` }));
      picker.addEventListener("change", () => {
        for (const file of [...(picker.files || [])].slice(0, Math.max(0, MAX_FILES - files.length))) {
          /** @type {CannedFile & {error?: string, uploading?: boolean}} */
          const f = { id: 0, name: file.name, uploading: true };
          files.push(f);
          api.upload(file).then((up) => { Object.assign(f, up, { uploading: false }); },
            (e) => { f.uploading = false; f.error = errorText(e); }).finally(renderFiles);
        }
        picker.value = "";
        renderFiles();
      });
      const attach = h("button", { type: "button", class: "btn small", "data-testid": `${prefix}-attach`, onclick: () => picker.click() },
        icon("clip"), ` ${t("cannedPage.attach")}`);
      renderFiles();
      return {
        fields: [
          h("div", { class: "inline-form canned-fields" },
            field({ label: t("cannedPage.shortcut"), control: shortcut, name: "shortcut", help: t("cannedPage.shortcutHelp"), testid: `${prefix}-shortcut` }),
            field({ label: t("cannedPage.scope"), control: scope, name: "scope", testid: `${prefix}-scope` }),
            teamField),
          field({ label: t("cannedPage.content"), control: content, name: "content", help: t("cannedPage.variables"), testid: `${prefix}-content` }),
          field({ label: t("cannedPage.files"), control: h("div", { class: "stack" }, chips, h("div", {}, attach, picker)), name: "attachment_ids", help: t("cannedPage.filesHelp"), testid: `${prefix}-files` }),
        ],
        shortcut,
        content,
        /** Whether a file is still uploading (saving waits for it). */
        busy: () => files.some((f) => f.uploading),
        /** Forgets the files (after a create). */
        clearFiles() { files = []; renderFiles(); },
        /** The request body. */
        body() {
          const s = /** @type {Scope} */ (scope.value);
          const attachment_ids = files.filter((f) => !f.error && !f.uploading).map((f) => f.id);
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
        if (ed.busy()) { toast(t("cannedPage.waitUpload"), "info"); return; }
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
        if (ed.busy()) { toast(t("cannedPage.waitUpload"), "info"); return; }
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
        r.attachments && r.attachments.length ? h("div", { class: "chips", "data-testid": "canned-row-files" },
          r.attachments.map((f) => h("a", { class: "chip", href: f.url || "#", target: "_blank", rel: "noopener", "data-testid": "canned-row-file" }, icon("clip"), ` ${f.name}`))) : null)));
    };

    const [c, tm] = await Promise.all([api.get("/canned-responses"), api.get("/teams")]);
    list = items(c);
    teams = items(tm);
    mount(container, h("p", { class: "muted" }, t("cannedPage.intro")), renderForm(), filter, rows);
    render();
  },
};
