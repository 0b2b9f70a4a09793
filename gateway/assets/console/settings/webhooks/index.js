// Settings → Webhooks: subscribe an endpoint with an event picker (the signing secret shown
// once), rotate the secret, disable and enable, delete, and each endpoint's delivery log.

import { h, mount, toast, fmtFull } from "../../dom.js";
import { ensureStyles, http, itemsOf, translator, field, busy, confirmButton, copyField, ErrorView, fieldErrors, localize, isZh } from "../../forms/index.js";
import strings from "./strings.js";
import { EVENT_TYPES } from "../../vocab.js";
import { deliveryLog } from "./log.js";

const t = translator(strings);

/** @type {import("../page.js").Page} */
export const page = {
  id: "webhooks",
  titleKey: "webhooks.page",
  minRole: "admin",
  /**
   * @param {HTMLElement} container
   * @param {import("../page.js").PageContext} _ctx
   */
  render(container, _ctx) {
    ensureStyles();
    const root = h("div", { class: "sp", "data-testid": "webhooks-page" });
    mount(container, root);
    list(root);
  },
};

/**
 * @param {HTMLElement} root
 * @param {HTMLElement | null} [notice] shown above the list (the one-time secret)
 */
async function list(root, notice = null) {
  const top = new ErrorView(root);
  let endpoints;
  try {
    endpoints = itemsOf(await http.get("/webhooks"));
  } catch (e) {
    mount(root, top.summary);
    top.show(e);
    return;
  }
  const formBox = h("div", {});
  const newBtn = h("button", {
    type: "button", class: "btn primary", "data-testid": "webhook-new",
    onclick: () => mount(formBox, createForm(root, () => mount(formBox))),
  }, `+ ${t("webhooks.new")}`);
  mount(root,
    h("div", { class: "sp-head" },
      h("p", { class: "muted grow" }, t("webhooks.lead")),
      newBtn),
    notice,
    formBox,
    endpoints.length
      ? h("div", { class: "items", role: "list" }, endpoints.map((ep) => row(root, ep)))
      : h("p", { class: "muted", "data-testid": "webhooks-empty" }, t("webhooks.empty")));
}

/**
 * The one-time secret, with a copy button.
 * @param {string} secret @param {string} message
 * @param {HTMLElement} root
 */
function secretNotice(secret, message, root) {
  const box = h("section", { class: "card", "data-testid": "webhook-secret-notice" },
    h("p", { class: "callout info" }, message),
    copyField({ label: t("webhooks.secret"), value: secret, testid: "webhook-secret" }),
    h("div", { class: "form-actions" },
      h("button", { type: "button", class: "btn", "data-testid": "webhook-secret-done", onclick: () => box.remove() }, t("webhooks.done"))));
  root.scrollIntoView?.({ block: "start" });
  return box;
}

/**
 * @param {HTMLElement} root @param {() => void} close
 */
function createForm(root, close) {
  const url = /** @type {HTMLInputElement} */ (h("input", { type: "url", inputmode: "url", autocomplete: "off", placeholder: "https://", "data-testid": "webhook-url" }));
  const description = /** @type {HTMLInputElement} */ (h("input", { type: "text", maxlength: 200, "data-testid": "webhook-description" }));
  const all = /** @type {HTMLInputElement} */ (h("input", { type: "checkbox", "data-testid": "webhook-all-events" }));
  const boxes = EVENT_TYPES.map((ev) => /** @type {HTMLInputElement} */ (h("input", { type: "checkbox", value: ev, "data-testid": "webhook-event", "data-event": ev })));
  const grid = h("div", { class: "event-grid", role: "group", "aria-label": t("webhooks.events") },
    boxes.map((b) => h("label", {}, b, h("span", { class: "mono" }, b.value))));
  all.addEventListener("change", () => { for (const b of boxes) b.disabled = all.checked; });
  const submit = h("button", { type: "submit", class: "btn primary", "data-testid": "webhook-create" }, t("webhooks.create"));
  const form = h("form", { class: "card", novalidate: true, "data-testid": "webhook-form" },
    h("div", { class: "fields" },
      field({ path: "url", label: t("webhooks.url"), control: url, help: t("webhooks.urlHelp"), required: true }),
      field({ path: "description", label: t("webhooks.description"), control: description }),
      field({ path: "events", label: t("webhooks.events"), required: true,
        control: h("div", { class: "fields" }, h("label", { class: "row" }, all, t("webhooks.allEvents")), grid) })),
    h("div", { class: "form-actions" }, submit,
      h("button", { type: "button", class: "btn ghost", onclick: close }, t("forms.cancel"))));
  const errors = new ErrorView(form);
  form.prepend(errors.summary);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    errors.clear();
    const events = all.checked ? ["*"] : boxes.filter((b) => b.checked).map((b) => b.value);
    if (!events.length) {
      errors.showList([{ field: "events", detail: t("webhooks.pickEvents") }]);
      return;
    }
    /** @type {Record<string, any>} */
    const body = { url: url.value.trim(), events };
    if (description.value.trim()) body.description = description.value.trim();
    try {
      const created = await busy(/** @type {HTMLButtonElement} */ (submit), t("webhooks.creating"), () => http.post("/webhooks", body));
      await list(root, secretNotice(created.secret, t("webhooks.secretOnce"), root));
    } catch (e) {
      errors.showList(explain(e));
    }
  });
  return form;
}

/**
 * The API's problems, with a refused private target explained (naming the setting that allows
 * it) and translated where the console shows Chinese.
 * @param {any} e
 */
function explain(e) {
  return localize(fieldErrors(e).map((fe) => {
    if (!/is refused|private|loopback/i.test(fe.detail)) return fe;
    const hint = t("webhooks.privateTarget");
    if (isZh()) return { ...fe, field: fe.field || "url", detail: hint, local: true };
    const detail = /allow_private_targets/.test(fe.detail) ? fe.detail : `${fe.detail.replace(/\.$/, "")}. ${hint}`;
    return { ...fe, field: fe.field || "url", detail, local: true };
  }));
}

/**
 * @param {HTMLElement} root @param {Record<string, any>} ep
 */
function row(root, ep) {
  const logBox = h("div", {});
  const errors = new ErrorView(logBox);
  const logBtn = h("button", { type: "button", class: "btn small", "data-testid": "webhook-log-toggle", "aria-expanded": "false" }, t("webhooks.log"));
  logBtn.addEventListener("click", () => {
    const open = logBtn.getAttribute("aria-expanded") !== "true";
    logBtn.setAttribute("aria-expanded", String(open));
    logBtn.textContent = open ? t("webhooks.hideLog") : t("webhooks.log");
    if (open) mount(logBox, deliveryLog(ep.id));
    else mount(logBox);
  });
  const act = async (/** @type {() => Promise<any>} */ fn) => {
    try { await fn(); } catch (e) { mount(logBox, errors.summary); errors.show(e); }
  };
  const events = Array.isArray(ep.events) ? ep.events : [];
  return h("div", { class: "item", role: "listitem", "data-testid": "webhook-row", "data-id": ep.id, "data-enabled": String(!!ep.enabled) },
    h("div", { class: "grow" },
      h("div", { class: "title mono", "data-testid": "webhook-row-url" }, ep.url),
      h("div", { class: "sub" },
        h("span", { class: `badge ${ep.enabled ? "ok" : "bad"}`, "data-testid": "webhook-state" }, ep.enabled ? t("webhooks.enabled") : t("webhooks.disabled")),
        " ", ep.description ? `${ep.description} · ` : "",
        events.includes("*") ? t("webhooks.allEvents") : events.join(", "),
        ep.failing_since ? [" · ", h("span", { class: "badge warn" }, t("webhooks.failing", { when: fmtFull(ep.failing_since) }))] : null,
        !ep.enabled && ep.disabled_reason && !isZh() ? ` · ${ep.disabled_reason}` : null)),
    logBtn,
    h("button", {
      type: "button", class: "btn small", "data-testid": "webhook-toggle",
      onclick: () => act(async () => { await http.patch(`/webhooks/${ep.id}`, { enabled: !ep.enabled }); await list(root); }),
    }, ep.enabled ? t("webhooks.disable") : t("webhooks.enable")),
    h("button", {
      type: "button", class: "btn small", "data-testid": "webhook-rotate",
      onclick: () => act(async () => {
        const res = await http.post(`/webhooks/${ep.id}/rotate-secret`, {});
        await list(root, secretNotice(res.secret, t("webhooks.secretRotated"), root));
      }),
    }, t("webhooks.rotate")),
    confirmButton({
      label: t("webhooks.delete"), confirm: t("webhooks.deleteConfirm"), testid: "webhook-delete",
      onConfirm: () => act(async () => { await http.del(`/webhooks/${ep.id}`); toast(t("webhooks.deleted"), "info"); await list(root); }),
    }),
    h("div", { class: "log-box" }, logBox));
}
