// The "Channel fallback" card of an inbox's settings: whether a reply or notification that
// cannot reach the customer here (WeChat's 48-hour window closed, the app has no device) is
// sent through another of the contact's channels, and in which order of channel types.

import { h, toast } from "../../dom.js";
import { http, translator, checkbox, field, select, formErrors, submitting } from "../../forms/index.js";
import strings from "./strings.js";
import { typeLabel } from "./editor.js";

const t = translator(strings);

/** How many steps the order offers. */
const STEPS = 3;

/**
 * @param {Record<string, any>} inbox
 * @param {string[]} types the server's channel types
 * @returns {HTMLElement}
 */
export function fallbackPanel(inbox, types) {
  const fb = inbox.fallback || { enabled: false, order: [] };
  const others = types.filter((ty) => ty !== inbox.channel?.type && ty !== "loopback");
  const enabled = checkbox({ label: t("fallback.enabled"), checked: !!fb.enabled, testid: "fallback-enabled", name: "fallback.enabled" });
  /** @type {[string, string][]} */
  const options = [["", t("fallback.any")], ...others.map((ty) => /** @type {[string, string]} */ ([ty, typeLabel(ty)]))];
  const steps = Array.from({ length: STEPS }, (_, i) =>
    select({ testid: `fallback-order-${i}`, "aria-label": t("fallback.step", { n: String(i + 1) }) }, options, fb.order?.[i] || ""));
  const save = h("button", { type: "submit", class: "btn primary", "data-testid": "fallback-save" }, t("fallback.save"));
  const form = h("form", { class: "stack", novalidate: true },
    h("div", { class: "field", "data-field": "fallback.enabled" }, enabled.row),
    field({
      label: t("fallback.order"), name: "fallback.order", help: t("fallback.orderHelp"),
      control: h("div", { class: "row" }, steps.flatMap((s, i) => i ? [h("span", { class: "muted" }, "→"), s] : [s])),
    }),
    h("div", { class: "form-actions" }, save));
  const errors = formErrors(form);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    // Empty steps mean "the next most recently used"; a type picked twice counts once.
    const order = [...new Set(steps.map((s) => s.value).filter(Boolean))];
    const ok = await submitting(save, errors, async () => {
      const saved = await http.patch(`/inboxes/${inbox.id}`, { fallback: { enabled: enabled.box.checked, order } });
      inbox.fallback = saved.fallback;
    });
    if (ok) toast(t("fallback.saved"), "info");
  });
  return h("section", { class: "card", "data-testid": "inbox-fallback" },
    h("h3", {}, t("fallback.title")),
    h("p", { class: "muted" }, t("fallback.lead")),
    form);
}
