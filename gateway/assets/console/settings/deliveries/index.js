// Settings → Rate limits & failures: an inbox's send quota (`/inboxes/{id}/rate-limit`), and
// the dead letters (`/dead-letters`): failed replies and failed webhook deliveries, with retry.

import { h, mount, toast, fmtFull } from "../../dom.js";
import { ensureStyles, http, itemsOf, translator, field, busy, ErrorView, lastInbox, rememberInbox } from "../../forms/index.js";
import strings from "./strings.js";

const t = translator(strings);
const LIMITS = [["per_second", "perSecond"], ["burst", "burst"], ["per_recipient_per_second", "perRecipient"], ["per_recipient_burst", "perRecipientBurst"]];

/** @type {import("../page.js").Page} */
export const page = {
  id: "deliveries",
  titleKey: "deliveries.page",
  minRole: "supervisor",
  /**
   * @param {HTMLElement} container
   * @param {import("../page.js").PageContext} ctx
   */
  render(container, ctx) {
    ensureStyles();
    const quota = h("div", {});
    const dead = h("div", {});
    mount(container, h("div", { class: "sp", "data-testid": "deliveries-page" },
      h("p", { class: "muted" }, t("deliveries.lead")),
      quota, dead));
    // The quota is admins' business; supervisors see the failures.
    const role = ctx && ctx.me && ctx.me.role;
    if (!role || role === "admin") rateLimits(quota);
    deadLetters(dead);
  },
};

/** @param {HTMLElement} box */
async function rateLimits(box) {
  const errors = new ErrorView(box);
  let inboxes;
  try {
    inboxes = itemsOf(await http.get("/inboxes"));
  } catch (e) {
    mount(box, errors.summary);
    errors.show(e);
    return;
  }
  if (!inboxes.length) {
    mount(box, h("section", { class: "card" }, h("h3", {}, t("deliveries.rate")), h("p", { class: "muted" }, t("deliveries.noInboxes"))));
    return;
  }
  const picker = /** @type {HTMLSelectElement} */ (h("select", { "data-testid": "rate-inbox" },
    inboxes.map((ib) => h("option", { value: String(ib.id) }, `${ib.name} (#${ib.id})`))));
  const wanted = lastInbox();
  picker.value = inboxes.some((ib) => String(ib.id) === wanted) ? String(wanted) : String(inboxes[0].id);
  const formBox = h("div", {});
  picker.addEventListener("change", () => { rememberInbox(picker.value); quotaForm(formBox, Number(picker.value)); });
  mount(box, h("section", { class: "card", "data-testid": "rate-limits" },
    h("h3", {}, t("deliveries.rate")),
    h("p", { class: "muted" }, t("deliveries.rateHelp")),
    field({ path: "inbox", label: t("deliveries.inbox"), control: picker }),
    formBox));
  await quotaForm(formBox, Number(picker.value));
}

/** @param {HTMLElement} box @param {number} inboxId */
async function quotaForm(box, inboxId) {
  const errors = new ErrorView(box);
  let current;
  try {
    current = await http.get(`/inboxes/${inboxId}/rate-limit`);
  } catch (e) {
    mount(box, errors.summary);
    errors.show(e);
    return;
  }
  const inputs = LIMITS.map(([key, label]) => {
    const input = /** @type {HTMLInputElement} */ (h("input", { type: "number", min: 1, max: 100000, step: 1, class: "inline-num", "data-testid": `rate-${key}` }));
    if (current && current[key] != null) input.value = String(current[key]);
    return { key, input, el: field({ path: key, label: t(`deliveries.${label}`), control: input }) };
  });
  const save = h("button", { type: "submit", class: "btn primary", "data-testid": "rate-save" }, t("deliveries.save"));
  const form = h("form", { novalidate: true, class: "mt", "data-testid": "rate-form" },
    h("div", { class: "rule-cols" }, inputs.map((i) => i.el)),
    h("div", { class: "form-actions" }, save));
  const formErrors = new ErrorView(form);
  form.prepend(formErrors.summary);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    formErrors.clear();
    /** @type {Record<string, number | string>} */
    const body = {};
    for (const { key, input } of inputs) {
      const v = input.value.trim();
      if (v !== "") body[key] = /^\d+$/.test(v) ? Number(v) : v;
    }
    try {
      await busy(/** @type {HTMLButtonElement} */ (save), t("forms.saving"), () => http.put(`/inboxes/${inboxId}/rate-limit`, body));
      toast(t("deliveries.saved"), "info");
    } catch (e) {
      formErrors.show(e);
    }
  });
  mount(box, form);
}

/** @param {HTMLElement} box */
async function deadLetters(box) {
  const errors = new ErrorView(box);
  let data;
  try {
    data = await http.get("/dead-letters?limit=50");
  } catch (e) {
    mount(box, errors.summary);
    errors.show(e);
    return;
  }
  const reload = () => deadLetters(box);
  /** @type {(path: string) => (btn: HTMLButtonElement) => Promise<void>} */
  const retry = (path) => async (btn) => {
    try {
      await busy(btn, t("deliveries.retry"), () => http.post(path, {}));
      toast(t("deliveries.retried"), "info");
      reload();
    } catch (e) {
      errors.show(e);
    }
  };
  const messages = itemsOf(data && data.messages);
  const hooks = itemsOf(data && data.webhook_deliveries);
  mount(box,
    errors.summary,
    h("section", { class: "card", "data-testid": "failed-replies" },
      h("div", { class: "row" }, h("h3", { class: "grow" }, t("deliveries.failedReplies")),
        h("button", { type: "button", class: "btn small", "data-testid": "dead-refresh", onclick: reload }, t("deliveries.refresh"))),
      h("p", { class: "muted" }, t("deliveries.failedRepliesHelp")),
      messages.length ? h("div", { class: "items" }, messages.map((m) => failedRow({
        testid: "failed-reply", id: m.id,
        title: (m.content && m.content.text) || "—",
        sub: [t("deliveries.conversation", { id: m.conversation_id }), fmtFull(m.created_at), m.delivery && m.delivery.error].filter(Boolean).join(" · "),
        onRetry: retry(`/messages/${m.id}/retry`),
      }))) : h("p", { class: "muted" }, t("deliveries.none"))),
    h("section", { class: "card", "data-testid": "failed-webhooks" },
      h("h3", {}, t("deliveries.failedWebhooks")),
      h("p", { class: "muted" }, t("deliveries.failedWebhooksHelp")),
      hooks.length ? h("div", { class: "items" }, hooks.map((d) => failedRow({
        testid: "failed-webhook", id: d.id,
        title: d.event_type,
        sub: [t("deliveries.webhook", { id: d.endpoint_id }), fmtFull(d.created_at), d.last_status_code ? `HTTP ${d.last_status_code}` : "", d.last_error].filter(Boolean).join(" · "),
        onRetry: retry(`/webhooks/${d.endpoint_id}/deliveries/${d.id}/retry`),
      }))) : h("p", { class: "muted" }, t("deliveries.none"))));
}

/**
 * @param {{testid: string, id: number, title: string, sub: string, onRetry: (btn: HTMLButtonElement) => void}} o
 */
function failedRow(o) {
  const btn = /** @type {HTMLButtonElement} */ (h("button", { type: "button", class: "btn small", "data-testid": `${o.testid}-retry` }, t("deliveries.retry")));
  btn.addEventListener("click", () => o.onRetry(btn));
  return h("div", { class: "item", "data-testid": o.testid, "data-id": o.id },
    h("div", { class: "grow" }, h("div", { class: "title" }, o.title), h("div", { class: "sub" }, o.sub)),
    btn);
}
