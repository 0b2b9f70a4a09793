// API tokens (every agent, for themselves; admins may list everyone's): create with an expiry
// and scopes, shown once with a copy button; list with last use; revoke.

import { items, qs } from "../../api.js";
import { registerStrings, has } from "../../i18n.js";
import { h, mount, toast, fmtFull } from "../../dom.js";
import { errorText } from "../../errors.js";
import { openDialog, confirmDialog, copyBox, field, input, select, checkbox, formErrors, localError, submitting } from "../../forms/index.js";
import { roleAtLeast } from "../registry.js";
import strings from "./strings.js";

registerStrings(strings);

/** @typedef {import("../../types.js").ApiToken} ApiToken */

/** Token scopes and the least role that may grant each. */
const SCOPES = /** @type {const} */ ([["read", "agent"], ["conversations", "agent"], ["admin", "admin"]]);
const EXPIRY_DAYS = ["never", "7", "30", "90", "365"];

/** @type {import("../page.js").Page} */
export const page = {
  id: "tokens",
  titleKey: "tokens.title",
  minRole: "agent",
  async render(container, { api, t, me, store }) {
    const isAdmin = me.role === "admin";
    /** @type {ApiToken[]} */
    let tokens = [];
    let all = false;

    const name = input({ testid: "token-name", required: true, maxlength: "100", autocomplete: "off" });
    const expiry = select({ testid: "token-expiry" }, EXPIRY_DAYS.map((d) => [d, t(`tokens.expiry.${d}`)]), "90");
    const scopes = SCOPES.filter(([, min]) => roleAtLeast(me.role, min))
      .map(([s]) => ({ s, ...checkbox({ label: t(`tokens.scope.${s}`), checked: true, testid: `token-scope-${s}` }) }));
    const create = h("button", { type: "submit", class: "btn primary", "data-testid": "token-create" }, t("tokens.create"));
    const form = h("form", { class: "card stack", novalidate: true, "data-testid": "token-form" },
      h("h2", {}, t("tokens.new")),
      h("p", { class: "muted" }, t("tokens.intro")),
      h("div", { class: "form-row" },
        field({ label: t("tokens.name"), control: name, name: "name", hint: t("tokens.nameHint"), testid: "token-name" }),
        field({ label: t("tokens.expiry"), control: expiry, name: "expires_at", testid: "token-expiry" })),
      h("fieldset", { class: "field", "data-field": "scopes" },
        h("legend", {}, t("tokens.scopes")),
        h("div", { class: "checks" }, scopes.map((x) => x.row)),
        h("div", { class: "field-error", role: "alert", hidden: true, id: "token-scopes-error", "data-testid": "token-scopes-error" })),
      h("div", { class: "form-actions" }, create));
    const errors = formErrors(form);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const chosen = scopes.filter((x) => x.box.checked).map((x) => x.s);
      if (!chosen.length) { errors.show(localError("scopes", t("tokens.noScope"))); return; }
      /** @type {Record<string, any>} */
      const body = { name: name.value.trim(), scopes: chosen };
      if (expiry.value !== "never") body.expires_at = new Date(Date.now() + Number(expiry.value) * 86400000).toISOString();
      /** @type {ApiToken|null} */
      let made = null;
      await submitting(create, errors, async () => { made = await api.post("/api-tokens", body); });
      if (made) {
        name.value = "";
        showOnce(made);
        load().catch((e) => toast(errorText(e)));
      }
    });

    const table = h("div", { class: "table-wrap" });
    const allBox = isAdmin ? checkbox({ label: t("tokens.showAll"), testid: "tokens-all" }) : null;
    allBox?.box.addEventListener("change", () => { all = allBox.box.checked; load().catch((e) => toast(errorText(e))); });
    mount(container, form, allBox ? h("div", { class: "toolbar" }, allBox.row) : null, table);

    /** @param {ApiToken} tk */
    const showOnce = (tk) => {
      const close = openDialog({
        title: t("tokens.createdTitle", { name: tk.name }),
        testid: "token-created",
        body: [
          h("p", {}, t("tokens.createdText")),
          copyBox(tk.token || "", "token-value", t("tokens.token")),
          h("div", { class: "form-actions spaced" },
            h("button", { type: "button", class: "btn primary", "data-testid": "token-done", onclick: () => close() }, t("common.close"))),
        ],
      });
    };

    const load = async () => {
      tokens = items(await api.get(`/api-tokens${qs({ all: all ? "true" : "" })}`));
      render();
    };

    /** @param {ApiToken} tk */
    const revoke = async (tk) => {
      if (!(await confirmDialog(t("tokens.revokeTitle", { name: tk.name }), t("tokens.revokeText"), t("tokens.revoke")))) return;
      try {
        await api.del(`/api-tokens/${tk.id}`);
        tokens = tokens.filter((x) => x.id !== tk.id);
        toast(t("tokens.revoked"), "info");
        render();
      } catch (e) { toast(errorText(e)); }
    };

    /** @param {ApiToken} tk */
    const owner = (tk) => {
      if (tk.agent_id === me.id) return me.name;
      const a = store.get("agents").get(String(tk.agent_id));
      return a ? a.name : `#${tk.agent_id}`;
    };

    const render = () => {
      if (!tokens.length) { mount(table, h("p", { class: "muted pad" }, t("tokens.empty"))); return; }
      const now = Date.now();
      mount(table, h("table", { class: "list", "data-testid": "tokens-table" },
        h("thead", {}, h("tr", {},
          ["tokens.col.name", ...(all ? ["tokens.col.owner"] : []), "tokens.col.scopes", "tokens.col.created", "tokens.col.lastUsed", "tokens.col.expires"]
            .map((k) => h("th", { scope: "col" }, t(k))),
          h("th", { scope: "col" }, h("span", { class: "sr-only" }, t("common.actions"))))),
        h("tbody", {}, tokens.map((tk) => {
          const expired = tk.expires_at && Date.parse(tk.expires_at) < now;
          return h("tr", { "data-testid": "token-row", "data-id": tk.id, "data-name": tk.name, class: expired ? "inactive" : null },
            h("td", { class: "strong" }, tk.name),
            all ? h("td", {}, owner(tk)) : null,
            h("td", {}, h("div", { class: "chips" }, (tk.scopes || []).map((s) => h("span", { class: "chip", "data-scope": s }, has(`tokens.scopeName.${s}`) ? t(`tokens.scopeName.${s}`) : s)))),
            h("td", {}, fmtFull(tk.created_at)),
            h("td", { "data-testid": "token-last-used" }, tk.last_used_at ? fmtFull(tk.last_used_at) : t("common.never")),
            h("td", {}, expired ? h("span", { class: "pill off" }, t("tokens.expired")) : tk.expires_at ? fmtFull(tk.expires_at) : t("common.never")),
            h("td", { class: "actions-cell" }, h("div", { class: "row-actions" },
              h("button", { type: "button", class: "btn small danger", "data-testid": "token-revoke", onclick: () => revoke(tk) }, t("tokens.revoke")))));
        }))));
    };

    await load();
  },
};
