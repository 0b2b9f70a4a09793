// The knowledge base (supervisors and admins): add, edit and delete entries of question, other
// phrasings, answer (with files the bot sends and suggestions attach), tags and language; export and import them as CSV; approve or reject the
// proposals learnt from resolved conversations. Suggestions and the FAQ bot match against them.

import { items } from "../../api.js";
import { registerStrings } from "../../i18n.js";
import { h, mount, toast } from "../../dom.js";
import { errorText } from "../../errors.js";
import { openDialog, confirmDialog, field, input, checkbox, formErrors, submitting } from "../../forms/index.js";
import { savedFiles, fileLinks } from "../../forms/files.js";
import strings from "./strings.js";
import { transferBar } from "./transfer.js";
import { proposalsSection } from "./proposals.js";

registerStrings(strings);

/** @typedef {import("../../types.js").KnowledgeEntry} KnowledgeEntry */

/** The most files one answer carries (`knowledge::MAX_FILES`). */
const MAX_FILES = 10;

/**
 * The entry's form controls, filled from `e` when editing.
 * @param {(key: string) => string} t
 * @param {KnowledgeEntry} [e]
 */
function controls(t, e) {
  const question = input({ testid: "knowledge-question", value: e?.question || "", required: true, maxlength: "500", autocomplete: "off" });
  const alternatives = /** @type {HTMLTextAreaElement} */ (h("textarea", { class: "input", rows: "3", "data-testid": "knowledge-alternatives" }));
  alternatives.value = (e?.alternatives || []).join("\n");
  const answer = /** @type {HTMLTextAreaElement} */ (h("textarea", { class: "input", rows: "4", required: true, maxlength: "5000", "data-testid": "knowledge-answer" }));
  answer.value = e?.answer || "";
  const tags = input({ testid: "knowledge-tags", value: (e?.tags || []).join(", ") });
  const locale = input({ testid: "knowledge-locale", value: e?.locale || "", maxlength: "35" });
  const enabled = checkbox({ label: t("knowledgePage.enabled"), checked: e ? e.enabled : true, testid: "knowledge-enabled" });
  const files = savedFiles({ prefix: e ? "knowledge-edit" : "knowledge-new", initial: e?.attachments, max: MAX_FILES });
  const body = () => ({
    question: question.value.trim(),
    alternatives: alternatives.value.split("\n").map((s) => s.trim()).filter(Boolean),
    answer: answer.value.trim(),
    tags: tags.value.split(/[,，]/).map((s) => s.trim()).filter(Boolean),
    locale: locale.value.trim() || null,
    enabled: enabled.box.checked,
    attachment_ids: files.ids(),
  });
  const fields = [
    field({ label: t("knowledgePage.question"), control: question, name: "question", required: true }),
    field({ label: t("knowledgePage.alternatives"), control: alternatives, name: "alternatives" }),
    field({ label: t("knowledgePage.answer"), control: answer, name: "answer", required: true }),
    field({ label: t("knowledgePage.files"), control: files.el, name: "attachment_ids", help: t("knowledgePage.filesHelp") }),
    field({ label: t("knowledgePage.tags"), control: tags, name: "tags" }),
    field({ label: t("knowledgePage.locale"), control: locale, name: "locale" }),
    enabled.row,
  ];
  /** Empties the form for the next entry (a form reset would leave the box unchecked). */
  const reset = () => {
    for (const el of [question, alternatives, answer, tags, locale]) el.value = "";
    enabled.box.checked = true;
    files.clear();
  };
  return { fields, body, question, files, reset };
}

/** @type {import("../page.js").Page} */
export const page = {
  id: "knowledge",
  titleKey: "knowledgePage.title",
  minRole: "supervisor",
  async render(container, { api, t }) {
    /** @type {KnowledgeEntry[]} */
    let entries = [];
    const list = h("div", { class: "stack", "data-testid": "knowledge-list" });

    const add = controls(t);
    const create = h("button", { type: "submit", class: "btn primary", "data-testid": "knowledge-create" }, t("knowledgePage.create"));
    const form = h("form", { class: "card stack", novalidate: true, "data-testid": "knowledge-create-form" },
      add.fields, h("div", { class: "form-actions" }, create));
    const errors = formErrors(form);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      if (add.files.busy()) { toast(t("files.waitUpload"), "info"); return; }
      const ok = await submitting(create, errors, async () => {
        entries.push(await api.post("/knowledge", add.body()));
      });
      if (ok) {
        add.reset();
        toast(t("knowledgePage.created"), "info");
        render();
      }
    });
    const reload = async () => {
      entries = items(await api.get("/knowledge?limit=200"));
      render();
    };
    mount(container, h("p", { class: "muted" }, t("knowledgePage.intro")), transferBar(api, t, reload),
      proposalsSection(api, t, reload), form, list);

    /** @param {KnowledgeEntry} e */
    const edit = (e) => {
      const c = controls(t, e);
      const save = h("button", { type: "submit", class: "btn primary", "data-testid": "knowledge-edit-save" }, t("common.save"));
      const f = h("form", { class: "stack", novalidate: true }, c.fields, h("div", { class: "form-actions" }, save));
      const errs = formErrors(f);
      f.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        if (c.files.busy()) { toast(t("files.waitUpload"), "info"); return; }
        await submitting(save, errs, async () => {
          const saved = await api.put(`/knowledge/${e.id}`, c.body());
          close();
          entries = entries.map((x) => (x.id === saved.id ? saved : x));
          toast(t("knowledgePage.saved"), "info");
          render();
        });
      });
      const close = openDialog({ title: t("knowledgePage.editTitle"), body: f, testid: "knowledge-edit-dialog" });
      c.question.select();
    };

    /** @param {KnowledgeEntry} e */
    const remove = async (e) => {
      if (!(await confirmDialog(t("knowledgePage.deleteTitle"), t("knowledgePage.deleteText"), t("common.delete")))) return;
      try {
        await api.del(`/knowledge/${e.id}`);
        entries = entries.filter((x) => x.id !== e.id);
        toast(t("knowledgePage.deleted"), "info");
        render();
      } catch (err) { toast(errorText(err)); }
    };

    const render = () => {
      if (!entries.length) { mount(list, h("p", { class: "muted", "data-testid": "knowledge-empty" }, t("knowledgePage.empty"))); return; }
      mount(list, entries.map((e) => h("section", { class: "card", "data-testid": "knowledge-row", "data-id": e.id },
        h("div", { class: "toolbar" },
          h("h2", { "data-testid": "knowledge-row-question" }, e.question),
          e.enabled ? null : h("span", { class: "badge", "data-testid": "knowledge-row-disabled" }, t("knowledgePage.disabled")),
          h("div", { class: "spacer" }),
          h("button", { type: "button", class: "btn small", "data-testid": "knowledge-edit", onclick: () => edit(e) }, t("knowledgePage.edit")),
          h("button", { type: "button", class: "btn small danger", "data-testid": "knowledge-delete", onclick: () => remove(e) }, t("common.delete"))),
        e.alternatives.length ? h("p", { class: "muted" }, e.alternatives.join(" · ")) : null,
        h("p", { "data-testid": "knowledge-row-answer" }, e.answer),
        fileLinks(e.attachments, "knowledge-row-file"))));
    };

    await reload();
  },
};
