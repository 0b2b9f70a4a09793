// Why a reply was not delivered, in the agent's language: the server records a failure as
// `code: reason` (the reason in English, from Kefu or the provider). Known codes get a sentence
// of their own in the console's language; others show the server's words, translated where the
// console cannot.

import { t, getLang } from "../i18n.js";
import { h } from "../dom.js";

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

/** Short causes of a channel fallback (`fallbackWhy.<code>` strings). */
const FALLBACK_CAUSES = [
  "reply_window_closed", "reply_quota_exhausted", "recipient_not_subscribed",
  "recipient_refuses_messages", "no_devices", "devices_unregistered", "invalid_recipient",
  "inbox_unavailable", "visitor_offline",
];

/**
 * What a reply's delivery says about another way it took: "Sent by email instead: WeChat window
 * closed" on the copy (`fallback_from`), "Sent by email instead" with a link on the failed one
 * (`fallback_to`), or "Sent as a WeChat template message" when the window had closed.
 * @param {any} d the message's `delivery`
 * @returns {HTMLElement|null}
 */
export function fallbackNote(d) {
  if (!d) return null;
  /** @param {string|undefined} type */
  const channel = (type) => (type ? t(`channel.${type}`) : "?");
  if (d.fallback_from) {
    const f = d.fallback_from;
    const why = FALLBACK_CAUSES.includes(f.code) ? t(`fallbackWhy.${f.code}`, { channel: channel(f.channel) }) : (f.reason || f.code || "");
    return h("span", { class: "fallback-note", "data-testid": "delivery-fallback", "data-from": f.channel },
      `${t(f.code === "visitor_offline" ? "fallback.alsoBecause" : "fallback.insteadBecause", { channel: channel(d.channel), why })} `,
      h("a", { href: `#/c/${f.conversation_id}`, "data-testid": "fallback-original" }, t("fallback.original")));
  }
  if (d.fallback_to) {
    const f = d.fallback_to;
    return h("span", { class: "fallback-note", "data-testid": "delivery-fallback", "data-to": f.channel },
      // A failed reply went that way instead; a web chat reply the visitor missed went too.
      `${t(d.status === "failed" ? "fallback.insteadBy" : "fallback.alsoBy", { channel: channel(f.channel) })} `,
      h("a", { href: `#/c/${f.conversation_id}`, "data-testid": "fallback-copy" }, t("fallback.copy")));
  }
  if (d.details && d.details.via === "template") {
    return h("span", { class: "fallback-note", "data-testid": "delivery-template" }, t("fallback.template"));
  }
  return null;
}
