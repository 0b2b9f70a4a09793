// Strings of the contacts page.

import { defineStrings } from "../i18n.js";

export default defineStrings({
  "contacts.title": "Contacts",
  "contacts.search": "Search contacts",
  "contacts.searchHint": "Name, email, phone, channel ID or number",
  "contacts.clear": "Clear search",
  "contacts.list": "Contacts, newest first",
  "contacts.empty": "No contacts yet. Everyone who writes in on any channel appears here.",
  "contacts.none": "No contact matches “{q}”.",
  "contacts.more": "More contacts",
  "contacts.pick": "Choose a contact to see their channels, details and conversations.",
  "contacts.since": "Since {day}",
}, {
  "contacts.title": "联系人",
  "contacts.search": "搜索联系人",
  "contacts.searchHint": "姓名、邮箱、电话、渠道 ID 或编号",
  "contacts.clear": "清除搜索",
  "contacts.list": "联系人（最新在前）",
  "contacts.empty": "还没有联系人。任何渠道上来信的客户都会出现在这里。",
  "contacts.none": "没有匹配“{q}”的联系人。",
  "contacts.more": "更多联系人",
  "contacts.pick": "选择一位联系人，查看其渠道、资料和会话。",
  "contacts.since": "自 {day}",
});
