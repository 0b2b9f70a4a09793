// Settings → Inboxes: the list of inboxes, creating one (pick a channel type, then its form
// built from the channel's settings schema), and each inbox's settings and connection details.

import { h, mount, toast } from "../../dom.js";
import { ensureStyles, http, itemsOf, translator, confirmButton, rememberInbox, ErrorView } from "../../forms/index.js";
import strings from "./strings.js";
import { inboxEditor, typeLabel } from "./editor.js";
import { connectPanel, testPanel, warningsBox } from "./connect.js";
import { accessPanel } from "./access.js";
import { hoursPanel } from "./hours.js";
import { csatPanel } from "./csat.js";
import { fallbackPanel } from "./fallback.js";
import { botPanel } from "./bot.js";

const t = translator(strings);

/**
 * @typedef {{type: string, schema: Record<string, any>, secrets: string[], callback: boolean}} ChannelType
 * @typedef {Record<string, any>} Inbox
 */

/** @type {import("../page.js").Page} */
export const page = {
  id: "inboxes",
  titleKey: "inboxes.page",
  minRole: "admin",
  /**
   * @param {HTMLElement} container
   * @param {import("../page.js").PageContext} ctx
   */
  render(container, ctx) {
    ensureStyles();
    const view = new InboxesPage(container, ctx);
    const [first, second] = ctx.rest || [];
    if (first === "new") return second ? view.createType(second) : view.pickType();
    if (first && /^\d+$/.test(first)) return view.edit(Number(first));
    return view.list();
  },
};

class InboxesPage {
  /** @param {HTMLElement} root @param {import("../page.js").PageContext} ctx */
  constructor(root, ctx) {
    this.root = root;
    this.ctx = ctx;
    /** @type {Map<string, ChannelType> | null} */
    this.types = null;
  }

  /** @returns {Promise<Map<string, ChannelType>>} */
  async channelTypes() {
    if (!this.types) {
      this.types = new Map(itemsOf(await http.get("/channel-types")).map((ct) => [ct.type, ct]));
    }
    return this.types;
  }

  /**
   * Goes to a sub-route of the page: `go()` the list, `go("new")`, `go(7)`.
   * @param {...(string|number)} parts
   */
  go(...parts) {
    this.ctx.navigate(this.ctx.href("settings", "inboxes", ...parts));
  }

  /** @param {...(HTMLElement|null)} children */
  show(...children) {
    mount(this.root, h("div", { class: "sp", "data-testid": "inboxes-page" }, children));
  }

  /** @param {any} e */
  failed(e) {
    const box = h("div", {});
    this.show(box);
    const ev = new ErrorView(box);
    box.append(ev.summary);
    ev.show(e);
  }

  async list() {
    this.show(h("p", { class: "muted" }, t("forms.loading")));
    let inboxes;
    try {
      inboxes = itemsOf(await http.get("/inboxes"));
    } catch (e) {
      return this.failed(e);
    }
    this.show(
      h("div", { class: "sp-head" },
        h("p", { class: "muted grow" }, t("inboxes.lead")),
        h("a", { class: "btn primary", href: this.ctx.href("settings", "inboxes", "new"), "data-testid": "inbox-new" }, `+ ${t("inboxes.new")}`)),
      inboxes.length
        ? h("div", { class: "items", role: "list" }, inboxes.map((ib) => this.row(ib)))
        : h("p", { class: "muted", "data-testid": "inboxes-empty" }, t("inboxes.empty")));
  }

  /** @param {Inbox} ib */
  row(ib) {
    const type = ib.channel && ib.channel.type;
    const warnings = Array.isArray(ib.warnings) ? ib.warnings : [];
    return h("div", { class: "item", role: "listitem", "data-testid": "inbox-row", "data-id": ib.id, "data-type": type },
      h("div", { class: "grow" },
        h("div", { class: "title" }, ib.name, " ", h("span", { class: "pill" }, typeLabel(type))),
        h("div", { class: "sub" }, `#${ib.id}`,
          warnings.length ? [" · ", h("span", { class: "badge warn" }, `⚠ ${warnings.length}`)] : null)),
      h("a", { class: "btn small", href: this.ctx.href("settings", "inboxes", ib.id), "data-testid": "inbox-edit" }, t("inboxes.edit")),
      h("a", { class: "btn small", href: this.ctx.href("settings", "routing", ib.id), "data-testid": "inbox-routing" }, t("inboxes.routing")),
      confirmButton({
        label: t("inboxes.delete"), confirm: t("inboxes.deleteConfirm"), testid: "inbox-delete",
        onConfirm: () => this.remove(ib.id),
      }));
  }

  /** @param {number} id */
  async remove(id) {
    try {
      await http.del(`/inboxes/${id}`);
      toast(t("inboxes.deleted"), "info");
      await this.list();
    } catch (e) {
      this.failed(e);
    }
  }

  back() {
    return h("a", { class: "btn ghost small", href: this.ctx.href("settings", "inboxes"), "data-testid": "inboxes-back" }, t("inboxes.back"));
  }

  async pickType() {
    let types;
    try {
      types = await this.channelTypes();
    } catch (e) {
      return this.failed(e);
    }
    this.show(
      h("div", { class: "sp-head" }, this.back()),
      h("h2", {}, t("inboxes.pickType")),
      h("p", { class: "muted" }, t("inboxes.pickTypeLead")),
      h("div", { class: "type-grid" }, [...types.values()].map((ct) =>
        h("a", {
          class: "type-card", "data-testid": "channel-type", "data-type": ct.type,
          href: this.ctx.href("settings", "inboxes", "new", ct.type),
        }, h("b", {}, typeLabel(ct.type, ct.schema)), h("span", {}, typeHelp(ct.type))))));
  }

  /** @param {string} type */
  async createType(type) {
    let ct;
    try {
      ct = (await this.channelTypes()).get(type);
    } catch (e) {
      return this.failed(e);
    }
    if (!ct) return this.go("new");
    return this.create(ct);
  }

  /** @param {ChannelType} ct */
  create(ct) {
    this.show(
      h("div", { class: "sp-head" }, this.back()),
      h("h2", {}, t("inboxes.new"), " · ", typeLabel(ct.type, ct.schema)),
      inboxEditor({
        type: ct,
        onSaved: (ib) => { toast(t("inboxes.created"), "info"); this.go(ib.id); },
      }));
  }

  /**
   * @param {number} id
   * @param {Inbox} [given] the inbox as just returned by a create or update
   */
  async edit(id, given) {
    rememberInbox(id);
    let ib = given;
    let types;
    try {
      types = await this.channelTypes();
      ib = ib || (await http.get(`/inboxes/${id}`));
    } catch (e) {
      return this.failed(e);
    }
    const inbox = /** @type {Inbox} */ (ib);
    const type = inbox.channel && inbox.channel.type;
    const ct = types.get(type) || { type, schema: { type: "object", properties: {} }, secrets: [], callback: false };
    const dirty = { value: false };
    this.show(
      h("div", { class: "sp-head" }, this.back()),
      h("div", { class: "sp-head" },
        h("div", { class: "grow" }, h("h2", { "data-testid": "inbox-title" }, inbox.name, " ", h("span", { class: "pill" }, typeLabel(type, ct.schema))),
          h("p", { class: "muted" }, `#${inbox.id}`))),
      warningsBox(inbox),
      connectPanel(inbox),
      testPanel(inbox, () => dirty.value),
      h("section", { class: "card" },
        h("h3", {}, t("inboxes.settings")),
        inboxEditor({
          type: ct, inbox,
          onDirty: () => { dirty.value = true; },
          onSaved: (saved) => { toast(t("inboxes.saved"), "info"); this.edit(saved.id, saved); },
        })),
      accessPanel(inbox),
      hoursPanel(inbox),
      csatPanel(inbox),
      fallbackPanel(inbox, [...(this.types?.keys() ?? [])]),
      botPanel(inbox));
  }
}

/** @param {string} type */
function typeHelp(type) {
  const key = `type.${type}`;
  const s = t(key);
  return s === key ? t("type.other") : s;
}
