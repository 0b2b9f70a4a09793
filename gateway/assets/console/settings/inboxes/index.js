// Inboxes (admins), read-only for now: for each inbox that providers call back (WeChat,
// WeCom...), the URL and token to paste into the provider's console (WeChat: 服务器地址(URL)
// and 令牌(Token)). The API returns the token to admins only.

import { items } from "../../api.js";
import { registerStrings } from "../../i18n.js";
import { h, mount } from "../../dom.js";
import { copyBox } from "../../ui/copy.js";
import strings from "./strings.js";

registerStrings(strings);

/** @typedef {import("../page.js").PageContext} PageContext */
/** @typedef {import("../../types.js").Inbox} Inbox */

/**
 * @param {string} label
 * @param {string} value
 * @param {string} testid
 */
function copyField(label, value, testid) {
  return h("div", { class: "field" }, h("label", {}, label), copyBox(value, testid, label));
}

/**
 * @param {Inbox} ib
 * @param {PageContext["t"]} t
 */
function card(ib, t) {
  const type = (ib.channel && ib.channel.type) || "";
  const cb = ib.callback;
  return h("section", { class: "card inbox-card", "data-testid": "inbox-card", "data-id": ib.id },
    h("h3", {}, ib.name, " ", h("span", { class: "pill" }, t(`channel.${type}`))),
    cb ? [
      h("p", { class: "muted" }, t(type === "wecom_kf" ? "inboxes.hint.wecom" : type === "wechat" ? "inboxes.hint.wechat" : "inboxes.hint")),
      copyField(t("inboxes.url"), cb.url, "callback-url"),
      cb.token ? copyField(t("inboxes.token"), cb.token, "callback-token") : null,
    ] : ib.website_token
      ? copyField(t("inboxes.websiteToken"), ib.website_token, "website-token")
      : h("p", { class: "muted" }, t("inboxes.nothing")));
}

/** @type {import("../page.js").Page} */
export const page = {
  id: "inboxes",
  titleKey: "inboxes.title",
  minRole: "admin",
  async render(container, { api, t }) {
    mount(container, h("p", { class: "muted" }, t("common.loading")));
    const list = items(await api.get("/inboxes"));
    mount(container, h("div", { class: "inboxes", "data-testid": "inboxes" },
      list.length ? list.map((ib) => card(ib, t)) : h("p", { class: "muted" }, t("inboxes.empty"))));
  },
};
