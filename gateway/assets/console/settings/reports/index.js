// Settings → Reports (supervisors and admins), in two tabs: the range's figures with their
// charts and tables (overview.js, `#/settings/reports`) and the live dashboard (live.js,
// `#/settings/reports/live`), which follows the agent socket's events.

import { h, mount } from "../../dom.js";
import { ensureStyles, translator } from "../../forms/index.js";
import { renderOverview } from "./overview.js";
import { renderLive } from "./live.js";
import strings from "./strings.js";

const t = translator(strings);

/** @type {import("../page.js").Page} */
export const page = {
  id: "reports",
  titleKey: "reports.page",
  minRole: "supervisor",
  render(container, ctx) {
    ensureStyles();
    const live = ctx.rest[0] === "live";
    const tab = (/** @type {string} */ id, /** @type {string} */ label, /** @type {boolean} */ on, /** @type {string} */ hash) =>
      h("a", { class: `tab${on ? " on" : ""}`, role: "tab", "aria-selected": on ? "true" : "false", href: hash,
        "data-testid": `reports-tab-${id}`, id: `reports-tab-${id}` }, label);
    const body = h("div", { role: "tabpanel", "aria-labelledby": live ? "reports-tab-live" : "reports-tab-range" });
    mount(container, h("div", { class: "sp reports", "data-testid": "reports-page" },
      h("p", { class: "muted" }, t("reports.lead")),
      h("nav", { class: "tabs reports-tabs", role: "tablist", "aria-label": t("reports.page") },
        tab("range", t("reports.rangeTab"), !live, ctx.href("settings", "reports")),
        tab("live", t("reports.liveTab"), live, ctx.href("settings", "reports", "live"))),
      body));
    if (live) return renderLive(body);
    renderOverview(body);
    return undefined;
  },
};
