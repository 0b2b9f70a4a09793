// The "Business hours" card of an inbox's settings: the schedule the inbox keeps and the
// out-of-office reply customers get when they write while it is closed.

import { h, mount, toast } from "../../dom.js";
import { http, itemsOf, translator, checkbox, field, input, select, formErrors, submitting } from "../../forms/index.js";
import strings from "./strings.js";

const t = translator(strings);

/**
 * @param {Record<string, any>} inbox
 * @returns {HTMLElement}
 */
export function hoursPanel(inbox) {
  const body = h("div", {}, h("p", { class: "muted" }, t("forms.loading")));
  const card = h("section", { class: "card", "data-testid": "inbox-hours" },
    h("h3", {}, t("hours.title")),
    h("p", { class: "muted" }, t("hours.lead")),
    body);
  load(inbox, body).catch((e) => mount(body, h("p", { class: "field-error", role: "alert" }, String(e && e.detail || e))));
  return card;
}

/**
 * @param {Record<string, any>} inbox
 * @param {HTMLElement} body
 */
async function load(inbox, body) {
  /** @type {import("../../types.js").Schedule[]} */
  const schedules = itemsOf(await http.get("/schedules"));
  const away = inbox.out_of_office || { enabled: false, message: "", repeat_after_hours: 24 };
  const schedule = select({ testid: "hours-schedule" },
    [["", t("hours.none")], ...schedules.map((s) => /** @type {[string, string]} */ ([String(s.id), `${s.name} · ${s.time_zone}`]))],
    inbox.schedule_id == null ? "" : String(inbox.schedule_id));
  const enabled = checkbox({ label: t("hours.enabled"), checked: !!away.enabled, testid: "hours-away-enabled", name: "out_of_office.enabled" });
  const message = h("textarea", { class: "input", rows: "3", maxlength: "2000", "data-testid": "hours-away-message", value: away.message || "" });
  const repeat = input({ type: "number", min: "0", max: "720", step: "1", testid: "hours-away-repeat", value: String(away.repeat_after_hours ?? 24) });
  const save = h("button", { type: "submit", class: "btn primary", "data-testid": "hours-save" }, t("hours.save"));
  const form = h("form", { class: "stack", novalidate: true },
    field({ label: t("hours.schedule"), control: schedule, name: "schedule_id", help: schedules.length ? null : t("hours.noSchedules") }),
    h("div", { class: "field", "data-field": "out_of_office.enabled" }, enabled.row),
    field({ label: t("hours.message"), control: message, name: "out_of_office.message", help: t("hours.messageHelp") }),
    field({ label: t("hours.repeat"), control: repeat, name: "out_of_office.repeat_after_hours", help: t("hours.repeatHelp") }),
    h("div", { class: "form-actions" }, save));
  const errors = formErrors(form);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const ok = await submitting(save, errors, async () => {
      const saved = await http.patch(`/inboxes/${inbox.id}`, {
        schedule_id: schedule.value ? Number(schedule.value) : null,
        out_of_office: { enabled: enabled.box.checked, message: message.value, repeat_after_hours: Number(repeat.value || 0) },
      });
      inbox.schedule_id = saved.schedule_id;
      inbox.out_of_office = saved.out_of_office;
    });
    if (ok) toast(t("hours.saved"), "info");
  });
  mount(body, form);
}
