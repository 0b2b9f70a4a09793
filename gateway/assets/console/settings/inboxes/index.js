// Settings → Inboxes: the list of inboxes, creating one (pick a channel type, then its form
// built from the channel's settings schema), and each inbox's settings and connection details.

import { h, mount, toast } from "../../dom.js";
import { ensureStyles, http, itemsOf, translator, confirmButton, rememberInbox, ErrorView } from "../../forms/index.js";
import strings from "./strings.js";
import { inboxEditor, typeLabel } from "./editor.js";
import { connectPanel, testPanel, warningsBox } from "./connect.js";

const t = translator(strings);

/**
 * @typedef {{type: string, schema: Record<string, any>, secrets: string[], callback: boolean}} ChannelType
 * @typedef {Record<string, any>} Inbox
 */

/** The page module the settings shell registers. */
export const page = {
  id: "inboxes",
  titleKey: "inboxes.page",
  minRole: "admin",
  strings,
  /**
   * @param {HTMLElement} container
   * @param {any} ctx
   */
  render(container, ctx) {
    ensureStyles();
    new InboxesPage(container, ctx).list();
  },
};

class InboxesPage {
  /** @param {HTMLElement} root @param {any} ctx */
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

  /** @param {HTMLElement[]} children */
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
        h("div", { class: "grow" }, h("h2", {}, t("inboxes.page")), h("p", { class: "muted" }, t("inboxes.lead"))),
        h("button", { type: "button", class: "btn primary", "data-testid": "inbox-new", onclick: () => this.pickType() }, `+ ${t("inboxes.new")}`)),
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
      h("button", { type: "button", class: "btn small", "data-testid": "inbox-edit", onclick: () => this.edit(ib.id) }, t("inboxes.edit")),
      h("button", {
        type: "button", class: "btn small", "data-testid": "inbox-routing",
        onclick: () => { rememberInbox(ib.id); location.hash = "#/settings/routing"; },
      }, t("inboxes.routing")),
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
    return h("button", { type: "button", class: "btn ghost small", "data-testid": "inboxes-back", onclick: () => this.list() }, t("inboxes.back"));
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
      h("div", { class: "type-grid", role: "list" }, [...types.values()].map((ct) =>
        h("button", {
          type: "button", class: "type-card", role: "listitem", "data-testid": "channel-type", "data-type": ct.type,
          onclick: () => this.create(ct),
        }, h("b", {}, typeLabel(ct.type, ct.schema)), h("span", {}, typeHelp(ct.type))))));
  }

  /** @param {ChannelType} ct */
  create(ct) {
    this.show(
      h("div", { class: "sp-head" }, this.back()),
      h("h2", {}, t("inboxes.new"), " · ", typeLabel(ct.type, ct.schema)),
      inboxEditor({
        type: ct,
        onSaved: (ib) => { toast(t("inboxes.created"), "info"); this.edit(ib.id, ib); },
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
        })));
  }
}

/** @param {string} type */
function typeHelp(type) {
  const key = `type.${type}`;
  const s = t(key);
  return s === key ? t("type.other") : s;
}
