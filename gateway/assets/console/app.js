// Kefu agent console: boots the session and follows the hash route (router.js) to the view:
// sign-in, invitation, conversations (conversations/) or settings (settings/).
// Shared state lives in store.js; each feature keeps its strings in its own strings.js.

import { api, session, setUnauthorizedHandler } from "./api.js";
import { t, setLang, registerStrings } from "./i18n.js";
import { h, mount } from "./dom.js";
import { store } from "./store.js";
import { startRouter } from "./router.js";
import { createHeader } from "./shell/header.js";
import { renderLogin } from "./login/index.js";
import { renderInvite } from "./invite/index.js";
import { Conversations } from "./conversations/index.js";
import { Settings } from "./settings/index.js";
import strings from "./strings.js";

registerStrings(strings);

const root = /** @type {HTMLElement} */ (document.getElementById("app"));

/**
 * What exists while an agent is signed in.
 * @typedef {Object} Workspace
 * @property {HTMLElement} body where the conversations or settings view goes
 * @property {{el: HTMLElement, dispose: () => void}} header
 * @property {Conversations} conversations
 * @property {Settings} settings
 */

/** @type {Workspace|null} */
let ws = null;

function signedIn() {
  store.set("me", session.agent);
  openWorkspace();
  refreshProfile();
  render();
}

function openWorkspace() {
  if (ws) return;
  const header = createHeader({ onLogout: logout });
  const body = h("div", { class: "app-body" });
  const conversations = new Conversations();
  ws = { body, header, conversations, settings: new Settings() };
  mount(root, h("div", { class: "app" }, header.el, body));
  conversations.start();
}

function closeWorkspace() {
  if (!ws) return;
  ws.settings.leave();
  ws.conversations.stop();
  ws.header.dispose();
  ws = null;
  // Nothing of the previous agent's view may leak into the next sign-in.
  store.reset();
}

/** The profile carries the language and preferences; the login copy is enough until then. */
async function refreshProfile() {
  const me = store.get("me");
  if (!me) return;
  try {
    const p = await api.get("/profile");
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
  renderLogin(root, { notice, onSignedIn: signedIn });
}

/** Shows what the current route asks for. */
function render(force = false) {
  const route = store.get("route");
  if (route.name === "invite") {
    closeWorkspace();
    renderInvite(root, route.params.token, () => { location.hash = "#/"; signedIn(); });
    return;
  }
  if (!session.token || !session.agent) {
    showLogin();
    return;
  }
  if (!ws) { signedIn(); return; }
  if (route.name === "settings") {
    ws.body.classList.add("in-settings");
    ws.settings.show(ws.body, route.params.page, route.rest, force);
  } else {
    ws.settings.leave();
    ws.body.classList.remove("in-settings");
    ws.conversations.show(ws.body, route.params.id);
  }
}

setUnauthorizedHandler(() => { if (ws) showLogin(t("login.expired")); });
store.subscribe("route", () => render());
store.subscribe("lang", () => {
  if (!ws) { render(); return; }
  ws.conversations.rerender();
  if (store.get("route").name === "settings") render(true);
});
startRouter();
