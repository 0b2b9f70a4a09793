// Business hours (admins): schedules with a time zone, opening intervals per weekday (split
// shifts), holidays and make-up workdays. Inboxes keep one through their settings; the server
// refuses to delete a schedule an inbox keeps (`schedule_in_use`, shown as a toast).

import { items } from "../../api.js";
import { registerStrings } from "../../i18n.js";
import { h, mount, toast } from "../../dom.js";
import { errorText } from "../../errors.js";
import { openDialog, confirmDialog, field, input, formErrors, submitting } from "../../forms/index.js";
import strings from "./strings.js";

registerStrings(strings);

/** @typedef {import("../../types.js").Schedule} Schedule */
/** @typedef {import("../../types.js").Weekly} Weekly */

/** @type {(keyof Weekly)[]} */
const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/** The time zones the browser knows, for the zone field's suggestions. */
const zones = () => {
  const intl = /** @type {any} */ (Intl);
  return typeof intl.supportedValuesOf === "function" ? /** @type {string[]} */ (intl.supportedValuesOf("timeZone")) : [];
};

/**
 * `09:00-12:00, 13:00-18:00` → `[["09:00", "12:00"], ["13:00", "18:00"]]`. A piece without
 * a dash is sent as it is, for the server to name what is wrong with it.
 * @param {string} text
 * @returns {[string, string][]}
 */
export function parseIntervals(text) {
  return text.split(/[,，;\n]/).map((s) => s.trim()).filter(Boolean).map((piece) => {
    const [start, end = ""] = piece.split(/\s*[-–~至]\s*/);
    return /** @type {[string, string]} */ ([start, end]);
  });
}

/** @param {[string, string][]} intervals */
const spellIntervals = (intervals) => intervals.map(([s, e]) => `${s}-${e}`).join(", ");

/** @param {string} text */
const parseDates = (text) => text.split(/[\s,，]+/).map((s) => s.trim()).filter(Boolean);

/**
 * The schedule form, for a new schedule or to edit `s`.
 * @param {typeof import("../../i18n.js").t} t
 * @param {string} prefix the test id prefix: `schedule-new` or `schedule-edit`
 * @param {Schedule} [s]
 */
function scheduleFields(t, prefix, s) {
  const listId = `${prefix}-zones`;
  const name = input({ testid: `${prefix}-name`, required: true, maxlength: "100", autocomplete: "off", value: s?.name || "" });
  const zone = input({ testid: `${prefix}-zone`, required: true, list: listId, autocomplete: "off",
    value: s?.time_zone || Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC" });
  const days = DAYS.map((d) => ({ d, el: input({ testid: `${prefix}-day-${d}`, autocomplete: "off", placeholder: t("schedulesPage.closed"),
    value: s ? spellIntervals(s.weekly[d] || []) : "" }) }));
  const holidays = h("textarea", { class: "input", rows: "3", "data-testid": `${prefix}-holidays`, value: (s?.holidays || []).join("\n") });
  const extra = h("textarea", { class: "input", rows: "2", "data-testid": `${prefix}-extra`, value: (s?.extra_workdays || []).join("\n") });
  const nodes = [
    field({ label: t("schedulesPage.name"), control: name, name: "name", required: true }),
    field({ label: t("schedulesPage.timeZone"), control: zone, name: "time_zone", required: true, hint: t("schedulesPage.timeZoneHint") }),
    h("datalist", { id: listId }, zones().map((z) => h("option", { value: z }))),
    h("fieldset", { class: "stack" },
      h("legend", {}, t("schedulesPage.hours")),
      h("p", { class: "field-hint" }, t("schedulesPage.hoursHint")),
      days.map(({ d, el }) => field({ label: t(`schedulesPage.day.${d}`), control: el, name: `weekly.${d}` }))),
    field({ label: t("schedulesPage.holidays"), control: holidays, name: "holidays", hint: t("schedulesPage.holidaysHint") }),
    field({ label: t("schedulesPage.extraWorkdays"), control: extra, name: "extra_workdays", hint: t("schedulesPage.extraWorkdaysHint") }),
  ];
  const value = () => ({
    name: name.value.trim(),
    time_zone: zone.value.trim(),
    weekly: Object.fromEntries(days.map(({ d, el }) => [d, parseIntervals(el.value)])),
    holidays: parseDates(holidays.value),
    extra_workdays: parseDates(extra.value),
  });
  return { nodes, value, name };
}

/** @type {import("../page.js").Page} */
export const page = {
  id: "schedules",
  titleKey: "schedulesPage.title",
  minRole: "admin",
  async render(container, { api, t }) {
    /** @type {Schedule[]} */
    let schedules = [];
    const list = h("div", { class: "stack", "data-testid": "schedules-list" });

    const fresh = scheduleFields(t, "schedule-new");
    const create = h("button", { type: "submit", class: "btn primary", "data-testid": "schedule-create" }, t("schedulesPage.create"));
    const form = h("form", { class: "card stack", novalidate: true, "data-testid": "schedule-create-form" },
      fresh.nodes, h("div", { class: "form-actions" }, create));
    const errors = formErrors(form);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const ok = await submitting(create, errors, async () => {
        schedules.push(await api.post("/schedules", fresh.value()));
      });
      if (ok) { fresh.name.value = ""; toast(t("schedulesPage.created"), "info"); changed(); }
    });
    mount(container, h("p", { class: "muted" }, t("schedulesPage.intro")), list, form);

    const changed = () => { schedules.sort((a, b) => a.name.localeCompare(b.name)); render(); };

    /** @param {Schedule} s */
    const edit = (s) => {
      const f = scheduleFields(t, "schedule-edit", s);
      const save = h("button", { type: "submit", class: "btn primary", "data-testid": "schedule-edit-save" }, t("common.save"));
      const el = h("form", { class: "stack", novalidate: true }, f.nodes, h("div", { class: "form-actions" }, save));
      const errs = formErrors(el);
      el.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        await submitting(save, errs, async () => {
          const saved = await api.put(`/schedules/${s.id}`, f.value());
          close();
          schedules = schedules.map((x) => (x.id === saved.id ? saved : x));
          toast(t("schedulesPage.saved"), "info");
          changed();
        });
      });
      const close = openDialog({ title: t("schedulesPage.editTitle", { name: s.name }), body: el, testid: "schedule-edit-dialog" });
      f.name.select();
    };

    /** @param {Schedule} s */
    const remove = async (s) => {
      if (!(await confirmDialog(t("schedulesPage.deleteTitle", { name: s.name }), t("schedulesPage.deleteText"), t("common.delete")))) return;
      try {
        await api.del(`/schedules/${s.id}`);
        schedules = schedules.filter((x) => x.id !== s.id);
        toast(t("schedulesPage.deleted"), "info");
        changed();
      } catch (e) { toast(errorText(e)); }
    };

    const render = () => {
      if (!schedules.length) { mount(list, h("p", { class: "muted", "data-testid": "schedules-empty" }, t("schedulesPage.empty"))); return; }
      mount(list, schedules.map((s) => h("section", { class: "card stack", "data-testid": "schedule-row", "data-name": s.name },
        h("div", { class: "toolbar" },
          h("h2", {}, s.name),
          h("code", { class: "muted", "data-testid": "schedule-row-zone" }, s.time_zone),
          h("div", { class: "spacer" }),
          h("button", { type: "button", class: "btn small", "data-testid": "schedule-edit", onclick: () => edit(s) }, t("schedulesPage.edit")),
          h("button", { type: "button", class: "btn small danger", "data-testid": "schedule-delete", onclick: () => remove(s) }, t("common.delete"))),
        h("dl", { class: "schedule-days" }, DAYS.map((d) => [
          h("dt", {}, t(`schedulesPage.day.${d}`)),
          h("dd", { "data-testid": `schedule-row-${d}` }, (s.weekly[d] || []).length ? spellIntervals(s.weekly[d]) : t("schedulesPage.closed")),
        ])),
        h("p", { class: "muted", "data-testid": "schedule-row-dates" },
          t("schedulesPage.dates", { holidays: s.holidays.length, extra: s.extra_workdays.length })))));
    };

    schedules = items(await api.get("/schedules"));
    render();
  },
};
