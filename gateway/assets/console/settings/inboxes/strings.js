// Strings of the inboxes settings page.

import { defineStrings } from "../../i18n.js";

export default defineStrings({
  "inboxes.title": "Inboxes",
  "inboxes.url": "Callback URL",
  "inboxes.token": "Token",
  "inboxes.websiteToken": "Website token",
  "inboxes.empty": "No inboxes yet.",
  "inboxes.nothing": "Nothing to paste elsewhere for this channel.",
  "inboxes.hint": "Enter this URL in the provider's console.",
  "inboxes.hint.wechat": "In the Official Account admin console (Settings and development → Basic configuration → Server configuration), enter this URL and token, and the EncodingAESKey you gave Kefu.",
  "inboxes.hint.wecom": "In the WeCom admin console (WeChat customer service → API → callback configuration), enter this URL and token, and the EncodingAESKey you gave Kefu.",
}, {
  "inboxes.title": "渠道",
  "inboxes.url": "服务器地址 (URL)",
  "inboxes.token": "令牌 (Token)",
  "inboxes.websiteToken": "网站令牌",
  "inboxes.empty": "还没有渠道。",
  "inboxes.nothing": "此渠道无需在其他地方填写。",
  "inboxes.hint": "在服务商后台填写此地址。",
  "inboxes.hint.wechat": "在公众号后台（设置与开发 → 基本配置 → 服务器配置）填写此地址和令牌，以及你在 Kefu 中填写的 EncodingAESKey。",
  "inboxes.hint.wecom": "在企业微信管理后台（微信客服 → API → 回调配置）填写此地址和令牌，以及你在 Kefu 中填写的 EncodingAESKey。",
});
