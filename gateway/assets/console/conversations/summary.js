// The summary card under a resolved or transferred timeline line: the facts (channel,
// duration, labels, intent, the last open question) and the sentences that say most about the
// conversation, as `GET /conversations/{id}/activities` returns them with the line.

import { t, has, registerStrings } from "../i18n.js";
import { h } from "../dom.js";
import strings from "./summary-strings.js";
import { intentLabel } from "./names.js";

registerStrings(strings);

/** @typedef {import("../types.js").Summary} Summary */

/**
 * How long, e.g. "12 min" or "1 h 5 min".
 * @param {number} secs
 */
export function durationText(secs) {
  const s = Math.max(0, Math.round(secs));
  if (s < 60) return t("summary.seconds", { s });
  const m = Math.floor(s / 60);
  if (m < 60) return t("summary.minutes", { m });
  const hours = Math.floor(m / 60);
  if (hours < 24) return t("summary.hours", { h: hours, m: m % 60 });
  return t("summary.days", { d: Math.floor(hours / 24), h: hours % 24 });
}

/**
 * One fact of the header.
 * @param {string} key the fact's name in `data-fact`
 * @param {string} label
 * @param {string} value
 */
const fact = (key, label, value) =>
  h("div", { class: "summary-fact", "data-fact": key }, h("dt", {}, label), h("dd", {}, value));

/**
 * The card.
 * @param {Summary} s
 */
export function summaryCard(s) {
  const f = s.facts || {};
  const facts = [];
  if (f.channel) {
    facts.push(fact("channel", t("summary.channel"),
      has(`channel.${f.channel}`) ? t(`channel.${f.channel}`) : f.channel));
  }
  if (typeof f.duration_secs === "number") {
    facts.push(fact("duration", t("summary.duration"), durationText(f.duration_secs)));
  }
  if (f.labels && f.labels.length) facts.push(fact("labels", t("summary.labels"), f.labels.join(", ")));
  if (f.intent) facts.push(fact("intent", t("summary.intent"), intentLabel(f.intent)));
  if (f.open_question) facts.push(fact("open_question", t("summary.openQuestion"), f.open_question));
  const sentences = s.sentences || [];
  return h("div", { class: "summary-card", "data-testid": "summary-card", "data-occasion": s.occasion },
    h("div", { class: "summary-title" }, t("summary.title")),
    h("dl", { class: "summary-facts" }, ...facts),
    sentences.length
      ? h("ul", { class: "summary-sentences" }, ...sentences.map((x) =>
        h("li", { "data-testid": "summary-sentence", "data-speaker": x.speaker },
          h("span", { class: "summary-speaker" }, t(`summary.speaker.${x.speaker}`)),
          h("span", {}, x.text))))
      : h("p", { class: "muted" }, t("summary.noSentences")));
}
