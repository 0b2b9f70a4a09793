// The thread's timeline lines (assigned, transferred, resolved, reopened, routed by a rule,
// priority changed, satisfaction asked, skipped and rated, handed off by the FAQ bot, intent detected), from `GET /conversations/{id}/activities`, said in the agent's language;
// a resolved or transferred line shows its summary (summary.js).

import { api, items } from "../api.js";
import { t } from "../i18n.js";
import { h, fmtClock, fmtFull } from "../dom.js";
import { agentName, intentLabel } from "./names.js";
import { summaryCard } from "./summary.js";

/** @typedef {import("../types.js").Activity} Activity */

/**
 * The conversation's timeline, oldest first.
 * @param {number|string} id
 * @returns {Promise<Activity[]>}
 */
export async function loadActivities(id) {
  return /** @type {Activity[]} */ (items(await api.get(`/conversations/${encodeURIComponent(String(id))}/activities`)));
}

/** @param {{id: number, name: string}|null|undefined} who */
const nameOf = (who) => (who ? who.name || agentName(who.id) || "" : "");

/**
 * What a line says, e.g. "Assigned to Li Lei by Admin".
 * @param {Activity} a
 * @returns {string}
 */
export function activityText(a) {
  const d = a.details || {};
  const actor = nameOf(a.actor);
  const agent = nameOf(a.agent);
  switch (a.kind) {
    case "assigned":
      if (d.reason === "claim") return t("activity.claimed", { actor: actor || agent });
      return actor ? t("activity.assignedBy", { agent, actor }) : t("activity.assigned", { agent });
    case "transferred": {
      const to = a.team ? t("activity.toTeam", { name: a.team.name })
        : a.agent ? agent
          : t("activity.toSkills", { skills: Object.keys(d.skills || {}).join(", ") });
      return actor ? t("activity.transferredBy", { to, actor }) : t("activity.transferred", { to });
    }
    case "resolved":
      return actor ? t("activity.resolvedBy", { actor }) : t("activity.resolved");
    case "reopened":
      if (d.by === "contact" || !actor) return t("activity.reopenedByContact");
      return t("activity.reopenedBy", { actor });
    case "routed": {
      const rules = Array.isArray(d.rules) ? d.rules.map(String) : [];
      return t(rules.length > 1 ? "activity.routedRules" : "activity.routedRule",
        { rules: rules.map((r) => t("activity.quoted", { name: r })).join(t("activity.listSep")) });
    }
    case "priority_changed":
      return t("activity.priority", { from: d.from ?? "", to: d.to ?? "" });
    case "requeued":
      return t("activity.requeued");
    case "csat_requested":
      return t("activity.csatRequested");
    case "csat_skipped":
      return t(d.reason === "reply_window_closed" ? "activity.csatSkippedWindow" : "activity.csatSkipped", { reason: d.reason ?? "" });
    case "csat_submitted":
      return t(d.comment ? "activity.csatRatedComment" : "activity.csatRated",
        { stars: "★".repeat(Number(d.rating) || 0), rating: d.rating ?? "", comment: d.comment ?? "" });
    case "intent_detected":
      return t("activity.intentDetected", { name: intentLabel(String(d.intent ?? "")) });
    case "bot_handoff":
      return t("activity.botHandoff", { reason: t(`activity.botReason.${String(d.reason)}`) });
    default:
      return String(a.kind);
  }
}

/**
 * One timeline line in the thread.
 * @param {Activity} a
 */
export function activityLine(a) {
  return h("div", { class: "activity-line", "data-testid": "activity-line", "data-kind": a.kind, "data-id": a.id },
    h("span", { class: "activity-text" }, activityText(a)),
    h("time", { datetime: a.created_at, title: fmtFull(a.created_at) }, ` · ${fmtClock(a.created_at)}`),
    a.summary ? summaryCard(a.summary) : null);
}
