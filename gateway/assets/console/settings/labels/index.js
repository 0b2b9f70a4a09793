// Labels (supervisors and admins): create with a name and a colour, rename, recolour, delete.
// The conversations view reads the same list for its chips, picker and filter.

import { items } from "../../api.js";
import { registerStrings } from "../../i18n.js";
import { h, mount, toast } from "../../dom.js";
import { errorText } from "../../errors.js";
import { openDialog, confirmDialog, field, input, formErrors, submitting } from "../../forms/index.js";
import { loadLabels } from "../../conversations/labels.js";
import strings from "./strings.js";

registerStrings(strings);

/** @typedef {import("../../types.js").Label} Label */

const DEFAULT_COLOR = "#64748b";

/** @param {string} [value] */
const colorInput = (value) => input({ type: "color", testid: "label-color", value: value || DEFAULT_COLOR, class: "input color" });

/** @type {import("../page.js").Page} */
export const page = {
  id: "labels",
  titleKey: "labelsPage.title",
  minRole: "supervisor",
  async render(container, { api, t }) {
    /** @type {Label[]} */
    let labels = [];
    const list = h("div", { class: "stack", "data-testid": "labels-list" });

    const name = input({ testid: "label-new-name", required: true, maxlength: "50", autocomplete: "off" });
    const color = colorInput();
    const create = h("button", { type: "submit", class: "btn primary", "data-testid": "label-create" }, t("labelsPage.create"));
    const form = h("form", { class: "card inline-form", novalidate: true, "data-testid": "label-create-form" },
      field({ label: t("labelsPage.name"), control: name, name: "name", testid: "label-new-name" }),
      field({ label: t("labelsPage.color"), control: color, name: "color", testid: "label-color" }), create);
    const errors = formErrors(form);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const ok = await submitting(create, errors, async () => {
        labels.push(await api.post("/labels", { name: name.value.trim(), color: color.value }));
      });
      if (ok) { name.value = ""; toast(t("labelsPage.created"), "info"); changed(); }
    });
    mount(container, h("p", { class: "muted" }, t("labelsPage.intro")), form, list);

    /** Re-renders and refreshes the conversations view's copy. */
    const changed = () => { labels.sort((a, b) => a.name.localeCompare(b.name)); render(); loadLabels(); };

    /** @param {Label} l */
    const edit = (l) => {
      const nameEl = input({ testid: "label-edit-name", value: l.name, required: true, maxlength: "50" });
      const colorEl = colorInput(l.color);
      colorEl.setAttribute("data-testid", "label-edit-color");
      const save = h("button", { type: "submit", class: "btn primary", "data-testid": "label-edit-save" }, t("common.save"));
      const f = h("form", { class: "stack", novalidate: true },
        field({ label: t("labelsPage.name"), control: nameEl, name: "name", testid: "label-edit-name" }),
        field({ label: t("labelsPage.color"), control: colorEl, name: "color", testid: "label-edit-color" }),
        h("div", { class: "form-actions" }, save));
      const errs = formErrors(f);
      f.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        await submitting(save, errs, async () => {
          const saved = await api.patch(`/labels/${l.id}`, { name: nameEl.value.trim(), color: colorEl.value });
          close();
          labels = labels.map((x) => (x.id === saved.id ? saved : x));
          toast(t("labelsPage.saved"), "info");
          changed();
        });
      });
      const close = openDialog({ title: t("labelsPage.editTitle", { name: l.name }), body: f, testid: "label-edit-dialog" });
      nameEl.select();
    };

    /** @param {Label} l */
    const remove = async (l) => {
      if (!(await confirmDialog(t("labelsPage.deleteTitle", { name: l.name }), t("labelsPage.deleteText"), t("common.delete")))) return;
      try {
        await api.del(`/labels/${l.id}`);
        labels = labels.filter((x) => x.id !== l.id);
        toast(t("labelsPage.deleted"), "info");
        changed();
      } catch (e) { toast(errorText(e)); }
    };

    const render = () => {
      if (!labels.length) { mount(list, h("p", { class: "muted", "data-testid": "labels-empty" }, t("labelsPage.empty"))); return; }
      mount(list, labels.map((l) => {
        const swatch = h("span", { class: "label-swatch", "aria-hidden": "true" });
        swatch.style.backgroundColor = l.color;
        return h("section", { class: "card label-row", "data-testid": "label-row", "data-name": l.name },
          h("div", { class: "toolbar" },
            swatch,
            h("h2", { class: "label-name" }, l.name),
            h("code", { class: "muted", "data-testid": "label-row-color" }, l.color),
            h("div", { class: "spacer" }),
            h("button", { type: "button", class: "btn small", "data-testid": "label-edit", onclick: () => edit(l) }, t("labelsPage.edit")),
            h("button", { type: "button", class: "btn small danger", "data-testid": "label-delete", onclick: () => remove(l) }, t("common.delete"))));
      }));
    };

    labels = items(await api.get("/labels"));
    render();
  },
};
