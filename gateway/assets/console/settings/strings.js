// Strings of the settings shell (navigation); each page has its own strings.js.

import { defineStrings } from "../i18n.js";

export default defineStrings({
  "settings.title": "Settings",
  "settings.nav": "Settings pages",
  "settings.notAllowed": "Your role cannot open this page.",
  "settings.loadFailed": "This page could not be loaded.",
}, {
  "settings.title": "设置",
  "settings.nav": "设置页面",
  "settings.notAllowed": "你的角色无法打开此页面。",
  "settings.loadFailed": "此页面加载失败。",
});
