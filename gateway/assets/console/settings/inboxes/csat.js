// The "Satisfaction survey" card of an inbox's settings: whether customers are asked to rate a
// conversation when it is first resolved, and with which question.

import { h, toast } from "../../dom.js";
import { http, translator, checkbox, field, formErrors, submitting } from "../../forms/index.js";
import strings from "./strings.js";

const t = translator(strings);

/**
 * @param {Record<string, any>} inbox
 * @returns {HTMLElement}
 */
export function csatPanel(inbox) {
  const csat = inbox.csat || { enabled: false, message: "" };
  const enabled = checkbox({ label: t("csat.enabled"), checked: !!csat.enabled, testid: "csat-enabled", name: "csat.enabled" });
  const message = h("textarea", { class: "input", rows: "2", maxlength: "500", "data-testid": "csat-message", value: csat.message || "", placeholder: t("csat.placeholder") });
  const save = h("button", { type: "submit", class: "btn primary", "data-testid": "csat-save" }, t("csat.save"));
  const form = h("form", { class: "stack", novalidate: true },
    h("div", { class: "field", "data-field": "csat.enabled" }, enabled.row),
    field({ label: t("csat.message"), control: message, name: "csat.message", help: t("csat.messageHelp") }),
    h("div", { class: "form-actions" }, save));
  const errors = formErrors(form);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const ok = await submitting(save, errors, async () => {
      const saved = await http.patch(`/inboxes/${inbox.id}`, { csat: { enabled: enabled.box.checked, message: message.value } });
      inbox.csat = saved.csat;
    });
    if (ok) toast(t("csat.saved"), "info");
  });
  return h("section", { class: "card", "data-testid": "inbox-csat" },
    h("h3", {}, t("csat.title")),
    h("p", { class: "muted" }, t("csat.lead")),
    form);
}
