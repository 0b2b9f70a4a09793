// Strings of the header.

import { defineStrings } from "../i18n.js";

export default defineStrings({
  "header.logout": "Sign out",
  "header.live": "Live",
  "header.connecting": "Connecting…",
  "header.offline": "Reconnecting…",
  "header.conversations": "Conversations",
  "header.settings": "Settings",
  "header.nav": "Main",
  "header.profile": "Your profile",
  "header.presence": "Your status",
}, {
  "header.logout": "退出登录",
  "header.live": "实时",
  "header.connecting": "正在连接…",
  "header.offline": "正在重连…",
  "header.conversations": "会话",
  "header.settings": "设置",
  "header.nav": "主导航",
  "header.profile": "个人资料",
  "header.presence": "你的状态",
});
