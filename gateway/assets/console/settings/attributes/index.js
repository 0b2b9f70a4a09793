// Custom attributes (admins): define the typed attributes contacts carry — a snake_case key, a
// label, a kind, and for lists the options; relabel or change the options; delete. The contact
// panel beside a conversation (conversations/contact.js) shows one input per definition.

import { items } from "../../api.js";
import { registerStrings } from "../../i18n.js";
import { h, mount, toast } from "../../dom.js";
import { errorText } from "../../errors.js";
import { openDialog, confirmDialog, field, input, select, formErrors, submitting } from "../../forms/index.js";
import strings from "./strings.js";

registerStrings(strings);

/** @typedef {import("../../conversations/contact.js").AttributeDef} AttributeDef */

const KINDS = ["text", "number", "date", "list", "checkbox", "link"];

/** @param {string} text one option a line */
const lines = (text) => text.split("\n").map((s) => s.trim()).filter(Boolean);

/** @param {string} [value] */
const optionsInput = (value = "") => h("textarea", { class: "input", rows: "4", "data-testid": "attribute-options", value });

/** @type {import("../page.js").Page} */
export const page = {
  id: "attributes",
  titleKey: "attributesPage.title",
  minRole: "admin",
  async render(container, { api, t }) {
    /** @type {AttributeDef[]} */
    let defs = [];
    const list = h("div", { class: "stack", "data-testid": "attributes-list" });

    const key = input({ testid: "attribute-key", required: true, maxlength: "50", autocomplete: "off", placeholder: "vip_level" });
    const label = input({ testid: "attribute-label", required: true, maxlength: "100" });
    const kind = select({ testid: "attribute-kind" }, KINDS.map((k) => /** @type {[string, string]} */ ([k, t(`attributesPage.kind.${k}`)])), "text");
    const options = optionsInput();
    const optionsField = field({ label: t("attributesPage.options"), control: options, name: "options", help: t("attributesPage.optionsHelp") });
    const showOptions = () => { optionsField.hidden = kind.value !== "list"; };
    kind.addEventListener("change", showOptions);
    showOptions();
    const create = h("button", { type: "submit", class: "btn primary", "data-testid": "attribute-create" }, t("attributesPage.create"));
    const form = h("form", { class: "card stack", novalidate: true, "data-testid": "attribute-create-form" },
      field({ label: t("attributesPage.key"), control: key, name: "key", help: t("attributesPage.keyHelp") }),
      field({ label: t("attributesPage.label"), control: label, name: "label" }),
      field({ label: t("attributesPage.kind"), control: kind, name: "type" }),
      optionsField,
      h("div", { class: "form-actions" }, create));
    const errors = formErrors(form);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const ok = await submitting(create, errors, async () => {
        const body = { key: key.value.trim(), label: label.value.trim(), type: kind.value, options: kind.value === "list" ? lines(options.value) : [] };
        defs.push(await api.post("/attribute-definitions", body));
      });
      if (ok) { key.value = ""; label.value = ""; options.value = ""; toast(t("attributesPage.created"), "info"); render(); }
    });
    mount(container, h("p", { class: "muted" }, t("attributesPage.intro")), form, list);

    /** @param {AttributeDef} d */
    const edit = (d) => {
      const labelEl = input({ testid: "attribute-edit-label", value: d.label, required: true, maxlength: "100" });
      const optionsEl = optionsInput(d.options.join("\n"));
      optionsEl.setAttribute("data-testid", "attribute-edit-options");
      const save = h("button", { type: "submit", class: "btn primary", "data-testid": "attribute-edit-save" }, t("common.save"));
      const f = h("form", { class: "stack", novalidate: true },
        field({ label: t("attributesPage.label"), control: labelEl, name: "label" }),
        d.type === "list" ? field({ label: t("attributesPage.options"), control: optionsEl, name: "options", help: t("attributesPage.optionsHelp") }) : null,
        h("div", { class: "form-actions" }, save));
      const errs = formErrors(f);
      f.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        await submitting(save, errs, async () => {
          const body = d.type === "list" ? { label: labelEl.value.trim(), options: lines(optionsEl.value) } : { label: labelEl.value.trim() };
          const saved = await api.patch(`/attribute-definitions/${d.id}`, body);
          close();
          defs = defs.map((x) => (x.id === saved.id ? saved : x));
          toast(t("attributesPage.saved"), "info");
          render();
        });
      });
      const close = openDialog({ title: t("attributesPage.editTitle", { name: d.label }), body: f, testid: "attribute-edit-dialog" });
      labelEl.select();
    };

    /** @param {AttributeDef} d */
    const remove = async (d) => {
      if (!(await confirmDialog(t("attributesPage.deleteTitle", { name: d.label }), t("attributesPage.deleteText"), t("common.delete")))) return;
      try {
        await api.del(`/attribute-definitions/${d.id}`);
        defs = defs.filter((x) => x.id !== d.id);
        toast(t("attributesPage.deleted"), "info");
        render();
      } catch (e) { toast(errorText(e)); }
    };

    const render = () => {
      if (!defs.length) { mount(list, h("p", { class: "muted", "data-testid": "attributes-empty" }, t("attributesPage.empty"))); return; }
      mount(list, defs.map((d) => h("section", { class: "card", "data-testid": "attribute-row", "data-key": d.key },
        h("div", { class: "toolbar" },
          h("h2", {}, d.label),
          h("code", { class: "muted" }, d.key),
          h("span", { class: "chip", "data-testid": "attribute-row-kind" }, t(`attributesPage.kind.${d.type}`)),
          d.type === "list" ? h("span", { class: "muted" }, d.options.join(" · ")) : null,
          h("div", { class: "spacer" }),
          h("button", { type: "button", class: "btn small", "data-testid": "attribute-edit", onclick: () => edit(d) }, t("attributesPage.edit")),
          h("button", { type: "button", class: "btn small danger", "data-testid": "attribute-delete", onclick: () => remove(d) }, t("common.delete"))))));
    };

    defs = items(await api.get("/attribute-definitions"));
    render();
  },
};
