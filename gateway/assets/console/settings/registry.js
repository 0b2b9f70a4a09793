// Every settings page, in navigation order. A new page: create `settings/<id>/index.js`
// exporting `page` (see page.js) and add it here.

import { ROLES } from "../vocab.js";
import { page as profile } from "./profile/index.js";
import { page as agents } from "./agents/index.js";
import { page as teams } from "./teams/index.js";
import { page as labels } from "./labels/index.js";
import { page as canned } from "./canned/index.js";
import { page as knowledge } from "./knowledge/index.js";
import { page as intents } from "./intents/index.js";
import { page as sensitive } from "./sensitive/index.js";
import { page as attributes } from "./attributes/index.js";
import { page as schedules } from "./schedules/index.js";
import { page as inboxes } from "./inboxes/index.js";
import { page as routing } from "./routing/index.js";
import { page as webhooks } from "./webhooks/index.js";
import { page as deliveries } from "./deliveries/index.js";
import { page as tokens } from "./tokens/index.js";
import { page as reports } from "./reports/index.js";

/** @typedef {import("./page.js").Page} Page */

/** @type {Page[]} */
export const PAGES = [
  profile,
  agents,
  teams,
  labels,
  canned,
  knowledge,
  intents,
  sensitive,
  attributes,
  schedules,
  inboxes,
  routing,
  webhooks,
  deliveries,
  tokens,
  reports,
];

/**
 * Whether `role` reaches `min` (roles in vocab.js go from least to most powerful).
 * @param {string|undefined} role
 * @param {import("../vocab.js").Role} min
 */
export function roleAtLeast(role, min) {
  const have = ROLES.findIndex((r) => r === role);
  return have >= 0 && have >= ROLES.indexOf(min);
}

/**
 * The pages `role` may see.
 * @param {string|undefined} role
 */
export function visiblePages(role) {
  return PAGES.filter((p) => roleAtLeast(role, p.minRole));
}
