// Strings of the sign-in screen.

import { defineStrings } from "../i18n.js";

export default defineStrings({
  "login.title": "Sign in to Kefu",
  "login.subtitle": "The agent console for all your support channels.",
  "login.email": "Email",
  "login.password": "Password",
  "login.submit": "Sign in",
  "login.busy": "Signing in…",
  "login.expired": "Your session has expired. Please sign in again.",
}, {
  "login.title": "登录 Kefu",
  "login.subtitle": "一个工作台，处理所有渠道的客户咨询。",
  "login.email": "邮箱",
  "login.password": "密码",
  "login.submit": "登录",
  "login.busy": "正在登录…",
  "login.expired": "登录已过期，请重新登录。",
});
