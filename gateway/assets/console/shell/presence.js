// Presence the agent can see: a banner when they are offline while conversations are
// assigned to them (routing skips them, and their customers wait), with a button to go
// online.

import { t } from "../i18n.js";
import { h, mount } from "../dom.js";
import { store } from "../store.js";
import { setStatus } from "./header.js";

/** Builds the banner; it shows and hides itself from the store. */
export function createPresenceBanner() {
  const el = h("div", { class: "presence-banner", role: "status", "data-testid": "offline-banner", hidden: true });
  const render = () => {
    const me = store.get("me");
    const mine = store.get("mine");
    const show = !!me && me.status === "offline" && mine > 0;
    el.hidden = !show;
    if (!show) { el.textContent = ""; return; }
    mount(el,
      h("span", {}, t("presence.offlineWithWork", { n: mine })),
      h("button", { type: "button", class: "btn small primary", "data-testid": "banner-go-online", onclick: () => setStatus("online") },
        t("presence.goOnline")));
  };
  const subs = /** @type {const} */ (["me", "mine", "lang"]).map((k) => store.subscribe(k, render));
  render();
  return { el, dispose: () => { for (const u of subs) u(); } };
}
