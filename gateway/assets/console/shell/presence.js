// Presence: a banner when the agent is offline while conversations are assigned to them
// (routing skips them, and their customers wait), with a button to go online; and the idle
// watch, which sets an online agent `away` after the idle time chosen in their profile
// (`away_after_minutes`) and back `online` when they return.

import { t } from "../i18n.js";
import { h, mount } from "../dom.js";
import { store } from "../store.js";
import { setStatus } from "./header.js";

/** How often the idle watch looks at the clock. */
const IDLE_CHECK_MS = 15_000;
/** What counts as the agent being there. */
const ACTIVITY = ["mousemove", "mousedown", "keydown", "touchstart", "wheel"];

/**
 * Watches for the agent being idle; returns the function that stops watching.
 * @returns {() => void}
 */
function watchIdle() {
  let last = Date.now();
  let auto = false;
  const active = () => {
    last = Date.now();
    if (!auto) return;
    auto = false;
    if (store.get("me")?.status === "away") setStatus("online");
  };
  for (const e of ACTIVITY) document.addEventListener(e, active, { passive: true });
  const timer = window.setInterval(() => {
    const me = store.get("me");
    const minutes = (me && me.away_after_minutes) || 0;
    if (!me || !minutes || me.status !== "online" || auto) return;
    if (Date.now() - last >= minutes * 60_000) {
      auto = true;
      setStatus("away");
    }
  }, IDLE_CHECK_MS);
  return () => {
    clearInterval(timer);
    for (const e of ACTIVITY) document.removeEventListener(e, active);
  };
}

/** Builds the banner, which shows and hides itself from the store, and starts the idle watch. */
export function createPresenceBanner() {
  const stopIdle = watchIdle();
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
  return { el, dispose: () => { for (const u of subs) u(); stopIdle(); } };
}
