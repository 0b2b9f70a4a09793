// Strings of the summary card at a resolved or transferred timeline line (summary.js).

import { defineStrings } from "../i18n.js";

export default defineStrings({
  "summary.title": "Summary",
  "summary.channel": "Channel",
  "summary.duration": "Duration",
  "summary.labels": "Labels",
  "summary.intent": "Intent",
  "summary.openQuestion": "Open question",
  "summary.noSentences": "Nothing was said yet.",
  "summary.seconds": "{s} s",
  "summary.minutes": "{m} min",
  "summary.hours": "{h} h {m} min",
  "summary.days": "{d} d {h} h",
  "summary.speaker.customer": "Customer",
  "summary.speaker.agent": "Agent",
  "summary.speaker.bot": "Bot",
}, {
  "summary.title": "会话摘要",
  "summary.channel": "渠道",
  "summary.duration": "时长",
  "summary.labels": "标签",
  "summary.intent": "意图",
  "summary.openQuestion": "待解答的问题",
  "summary.noSentences": "会话中还没有内容。",
  "summary.seconds": "{s} 秒",
  "summary.minutes": "{m} 分钟",
  "summary.hours": "{h} 小时 {m} 分钟",
  "summary.days": "{d} 天 {h} 小时",
  "summary.speaker.customer": "客户",
  "summary.speaker.agent": "客服",
  "summary.speaker.bot": "机器人",
});
