// Admins' channel setup: for each inbox that providers call back (WeChat, WeCom...), the URL
// and token to paste into the provider's console (WeChat: 服务器地址(URL) and 令牌(Token)).
// The API returns the token to admins only; other roles never reach this view.

import { api, items } from "./api.js";
import { t } from "./i18n.js";
import { h, mount, toast, showError, icon } from "./dom.js";

function copyField(label, value, testid) {
  const input = h("input", { type: "text", readonly: true, value, "data-testid": testid, onfocus: (e) => e.target.select() });
  return h("div", { class: "field" },
    h("label", {}, label),
    h("div", { class: "copy-row" }, input,
      h("button", {
        type: "button", class: "btn small",
        onclick: async () => {
          try { await navigator.clipboard.writeText(value); toast(t("inboxes.copied"), "info"); }
          catch { input.focus(); input.select(); }
        },
      }, t("inboxes.copy"))));
}

function card(ib) {
  const type = ib.channel && ib.channel.type;
  const cb = ib.callback;
  return h("section", { class: "inbox-card", "data-testid": "inbox-card", "data-id": ib.id },
    h("h3", {}, ib.name, " ", h("span", { class: "pill" }, t(`channel.${type}`) || type)),
    cb ? [
      h("p", { class: "muted" }, t(type === "wecom_kf" ? "inboxes.hint.wecom" : type === "wechat" ? "inboxes.hint.wechat" : "inboxes.hint")),
      copyField(t("inboxes.url"), cb.url, "callback-url"),
      cb.token ? copyField(t("inboxes.token"), cb.token, "callback-token") : null,
    ] : ib.website_token
      ? copyField(t("inboxes.websiteToken"), ib.website_token, "website-token")
      : h("p", { class: "muted" }, t("inboxes.nothing")));
}

/** Renders the channel setup view into `main`. */
export async function renderInboxes(main, onBack) {
  mount(main, h("div", { class: "inboxes" }, h("p", { class: "muted" }, t("list.loading"))));
  let list = [];
  try {
    list = items(await api.get("/inboxes"));
  } catch (e) {
    showError(e);
  }
  mount(main, h("div", { class: "inboxes", "data-testid": "inboxes" },
    h("div", { class: "inboxes-head" },
      h("button", { type: "button", class: "btn ghost small back", onclick: onBack }, t("thread.back")),
      h("h2", {}, icon("inbox"), t("inboxes.title"))),
    list.length ? list.map(card) : h("p", { class: "muted" }, t("inboxes.empty"))));
}
