// The top bar: brand, main navigation (conversations, contacts, settings), connection state, presence,
// language, the signed-in agent and sign-out. At phone width labels collapse to icons so that
// "Sign out" always stays on screen.

import { api, session } from "../api.js";
import { t, getLang, setLang, registerStrings } from "../i18n.js";
import { h, mount, avatar, icon, showError } from "../dom.js";
import { store } from "../store.js";
import { href } from "../router.js";
import { AGENT_STATUSES } from "../vocab.js";
import { Bell } from "./bell.js";
import strings from "./strings.js";

registerStrings(strings);

/** @typedef {import("../vocab.js").AgentStatus} AgentStatus */

/**
 * A language toggle; also saves the choice in the profile when signed in.
 * @param {boolean} signedIn
 */
export function langButton(signedIn) {
  return h("button", {
    type: "button", class: "btn ghost small lang", "data-testid": "lang-toggle", lang: getLang() === "zh-CN" ? "en" : "zh-CN",
    onclick: () => {
      const next = getLang() === "zh-CN" ? "en" : "zh-CN";
      setLang(next);
      if (signedIn && session.token) {
        api.patch("/profile", { language: next }).then((p) => {
          if (p && p.id != null) store.set("me", { ...store.get("me"), ...p });
        }).catch(() => { /* the choice is kept in this browser anyway */ });
      }
    },
  }, t("lang.switch"));
}

/**
 * Builds the header; it re-renders itself from the store. Returns the element and `dispose`.
 * @param {{onLogout: () => void}} o
 */
export function createHeader(o) {
  const el = h("header", { class: "topbar", "data-testid": "topbar" });
  const bell = new Bell();
  const render = () => {
    bell.relabel();
    const me = store.get("me");
    if (!me) return;
    const route = store.get("route");
    const unread = store.get("unread");
    const live = store.get("live");
    const inSettings = route.name === "settings";
    const inContacts = route.name === "contacts";
    const inConversations = !inSettings && !inContacts;
    mount(el,
      h("button", { type: "button", class: "skip", "data-testid": "skip-link", onclick: () => /** @type {HTMLElement|null} */ (document.getElementById("content"))?.focus() }, t("app.skip")),
      h("a", { href: "#/", class: "brand", "data-testid": "brand", "aria-label": t("app.title") }, h("span", { class: "logo" }, "K"), h("span", { class: "brand-name" }, "Kefu")),
      h("nav", { class: "topnav", "aria-label": t("header.nav") },
        h("a", { href: "#/", class: `topnav-link${inConversations ? " on" : ""}`, "aria-current": inConversations ? "page" : null, "data-testid": "nav-conversations", title: t("header.conversations") },
          icon("chat"), h("span", { class: "lbl" }, t("header.conversations")),
          unread ? h("span", { class: "count", "data-testid": "unread-count" }, unread > 99 ? "99+" : unread) : null),
        h("a", { href: href("contacts"), class: `topnav-link${inContacts ? " on" : ""}`, "aria-current": inContacts ? "page" : null, "data-testid": "nav-contacts", title: t("header.contacts") },
          icon("user"), h("span", { class: "lbl" }, t("header.contacts"))),
        h("a", { href: href("settings"), class: `topnav-link${inSettings ? " on" : ""}`, "aria-current": inSettings ? "page" : null, "data-testid": "open-settings", title: t("header.settings") },
          icon("gear"), h("span", { class: "lbl" }, t("header.settings")))),
      h("div", { class: "spacer" }),
      h("span", { class: `live ${live}`, role: "status" },
        t(live === "live" ? "header.live" : live === "offline" ? "header.offline" : "header.connecting")),
      h("div", { class: "seg", role: "group", "aria-label": t("header.presence"), "data-testid": "agent-status" },
        AGENT_STATUSES.map((s) => h("button", {
          type: "button",
          class: `seg-btn ${s}${me.status === s ? " on" : ""}`,
          "aria-pressed": me.status === s ? "true" : "false",
          "aria-label": t(`status.${s}`),
          "data-testid": `status-${s}`,
          title: t(`status.${s}`),
          onclick: () => setStatus(s),
        }, h("i", { class: "dot" }), h("span", { class: "lbl" }, t(`status.${s}`))))),
      bell.el,
      langButton(true),
      h("a", { href: href("settings", "profile"), class: "me", title: t("header.profile"), "data-testid": "open-profile" },
        avatar(me.name || me.email, me.id, "avatar sm", me.avatar_url), h("span", { class: "me-name" }, me.name || me.email)),
      h("button", { type: "button", class: "btn ghost small logout", "data-testid": "logout", title: t("header.logout"), onclick: o.onLogout },
        icon("logout"), h("span", { class: "lbl" }, t("header.logout"))));
  };
  const subs = /** @type {const} */ (["me", "live", "lang", "unread", "route"]).map((k) => store.subscribe(k, render));
  render();
  return { el, dispose: () => { for (const u of subs) u(); bell.dispose(); } };
}

/**
 * Sets the signed-in agent's status (optimistically; undone with an error when refused).
 * @param {AgentStatus} status
 */
export async function setStatus(status) {
  const me = store.get("me");
  if (!me) return;
  const prev = me.status;
  store.set("me", { ...me, status });
  try {
    const res = await api.put(`/agents/${me.id}/status`, { status });
    const cur = store.get("me");
    if (cur && res && res.status) store.set("me", { ...cur, status: res.status });
    session.save(null, store.get("me"));
  } catch (e) {
    const cur = store.get("me");
    if (cur) store.set("me", { ...cur, status: prev });
    showError(e);
  }
}
