// The "FAQ bot" card of an inbox's settings: off, suggestions for agents, or automatic answers,
// with the thresholds of automatic answers and the bot's hours (`GET/PUT /inboxes/{id}/bot`).

import { h, toast } from "../../dom.js";
import { http, itemsOf, translator, field, input, select, formErrors, submitting } from "../../forms/index.js";
import strings from "./bot_strings.js";

const t = translator(strings);

/**
 * @param {Record<string, any>} inbox
 * @returns {HTMLElement}
 */
export function botPanel(inbox) {
  const mode = select({ testid: "bot-mode" }, [["off", t("bot.off")], ["suggest", t("bot.suggest")], ["auto", t("bot.auto")]], "off");
  const minScore = input({ type: "number", step: "0.05", min: "0", max: "1", testid: "bot-min-score" });
  const minMargin = input({ type: "number", step: "0.05", min: "0", max: "1", testid: "bot-min-margin" });
  const maxAnswers = input({ type: "number", step: "1", min: "1", max: "20", testid: "bot-max-answers" });
  const schedule = select({ testid: "bot-schedule" }, [["", t("bot.scheduleAlways")]], "");
  const save = h("button", { type: "submit", class: "btn primary", "data-testid": "bot-save" }, t("bot.save"));
  const form = h("form", { class: "stack", novalidate: true },
    field({ label: t("bot.mode"), control: mode, name: "mode" }),
    field({ label: t("bot.minScore"), control: minScore, name: "min_score" }),
    field({ label: t("bot.minMargin"), control: minMargin, name: "min_margin" }),
    field({ label: t("bot.maxAnswers"), control: maxAnswers, name: "max_answers" }),
    field({ label: t("bot.schedule"), control: schedule, name: "schedule_id", help: t("bot.scheduleHelp") }),
    h("div", { class: "form-actions" }, save));
  /** @param {Record<string, any>} s */
  const show = (s) => {
    mode.value = s.mode;
    minScore.value = String(s.min_score);
    minMargin.value = String(s.min_margin);
    maxAnswers.value = String(s.max_answers);
    schedule.value = s.schedule_id == null ? "" : String(s.schedule_id);
  };
  // The schedules first, so the stored one is among the options when the settings arrive.
  http.get("/schedules").then((list) => {
    /** @type {import("../../types.js").Schedule[]} */
    const schedules = itemsOf(list);
    for (const s of schedules) schedule.append(h("option", { value: String(s.id) }, `${s.name} · ${s.time_zone}`));
  }, () => {}).then(() => http.get(`/inboxes/${inbox.id}/bot`)).then(show, () => {});
  const errors = formErrors(form);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const ok = await submitting(save, errors, async () => {
      show(await http.put(`/inboxes/${inbox.id}/bot`, {
        mode: mode.value,
        min_score: Number(minScore.value),
        min_margin: Number(minMargin.value),
        max_answers: Number(maxAnswers.value),
        schedule_id: schedule.value ? Number(schedule.value) : null,
      }));
    });
    if (ok) toast(t("bot.saved"), "info");
  });
  return h("section", { class: "card", "data-testid": "inbox-bot" },
    h("h3", {}, t("bot.title")),
    h("p", { class: "muted" }, t("bot.lead")),
    form);
}
