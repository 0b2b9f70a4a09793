// What an API error says to the user. Every code in vocab.js has a message in both languages
// (`tsc` fails when one is missing). In English the server's own `detail` is shown, as it is
// the most precise sentence; in zh-CN the translated message for the code, so no raw English
// reaches a zh-CN screen. An unknown code gets a generic translated sentence with the detail
// on a second line.

import { registerStrings, getLang, t } from "./i18n.js";
import { ERROR_CODES } from "./vocab.js";

/** @typedef {import("./vocab.js").ErrorCode} ErrorCode */
/** @typedef {{[K in ErrorCode]: string} & Record<string, string>} ErrorMessages */

/** @type {ErrorMessages} */
const en = {
  account_deactivated: "This account has been deactivated. Ask an admin to reactivate it.",
  agent_at_capacity: "That agent already has as many conversations as they can take.",
  bad_frame: "The server did not understand a message from the console.",
  blocked_content: "The reply contains a word a sensitive-word rule blocks. Rephrase it.",
  conflict: "This conflicts with an existing record.",
  file_too_large: "The file is too large.",
  file_unavailable: "The file is not available.",
  invalid_session: "This chat session is not valid; reconnect to get a new one.",
  session_required: "A chat session is required.",
  too_many_uploads: "Too many files were uploaded from this chat lately; try again later.",
  forbidden: "Your role does not allow this.",
  forbidden_origin: "This website may not use the chat widget.",
  identity_unverified: "The visitor's identity could not be verified.",
  illegal_transition: "The conversation cannot make this change in its current status.",
  insufficient_scope: "This API token's scopes do not allow this.",
  internal: "Something went wrong on the server. Try again; if it persists, see the server log.",
  invalid_body: "Some of the data sent was invalid.",
  invalid_credentials: "The email or password is not correct.",
  invalid_query: "The request was not valid.",
  invalid_email: "This does not look like an email address.",
  invalid_rating: "A rating must be from 1 to 5.",
  invalid_request: "A value is not valid.",
  malformed_json: "The request was not valid JSON.",
  no_reachable_identity: "The contact cannot be reached through any channel you can use.",
  not_a_session: "This needs a sign-in session, not an API token.",
  not_found: "It no longer exists.",
  payload_too_large: "What you sent is too large.",
  provider_unavailable: "The provider could not be reached. Try again later.",
  unauthorized: "Please sign in again.",
  unavailable: "The server is busy. Try again in a moment.",
  unknown_website: "No web chat inbox has this website token.",
  unknown_attribute: "This attribute is not defined. An admin can define it under Settings → Custom attributes.",
  invalid_attribute: "An attribute's value does not match its type.",
  unknown_variable: "The text uses a variable that does not exist. The variables are contact.name, contact.email, agent.name, agent.email and conversation.id.",
  unsupported_media_type: "The request had an unsupported format.",
  too_many_attempts: "Too many attempts. Wait a moment and try again.",
  wrong_password: "The current password is not correct.",
  weak_password: "The password must have at least 8 characters.",
  invite_not_found: "This invitation link is not valid or was already used.",
  invite_expired: "This invitation link has expired. Ask an admin for a new one.",
  invalid_characters: "A field contains characters that cannot be stored (such as NUL).",
  private_target_refused: "This address is private or local. An admin can allow such targets in the server settings.",
  public_url_not_public: "Kefu's public address is not reachable from the internet, so the provider cannot call it.",
  test_not_supported: "This channel type has no connection test.",
  unreadable_body: "The request body could not be read.",
  use_profile_password: "Change your own password on the Profile page, with your current password.",
  schedule_in_use: "Inboxes use this schedule. Choose another schedule for them first.",
  llm_not_configured: "No language model is configured, so drafts are not available. An admin can set one up (ai.llm).",
  llm_budget_exhausted: "This inbox has used its language model budget for today. Write the reply yourself, or try again tomorrow.",
  llm_timeout: "The language model did not answer in time. Try again, or write the reply yourself.",
  llm_failed: "The language model could not draft a reply. Try again, or write the reply yourself.",
  invalid_import: "Some rows of the file are wrong; nothing was imported.",
};

/** @type {ErrorMessages} */
const zh = {
  account_deactivated: "此账号已停用，请联系管理员重新启用。",
  agent_at_capacity: "该客服的会话数已达上限。",
  bad_frame: "服务器无法识别客服台发送的消息。",
  blocked_content: "回复中含有敏感词规则禁止的词语，请换一种说法。",
  conflict: "与已有的记录冲突。",
  file_too_large: "文件过大。",
  file_unavailable: "文件不可用。",
  invalid_session: "聊天会话无效，请重新连接以获取新会话。",
  session_required: "需要聊天会话。",
  too_many_uploads: "此聊天最近上传的文件过多，请稍后再试。",
  forbidden: "你的角色无权执行此操作。",
  forbidden_origin: "此网站不允许使用聊天插件。",
  identity_unverified: "无法验证访客身份。",
  illegal_transition: "会话当前的状态不允许此操作。",
  insufficient_scope: "此 API 令牌的权限范围不允许此操作。",
  internal: "服务器出错了。请重试；如仍失败，请查看服务器日志。",
  invalid_body: "提交的部分数据无效。",
  invalid_credentials: "邮箱或密码不正确。",
  invalid_query: "请求无效。",
  invalid_email: "这个邮箱地址看起来不对。",
  invalid_rating: "评分须为 1 到 5。",
  invalid_request: "填写的值无效。",
  malformed_json: "请求不是有效的 JSON。",
  no_reachable_identity: "无法通过你可用的任何渠道联系到该联系人。",
  not_a_session: "此操作需要登录会话，不能使用 API 令牌。",
  not_found: "该记录已不存在。",
  payload_too_large: "提交的内容过大。",
  provider_unavailable: "无法连接服务商，请稍后重试。",
  unauthorized: "请重新登录。",
  unavailable: "服务器繁忙，请稍后重试。",
  unknown_website: "没有使用此网站令牌的网页聊天渠道。",
  unknown_attribute: "此属性尚未定义。管理员可以在“设置 → 自定义属性”中定义。",
  invalid_attribute: "属性的值与其类型不符。",
  unknown_variable: "内容使用了不存在的变量。可用的变量有 contact.name、contact.email、agent.name、agent.email 和 conversation.id。",
  unsupported_media_type: "请求格式不受支持。",
  too_many_attempts: "尝试次数过多，请稍后再试。",
  wrong_password: "当前密码不正确。",
  weak_password: "密码至少需要 8 个字符。",
  invite_not_found: "邀请链接无效或已被使用。",
  invite_expired: "邀请链接已过期，请联系管理员重新邀请。",
  invalid_characters: "某个字段包含无法保存的字符（例如 NUL）。",
  private_target_refused: "该地址是内网或本机地址。管理员可以在服务器设置中允许此类地址。",
  public_url_not_public: "Kefu 的公网地址无法从互联网访问，服务商无法回调。",
  test_not_supported: "此渠道类型不支持连接测试。",
  unreadable_body: "无法读取请求内容。",
  use_profile_password: "请在“个人资料”页面输入当前密码来修改自己的密码。",
  schedule_in_use: "有渠道正在使用此工作时间表，请先为它们选择其他时间表。",
  llm_not_configured: "未配置大语言模型，无法生成草稿。管理员可以在服务器设置（ai.llm）中配置。",
  llm_budget_exhausted: "此渠道今天的大语言模型额度已用完。请自行撰写回复，或明天再试。",
  llm_timeout: "大语言模型未能及时响应。请重试，或自行撰写回复。",
  llm_failed: "大语言模型未能生成草稿。请重试，或自行撰写回复。",
  invalid_import: "文件中有些行有误，没有导入任何内容。",
};

/** @param {ErrorMessages} table */
const keyed = (table) => Object.fromEntries(Object.entries(table).map(([k, v]) => [`error.${k}`, v]));

registerStrings({
  en: {
    ...keyed(en),
    "error.network": "Cannot reach the server. Check your connection.",
    "error.generic": "The request failed.",
    "error.retryAfter": "Try again in {n} seconds.",
  },
  "zh-CN": {
    ...keyed(zh),
    "error.network": "无法连接服务器，请检查网络。",
    "error.generic": "请求失败。",
    "error.retryAfter": "请在 {n} 秒后重试。",
  },
});

/** The codes with a message of their own. */
const KNOWN = new Set([...ERROR_CODES, ...Object.keys(en)]);

/**
 * The user-facing text of an error: `{text, extra}` where `extra` (the server's detail) is
 * set only when the code is unknown and the language is not English.
 * @param {unknown} e an ApiError (or anything thrown)
 * @returns {{text: string, extra: string|null}}
 */
export function describeError(e) {
  const d = describe(e);
  const after = /** @type {{retryAfter?: number|null}} */ (e || {}).retryAfter;
  return after ? { ...d, text: `${d.text} ${t("error.retryAfter", { n: after })}` } : d;
}

/**
 * @param {unknown} e
 * @returns {{text: string, extra: string|null}}
 */
function describe(e) {
  const err = /** @type {{status?: number, code?: string|null, detail?: string|null, local?: boolean}} */ (e || {});
  if (err.local && err.detail) return { text: err.detail, extra: null }; // checked here, already translated
  if (err.status === 0) return { text: t("error.network"), extra: null };
  const code = err.code || "";
  const detail = err.detail || (e instanceof Error ? e.message : null);
  if (getLang() === "en") return { text: detail || (KNOWN.has(code) ? t(`error.${code}`) : t("error.generic")), extra: null };
  if (KNOWN.has(code)) return { text: t(`error.${code}`), extra: null };
  return { text: t("error.generic"), extra: detail };
}

/** One line for toasts: the text, and the detail in parentheses when there is one. */
export function errorText(/** @type {unknown} */ e) {
  const { text, extra } = describeError(e);
  return extra ? `${text} (${extra})` : text;
}
