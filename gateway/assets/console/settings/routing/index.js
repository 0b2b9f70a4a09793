// Settings → Routing: per inbox, the default skills and priority, the rules, overflow, the
// sticky window and claiming; saved with `PUT /api/v1/inboxes/{id}/routing`, each validation
// error beside its rule and field; and a "try it" panel over the unsaved configuration.

import { h, mount, toast } from "../../dom.js";
import { ensureStyles, http, itemsOf, translator, field, busy, ErrorView, lastInbox, rememberInbox } from "../../forms/index.js";
import strings from "./strings.js";
import { routingEditor } from "./editor.js";
import { tryPanel } from "./tryit.js";

const t = translator(strings);
const KNOWN_CHANNELS = ["web_chat", "wechat", "wecom_kf", "email", "app_push"];

/** @type {import("../page.js").Page} */
export const page = {
  id: "routing",
  titleKey: "routing.page",
  minRole: "admin",
  /**
   * @param {HTMLElement} container
   * @param {import("../page.js").PageContext} ctx
   */
  render(container, ctx) {
    ensureStyles();
    return show(container, ctx);
  },
};

/**
 * `#/settings/routing/<inbox id>`; without an id, the inbox last picked (or the first).
 * @param {HTMLElement} root @param {import("../page.js").PageContext} ctx
 */
async function show(root, ctx) {
  const page = h("div", { class: "sp", "data-testid": "routing-page" });
  mount(root, page);
  const top = new ErrorView(page);
  mount(page, top.summary, h("p", { class: "muted" }, t("forms.loading")));
  let inboxes;
  let teams = null;
  let channels = KNOWN_CHANNELS;
  try {
    inboxes = itemsOf(await http.get("/inboxes"));
  } catch (e) {
    mount(page, top.summary);
    top.show(e);
    return;
  }
  // Teams and channel types only fill pickers; without them the page still works.
  try { teams = itemsOf(await http.get("/teams")).map((tm) => ({ id: tm.id, name: tm.name })); } catch { teams = null; }
  try { channels = itemsOf(await http.get("/channel-types")).map((ct) => ct.type); } catch { /* known list */ }

  const head = h("p", { class: "muted" }, t("routing.lead"));
  if (!inboxes.length) {
    mount(page, head, h("p", { class: "muted", "data-testid": "routing-no-inboxes" }, t("routing.noInboxes")));
    return;
  }
  const wanted = (ctx.rest && ctx.rest[0]) || lastInbox();
  const current = inboxes.find((ib) => String(ib.id) === wanted) || inboxes[0];
  const picker = /** @type {HTMLSelectElement} */ (h("select", { "data-testid": "routing-inbox" },
    inboxes.map((ib) => h("option", { value: String(ib.id) }, `${ib.name} (#${ib.id})`))));
  picker.value = String(current.id);
  const body = h("div", {});
  picker.addEventListener("change", () => ctx.navigate(ctx.href("settings", "routing", picker.value)));
  rememberInbox(current.id);
  mount(page, head, h("div", { class: "card" }, field({ path: "inbox", label: t("routing.inbox"), control: picker })), body);
  await load(body, current, teams, channels, ctx);
}

/**
 * @param {HTMLElement} body @param {Record<string, any>} inbox
 * @param {import("./widgets.js").Team[] | null} teams @param {string[]} channels
 * @param {import("../page.js").PageContext} ctx
 */
async function load(body, inbox, teams, channels, ctx) {
  const errors = new ErrorView(body);
  mount(body, h("p", { class: "muted" }, t("forms.loading")));
  let stored;
  try {
    stored = await http.get(`/inboxes/${inbox.id}/routing`);
  } catch (e) {
    mount(body, errors.summary);
    errors.show(e);
    return;
  }
  // Rendered again in place (language switch): the unsaved rules, not the stored ones.
  const draft = /** @type {{inbox?: unknown, routing?: Record<string, any>} | undefined} */ (ctx.draft);
  const start = draft && draft.inbox === inbox.id && draft.routing ? draft.routing : stored.routing || {};
  const editor = routingEditor(start, { teams, channels });
  ctx.keep(() => ({ inbox: inbox.id, routing: editor.value() }));
  const save = h("button", { type: "submit", class: "btn primary", "data-testid": "routing-save" }, t("routing.save"));
  const form = h("form", { novalidate: true, "data-testid": "routing-form", "data-inbox": inbox.id }, editor.el, h("div", { class: "form-actions" }, save));
  const formErrors = new ErrorView(form);
  form.prepend(formErrors.summary);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    formErrors.clear();
    try {
      await busy(/** @type {HTMLButtonElement} */ (save), t("forms.saving"), () => http.put(`/inboxes/${inbox.id}/routing`, editor.value()));
      toast(t("routing.saved"), "info");
    } catch (e) {
      // What the admin typed stays; each problem shows beside its rule and field.
      formErrors.show(e);
    }
  });
  mount(body, form, tryPanel({
    inboxId: inbox.id,
    channel: inbox.channel && inbox.channel.type,
    channels,
    teams,
    config: editor.value,
    editorErrors: formErrors,
  }));
}
