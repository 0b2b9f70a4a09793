// What an admin needs to connect an inbox: warnings about the setup, the callback URL and
// token (WeChat, WeCom), the widget snippet with a live preview (web chat), and the test
// button that asks the provider or the mail servers and shows their answer.

import { h, mount } from "../../dom.js";
import { http, translator, copyField, field, busy, ErrorView, uid } from "../../forms/index.js";
import strings from "./strings.js";

const t = translator(strings);

/** @typedef {Record<string, any>} Inbox */

/**
 * The inbox's `warnings` as callouts (translated where the console knows the code).
 * @param {Inbox} inbox
 */
export function warningsBox(inbox) {
  const list = Array.isArray(inbox.warnings) ? inbox.warnings : [];
  if (!list.length) return null;
  return h("div", { "data-testid": "inbox-warnings" }, list.map((w) => {
    const key = `warning.${w.code}`;
    const known = t(key) !== key;
    return h("div", { class: "callout warn", role: "status", "data-testid": "inbox-warning", "data-code": w.code },
      "⚠ ", known ? t(key) : w.detail);
  }));
}

/**
 * Callback URL and token, or the widget snippet and preview, or the app token.
 * @param {Inbox} inbox
 */
export function connectPanel(inbox) {
  const type = inbox.channel && inbox.channel.type;
  const url = inbox.callback_url || (inbox.callback && inbox.callback.url);
  const parts = [];
  if (url) {
    const hintKey = `inboxes.hint.${type}`;
    parts.push(
      h("p", { class: "muted" }, t(hintKey) !== hintKey ? t(hintKey) : t("inboxes.hint.callback")),
      copyField({ label: t("inboxes.callbackUrl"), value: url, testid: "callback-url" }));
    const token = inbox.callback && inbox.callback.token;
    if (token) parts.push(copyField({ label: t("inboxes.callbackToken"), value: token, testid: "callback-token" }));
  }
  if (type === "web_chat" && inbox.website_token) parts.push(webChat(inbox));
  else if (inbox.website_token) {
    parts.push(copyField({ label: t("inboxes.appToken"), value: inbox.website_token, testid: "website-token", help: t("inboxes.appTokenHelp") }));
  }
  if (!parts.length) return null;
  return h("section", { class: "card", "data-testid": "inbox-connect" }, h("h3", {}, t("inboxes.connect")), h("div", { class: "fields" }, parts));
}

/** @param {Inbox} inbox */
function webChat(inbox) {
  const snippet = inbox.widget_snippet
    || `<script src="${location.origin}/widget.js" data-website-token="${inbox.website_token}"></script>`;
  const frameHolder = h("div", { id: uid("preview") });
  const toggle = h("button", { type: "button", class: "btn small", "data-testid": "widget-preview-toggle", "aria-expanded": "false", "aria-controls": frameHolder.id }, t("inboxes.previewShow"));
  toggle.addEventListener("click", () => {
    const open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    toggle.textContent = open ? t("inboxes.previewHide") : t("inboxes.previewShow");
    if (!open) { mount(frameHolder); return; }
    const src = new URL("./preview.html", import.meta.url);
    src.searchParams.set("lang", document.documentElement.lang || "en");
    src.hash = encodeURIComponent(inbox.website_token);
    const frame = h("iframe", { class: "preview-frame", src: src.href, title: t("inboxes.preview"), "data-testid": "widget-preview" });
    mount(frameHolder, h("p", { class: "muted" }, t("inboxes.previewHelp")), frame);
    frame.scrollIntoView({ block: "nearest", behavior: "smooth" });
  });
  return h("div", { class: "fields" },
    copyField({ label: t("inboxes.websiteToken"), value: inbox.website_token, testid: "website-token" }),
    copyField({ label: t("inboxes.snippet"), value: snippet, testid: "widget-snippet", multiline: true, help: t("inboxes.snippetHelp") }),
    h("div", {}, h("div", { class: "row" }, h("b", {}, t("inboxes.preview")), toggle), frameHolder));
}

const TESTS = /** @type {Record<string, string>} */ ({ wechat: "wechat", wecom_kf: "wechat", email: "email", app_push: "push" });

/**
 * The "test credentials / connection / push" card, for channel types that have one.
 * @param {Inbox} inbox
 * @param {() => boolean} unsaved whether the settings form has unsaved edits
 */
export function testPanel(inbox, unsaved) {
  const kind = TESTS[inbox.channel && inbox.channel.type];
  if (!kind) return null;
  const result = h("div", { "data-testid": "test-result", "aria-live": "polite" });
  const btn = h("button", { type: "button", class: "btn", "data-testid": "inbox-test" }, t(`inboxes.test.${kind}`));
  const extra = [];
  /** @type {HTMLInputElement | null} */
  let device = null;
  /** @type {HTMLSelectElement | null} */
  let platform = null;
  if (kind === "push") {
    device = /** @type {HTMLInputElement} */ (h("input", { type: "text", class: "mono", autocomplete: "off", "data-testid": "test-device-token" }));
    platform = /** @type {HTMLSelectElement} */ (h("select", { "data-testid": "test-platform" },
      h("option", { value: "" }, t("inboxes.platformAuto")),
      h("option", { value: "fcm" }, "FCM (Android)"), h("option", { value: "apns" }, "APNs (iOS)")));
    extra.push(h("div", { class: "rule-cols" },
      field({ path: "device_token", label: t("inboxes.deviceToken"), control: device, required: true }),
      field({ path: "platform", label: t("inboxes.platform"), control: platform })));
  }
  const card = h("section", { class: "card", "data-testid": "inbox-test-panel" },
    h("h3", {}, t("inboxes.test")),
    h("p", { class: "muted" }, t(`inboxes.test.help.${kind}`)),
    extra.length ? h("div", { class: "fields" }, extra) : null,
    h("div", { class: "form-actions" }, btn),
    result);
  const errors = new ErrorView(card);
  card.insertBefore(errors.summary, result);
  btn.addEventListener("click", async () => {
    errors.clear();
    mount(result);
    if (unsaved()) mount(result, h("p", { class: "callout info" }, t("inboxes.test.saveFirst")));
    const body = device ? { device_token: device.value.trim(), platform: platform?.value || undefined } : {};
    try {
      const res = await busy(/** @type {HTMLButtonElement} */ (btn), t("inboxes.testing"), () => http.post(`/inboxes/${inbox.id}/test`, body));
      result.append(checksList(res));
    } catch (e) {
      errors.show(e);
    }
  });
  return card;
}

/** @param {{ok: boolean, checks?: {name: string, ok: boolean, detail?: string}[]}} res */
function checksList(res) {
  const checks = Array.isArray(res.checks) ? res.checks : [];
  return h("div", { "data-testid": "test-checks", "data-ok": String(!!res.ok) },
    h("p", { class: `callout ${res.ok ? "ok" : "warn"}` }, res.ok ? t("inboxes.test.passed") : t("inboxes.test.failed")),
    h("ul", { class: "result-checks" }, checks.map((c) => {
      const key = `check.${c.name}`;
      return h("li", { class: `result-check ${c.ok ? "ok" : "bad"}`, "data-testid": "test-check", "data-name": c.name, "data-ok": String(!!c.ok) },
        h("b", {}, c.ok ? "✓" : "✗", " ", t(key) !== key ? t(key) : c.name),
        h("span", { class: "badge" }, c.ok ? t("check.ok") : t("check.failed")),
        c.detail ? h("span", { class: "mono" }, c.detail) : null);
    })));
}
