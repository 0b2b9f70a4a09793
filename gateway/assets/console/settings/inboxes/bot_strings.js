// Strings of the FAQ bot card of an inbox's settings.

import { defineStrings } from "../../i18n.js";

export default defineStrings({
  "bot.title": "FAQ bot",
  "bot.lead": "Answers from the knowledge base. Suggest: agents see the closest answers while they reply. Auto: the bot answers confident matches itself, and hands the conversation to the team when it is unsure, when the customer asks for a person, or after several answers in a row.",
  "bot.mode": "Mode",
  "bot.off": "Off",
  "bot.suggest": "Suggest answers to agents",
  "bot.auto": "Answer automatically",
  "bot.minScore": "Lowest score to answer (0–1)",
  "bot.minMargin": "Lead over the next answer (0–1)",
  "bot.maxAnswers": "Answers in a row before handing off",
  "bot.schedule": "Bot hours",
  "bot.scheduleAlways": "Around the clock",
  "bot.scheduleHelp": "Outside the open hours of this schedule the bot hands every conversation to the team.",
  "bot.save": "Save bot",
  "bot.saved": "FAQ bot saved.",
}, {
  "bot.title": "问答机器人",
  "bot.lead": "根据知识库作答。建议模式：客服回复时看到最接近的答案。自动模式：机器人自行回答有把握的问题；没有把握、客户要求人工或已连续回答多次时，转给人工。",
  "bot.mode": "模式",
  "bot.off": "关闭",
  "bot.suggest": "向客服建议答案",
  "bot.auto": "自动回答",
  "bot.minScore": "回答所需的最低分（0–1）",
  "bot.minMargin": "领先第二个答案的分差（0–1）",
  "bot.maxAnswers": "连续回答几次后转人工",
  "bot.schedule": "机器人服务时间",
  "bot.scheduleAlways": "全天候",
  "bot.scheduleHelp": "在此排班的营业时间之外，机器人会把所有会话转给人工。",
  "bot.save": "保存机器人设置",
  "bot.saved": "问答机器人已保存。",
});
