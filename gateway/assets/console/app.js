// Kefu agent console: boots the session and follows the hash route (router.js) to the view:
// sign-in, invitation, conversations (conversations/), contacts (contacts/) or settings
// (settings/).
// Shared state lives in store.js; each feature keeps its strings in its own strings.js.

import { api, session, setUnauthorizedHandler } from "./api.js";
import { t, getLang, setLang, registerStrings } from "./i18n.js";
import { h, mount } from "./dom.js";
import { store } from "./store.js";
import { startRouter } from "./router.js";
import { snapshot, restore } from "./forms/draft.js";
import { createHeader } from "./shell/header.js";
import { createPresenceBanner } from "./shell/presence.js";
import { renderLogin } from "./login/index.js";
import { renderInvite } from "./invite/index.js";
import { Conversations } from "./conversations/index.js";
import { Settings } from "./settings/index.js";
import { Contacts } from "./contacts/index.js";
import strings from "./strings.js";

registerStrings(strings);

const root = /** @type {HTMLElement} */ (document.getElementById("app"));

/**
 * What exists while an agent is signed in.
 * @typedef {Object} Workspace
 * @property {HTMLElement} body where the conversations, contacts or settings view goes
 * @property {{el: HTMLElement, dispose: () => void}} header
 * @property {{el: HTMLElement, dispose: () => void}} banner offline with work assigned
 * @property {Conversations} conversations
 * @property {Settings} settings
 * @property {Contacts} contacts
 */

/** @type {Workspace|null} */
let ws = null;

/**
 * Opens the workspace for the stored session. `justSignedIn`: the agent chose the language on
 * the sign-in (or invitation) screen just now, so that choice is kept and saved to the
 * profile; otherwise (a reload) the profile's language wins, as it may have been changed
 * elsewhere.
 */
function signedIn(justSignedIn = false) {
  store.set("me", session.agent);
  openWorkspace();
  refreshProfile(justSignedIn);
  render();
}

function openWorkspace() {
  if (ws) return;
  const header = createHeader({ onLogout: logout });
  const banner = createPresenceBanner();
  const body = h("div", { class: "app-body" });
  const conversations = new Conversations();
  ws = { body, header, banner, conversations, settings: new Settings(), contacts: new Contacts() };
  mount(root, h("div", { class: "app" }, header.el, banner.el, body));
  conversations.start();
}

function closeWorkspace() {
  if (!ws) return;
  ws.settings.leave();
  ws.contacts.leave();
  ws.conversations.stop();
  ws.header.dispose();
  ws.banner.dispose();
  ws = null;
  // Nothing of the previous agent's view may leak into the next sign-in.
  store.reset();
}

/**
 * The profile carries the language and preferences; the login copy is enough until then.
 * @param {boolean} keepLang save the current language to the profile instead of adopting its
 */
async function refreshProfile(keepLang) {
  const me = store.get("me");
  if (!me) return;
  try {
    let p = await api.get("/profile");
    if (keepLang && p && p.language && p.language !== getLang()) {
      p = await api.patch("/profile", { language: getLang() }).catch(() => p);
    }
    if (p && p.id != null && store.get("me")) {
      store.set("me", { ...store.get("me"), ...p });
      session.save(null, store.get("me"));
      if (p.language) setLang(p.language);
    }
  } catch {
    try {
      const a = await api.get(`/agents/${me.id}`);
      if (a && a.id != null && store.get("me")) store.set("me", { ...store.get("me"), ...a });
    } catch { /* keep the login copy */ }
  }
}

async function logout() {
  closeWorkspace();
  await api.logout();
  location.hash = "#/";
  render();
}

/** @param {string|null} [notice] */
function showLogin(notice) {
  closeWorkspace();
  renderLogin(root, { notice, onSignedIn: () => signedIn(true) });
}

/**
 * Shows what the current route asks for; settles when the view has rendered.
 * @returns {Promise<void>}
 */
function render(force = false) {
  const route = store.get("route");
  if (route.name === "invite") {
    closeWorkspace();
    renderInvite(root, route.params.token, () => { location.hash = "#/"; signedIn(true); });
    return Promise.resolve();
  }
  if (!session.token || !session.agent) {
    showLogin();
    return Promise.resolve();
  }
  if (!ws) { signedIn(); return Promise.resolve(); }
  if (route.name === "settings") {
    ws.contacts.leave();
    ws.body.classList.add("in-settings");
    return ws.settings.show(ws.body, route.params.page, route.rest, force);
  }
  ws.settings.leave();
  ws.body.classList.remove("in-settings");
  if (route.name === "contacts") {
    ws.contacts.show(ws.body, route.params.id || undefined, force);
    return Promise.resolve();
  }
  ws.contacts.leave();
  ws.conversations.show(ws.body, route.params.id);
  return Promise.resolve();
}

setUnauthorizedHandler(() => { if (ws) showLogin(t("login.expired")); });
store.subscribe("route", () => render());
// A language switch rebuilds the view in the new language; what was typed is carried over.
store.subscribe("lang", async () => {
  const typed = snapshot(root);
  if (!ws) {
    await render();
  } else {
    ws.conversations.rerender();
    if (["settings", "contacts"].includes(store.get("route").name)) await render(true);
  }
  restore(root, typed);
});
startRouter();
