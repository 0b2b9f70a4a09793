// Why a reply was not delivered, in the agent's language: the server records a failure as
// `code: reason` (the reason in English, from Kefu or the provider). Known codes get a sentence
// of their own in the console's language; others show the server's words, translated where the
// console cannot.

import { t, getLang } from "../i18n.js";

/** Delivery failure codes with a sentence of their own (`delivery.<code>` strings). */
export const FAILURE_CODES = [
  "reply_window_closed", "reply_quota_exhausted", "retries_exhausted", "inbox_unavailable",
  "recipient_not_subscribed", "recipient_refuses_messages", "invalid_recipient", "no_devices",
  "devices_unregistered", "content_too_long", "attachment_too_large", "attachment_type_unsupported",
  "invalid_credentials", "api_not_authorized", "ip_not_whitelisted", "rate_limited",
];

/**
 * The failure text to show: `{text, extra}`, where `extra` is the server's English words when
 * the text does not already say them.
 * @param {string} error the stored `code: reason`, or only a reason
 * @returns {{code: string|null, text: string, extra: string|null}}
 */
export function failureText(error) {
  const m = /^([a-z][a-z0-9_]*): (.*)$/s.exec(error);
  const code = m ? m[1] : null;
  const reason = m ? m[2] : error;
  if (code && FAILURE_CODES.includes(code)) {
    return { code, text: t(`delivery.${code}`), extra: getLang() === "en" ? null : reason };
  }
  return getLang() === "en" ? { code, text: reason, extra: null } : { code, text: t("delivery.other"), extra: reason };
}
