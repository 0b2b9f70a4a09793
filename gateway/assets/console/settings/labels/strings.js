// Strings of the labels page.

import { defineStrings } from "../../i18n.js";

export default defineStrings({
  "labelsPage.title": "Labels",
  "labelsPage.intro": "Labels tag conversations and contacts, so agents can filter the list by them and webhooks can react to them.",
  "labelsPage.name": "Name",
  "labelsPage.color": "Colour",
  "labelsPage.create": "Create label",
  "labelsPage.created": "Label created.",
  "labelsPage.saved": "Label saved.",
  "labelsPage.deleted": "Label deleted.",
  "labelsPage.empty": "No labels yet.",
  "labelsPage.edit": "Edit",
  "labelsPage.editTitle": "Edit {name}",
  "labelsPage.deleteTitle": "Delete {name}?",
  "labelsPage.deleteText": "Conversations and contacts that carry this label lose it.",
}, {
  "labelsPage.title": "标签",
  "labelsPage.intro": "标签用于标记会话和联系人，客服可以按标签筛选列表，Webhook 也可以据此响应。",
  "labelsPage.name": "名称",
  "labelsPage.color": "颜色",
  "labelsPage.create": "创建标签",
  "labelsPage.created": "标签已创建。",
  "labelsPage.saved": "标签已保存。",
  "labelsPage.deleted": "标签已删除。",
  "labelsPage.empty": "还没有标签。",
  "labelsPage.edit": "编辑",
  "labelsPage.editTitle": "编辑 {name}",
  "labelsPage.deleteTitle": "删除 {name}？",
  "labelsPage.deleteText": "带有此标签的会话和联系人将不再带有它。",
});
