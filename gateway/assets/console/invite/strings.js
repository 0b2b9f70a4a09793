// Strings of the invitation screen.

import { defineStrings } from "../i18n.js";

export default defineStrings({
  "invite.title": "Welcome to Kefu",
  "invite.subtitle": "Choose a password to finish setting up your account.",
  "invite.account": "Account",
  "invite.password": "New password",
  "invite.confirm": "Repeat the password",
  "invite.hint": "At least 8 characters.",
  "invite.mismatch": "The two passwords are not the same.",
  "invite.submit": "Set password and sign in",
  "invite.busy": "Setting up…",
  "invite.loading": "Checking the invitation…",
  "invite.toLogin": "Go to sign-in",
}, {
  "invite.title": "欢迎使用 Kefu",
  "invite.subtitle": "设置密码，完成账号开通。",
  "invite.account": "账号",
  "invite.password": "新密码",
  "invite.confirm": "再次输入密码",
  "invite.hint": "至少 8 个字符。",
  "invite.mismatch": "两次输入的密码不一致。",
  "invite.submit": "设置密码并登录",
  "invite.busy": "正在开通…",
  "invite.loading": "正在验证邀请…",
  "invite.toLogin": "前往登录",
});
