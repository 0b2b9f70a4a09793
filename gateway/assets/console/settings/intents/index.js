// Intents (admins): named intents with example phrases. The intent of a customer's first
// message is detected when the conversation is routed; routing rules use it (`when.intent`).

import { items } from "../../api.js";
import { registerStrings } from "../../i18n.js";
import { h, mount, toast } from "../../dom.js";
import { errorText } from "../../errors.js";
import { openDialog, confirmDialog, field, input, checkbox, formErrors, submitting } from "../../forms/index.js";
import strings from "./strings.js";

registerStrings(strings);

/** @typedef {import("../../types.js").Intent} Intent */

/**
 * The intent's form controls, filled from `it` when editing (its name is then fixed).
 * @param {(key: string) => string} t
 * @param {Intent} [it]
 */
function controls(t, it) {
  const name = input({ testid: "intent-name", value: it?.name || "", required: true, maxlength: "50", autocomplete: "off" });
  if (it) name.disabled = true;
  const label = input({ testid: "intent-label", value: it?.label || "", maxlength: "100", autocomplete: "off" });
  const examples = /** @type {HTMLTextAreaElement} */ (h("textarea", { class: "input", rows: "6", "data-testid": "intent-examples" }));
  examples.value = (it?.examples || []).join("\n");
  const enabled = checkbox({ label: t("intentsPage.enabled"), checked: it ? it.enabled : true, testid: "intent-enabled" });
  const body = () => ({
    name: it ? it.name : name.value.trim(),
    label: label.value.trim() || null,
    examples: examples.value.split("\n").map((s) => s.trim()).filter(Boolean),
    enabled: enabled.box.checked,
  });
  const fields = [
    field({ label: t("intentsPage.name"), control: name, name: "name", required: true, hint: it ? t("intentsPage.nameFixed") : t("intentsPage.nameHint") }),
    field({ label: t("intentsPage.label"), control: label, name: "label" }),
    field({ label: t("intentsPage.examples"), control: examples, name: "examples", required: true }),
    enabled.row,
  ];
  return { fields, body, name, label, examples };
}

/** @type {import("../page.js").Page} */
export const page = {
  id: "intents",
  titleKey: "intentsPage.title",
  minRole: "admin",
  async render(container, { api, t }) {
    /** @type {Intent[]} */
    let intents = [];
    const list = h("div", { class: "stack", "data-testid": "intents-list" });

    const add = controls(t);
    const create = h("button", { type: "submit", class: "btn primary", "data-testid": "intent-create" }, t("intentsPage.create"));
    const form = h("form", { class: "card stack", novalidate: true, "data-testid": "intent-create-form" },
      add.fields, h("div", { class: "form-actions" }, create));
    const errors = formErrors(form);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const ok = await submitting(create, errors, async () => {
        intents.push(await api.post("/intents", add.body()));
      });
      if (ok) {
        add.name.value = "";
        add.label.value = "";
        add.examples.value = "";
        toast(t("intentsPage.created"), "info");
        render();
      }
    });
    mount(container, h("p", { class: "muted" }, t("intentsPage.intro")), form, list);

    /** @param {Intent} it */
    const edit = (it) => {
      const c = controls(t, it);
      const save = h("button", { type: "submit", class: "btn primary", "data-testid": "intent-edit-save" }, t("common.save"));
      const f = h("form", { class: "stack", novalidate: true }, c.fields, h("div", { class: "form-actions" }, save));
      const errs = formErrors(f);
      f.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        await submitting(save, errs, async () => {
          const saved = await api.put(`/intents/${it.id}`, c.body());
          close();
          intents = intents.map((x) => (x.id === saved.id ? saved : x));
          toast(t("intentsPage.saved"), "info");
          render();
        });
      });
      const close = openDialog({ title: t("intentsPage.editTitle"), body: f, testid: "intent-edit-dialog" });
      c.examples.focus();
    };

    /** @param {Intent} it */
    const toggle = async (it) => {
      try {
        const saved = await api.put(`/intents/${it.id}`, { name: it.name, label: it.label, examples: it.examples, enabled: !it.enabled });
        intents = intents.map((x) => (x.id === saved.id ? saved : x));
        render();
      } catch (err) { toast(errorText(err)); }
    };

    /** @param {Intent} it */
    const remove = async (it) => {
      if (!(await confirmDialog(t("intentsPage.deleteTitle"), t("intentsPage.deleteText"), t("common.delete")))) return;
      try {
        await api.del(`/intents/${it.id}`);
        intents = intents.filter((x) => x.id !== it.id);
        toast(t("intentsPage.deleted"), "info");
        render();
      } catch (err) { toast(errorText(err)); }
    };

    const render = () => {
      if (!intents.length) { mount(list, h("p", { class: "muted", "data-testid": "intents-empty" }, t("intentsPage.empty"))); return; }
      const sorted = [...intents].sort((a, b) => a.name.localeCompare(b.name));
      mount(list, sorted.map((it) => h("section", { class: "card", "data-testid": "intent-row", "data-name": it.name },
        h("div", { class: "toolbar" },
          h("h2", { "data-testid": "intent-row-label" }, it.label),
          h("code", { class: "muted", "data-testid": "intent-row-name" }, it.name),
          it.enabled ? null : h("span", { class: "badge", "data-testid": "intent-row-disabled" }, t("intentsPage.disabled")),
          h("div", { class: "spacer" }),
          h("button", { type: "button", class: "btn small", "data-testid": "intent-toggle", onclick: () => toggle(it) },
            it.enabled ? t("intentsPage.disable") : t("intentsPage.enable")),
          h("button", { type: "button", class: "btn small", "data-testid": "intent-edit", onclick: () => edit(it) }, t("intentsPage.edit")),
          h("button", { type: "button", class: "btn small danger", "data-testid": "intent-delete", onclick: () => remove(it) }, t("common.delete"))),
        h("p", { class: "muted", "data-testid": "intent-row-examples" },
          t("intentsPage.exampleCount", { n: it.examples.length }), " · ", it.examples.slice(0, 5).join(" · ")))));
    };

    intents = items(await api.get("/intents"));
    render();
  },
};
