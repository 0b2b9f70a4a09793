// The form of one inbox: its name and the channel settings, built from the channel type's
// JSON Schema. Creates (POST) or updates (PATCH, secrets left empty are kept).

import { h } from "../../dom.js";
import { http, translator, schemaForm, field, busy, ErrorView } from "../../forms/index.js";
import { text } from "../../forms/schema.js";
import strings from "./strings.js";

const t = translator(strings);

/**
 * The name of a channel type: the console's own label, else the schema's title, else the type.
 * @param {string} type
 * @param {Record<string, any>} [schema]
 */
export function typeLabel(type, schema) {
  const key = `channel.${type}`;
  const s = t(key);
  if (s !== key) return s;
  return (schema && text(schema, "title")) || type || "?";
}

/**
 * @param {{type: import("./index.js").ChannelType, inbox?: Record<string, any>,
 *   onSaved: (inbox: Record<string, any>) => void, onDirty?: () => void}} o
 * @returns {HTMLElement}
 */
export function inboxEditor(o) {
  const edit = !!o.inbox;
  const settings = edit ? { ...(o.inbox?.channel || {}) } : {};
  delete settings.type;
  const name = h("input", { type: "text", maxlength: 100, required: true, autocomplete: "off", "data-testid": "inbox-name" });
  if (edit) /** @type {HTMLInputElement} */ (name).value = o.inbox?.name || "";
  const channel = schemaForm({
    schema: o.type.schema || { type: "object", properties: {} },
    value: settings,
    secrets: o.type.secrets || [],
    secretsSet: edit ? o.inbox?.secrets_set || [] : [],
    edit,
    path: "channel",
  });
  const submit = h("button", { type: "submit", class: "btn primary", "data-testid": "inbox-save" }, edit ? t("forms.save") : t("inboxes.create"));
  const form = h("form", { class: "inbox-form", novalidate: true, "data-testid": "inbox-form", "data-type": o.type.type },
    h("div", { class: "fields" },
      field({ path: "name", label: t("inboxes.name"), control: name, help: t("inboxes.nameHelp"), required: true }),
      channel.el));
  const errors = new ErrorView(form, { prefixes: ["channel"] });
  form.prepend(errors.summary);
  form.append(h("div", { class: "form-actions" }, submit));
  if (o.onDirty) form.addEventListener("input", o.onDirty, { once: true });

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    errors.clear();
    const body = {
      name: /** @type {HTMLInputElement} */ (name).value.trim(),
      channel: edit ? channel.value() : { type: o.type.type, ...channel.value() },
    };
    try {
      const saved = await busy(/** @type {HTMLButtonElement} */ (submit), edit ? t("forms.saving") : t("inboxes.creating"), () =>
        edit ? http.patch(`/inboxes/${o.inbox?.id}`, body) : http.post("/inboxes", body));
      o.onSaved(saved);
    } catch (e) {
      // Everything typed stays in place; the problems show next to their fields.
      errors.show(e);
    }
  });
  return form;
}
