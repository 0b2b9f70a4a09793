// A form built from a JSON Schema object: strings, numbers, booleans, enums, nested objects,
// lists of strings. Secrets (listed by JSON path) are write-only password fields with a "set"
// badge when stored; leaving one empty keeps it, typing a value replaces it.

import { h } from "../dom.js";
import { translator } from "./translate.js";
import strings from "./strings.js";
import { field, setBadge, stringList, uid } from "./controls.js";
import { normalizePath } from "./errors.js";
import { resolve, choices, text, kind, humanize } from "./schema.js";

const t = translator(strings);

/**
 * @typedef {import("./schema.js").Schema} Schema
 * @typedef {{el: HTMLElement, get: () => any}} Node
 * @typedef {{root: Schema, secrets: Set<string>, secretsSet: Set<string>, edit: boolean}} Ctx
 */

const MULTILINE = /(_pem|_json|private_key|certificate)$/;

/**
 * Renders `schema` (an object schema) with `value` filled in.
 * @param {{schema: Schema, value?: Record<string, any>, secrets?: string[], secretsSet?: string[],
 *   edit?: boolean, path?: string}} o
 *   `secrets`: JSON paths of write-only fields (`app_secret`, `imap.password` or `/imap/password`;
 *   properties marked `writeOnly: true` count too);
 *   `secretsSet`: those that are stored; `edit`: an existing object (cleared optional fields are
 *   sent as `null`, so a merge patch removes them); `path`: the JSON path of the object in the
 *   request (e.g. `channel`), used for `data-field`.
 * @returns {{el: HTMLElement, value: () => Record<string, any>}}
 */
export function schemaForm(o) {
  /** @type {Ctx} */
  const cx = {
    root: o.schema,
    secrets: new Set((o.secrets || []).map(normalizePath)),
    secretsSet: new Set((o.secretsSet || []).map(normalizePath)),
    edit: !!o.edit,
  };
  const node = objectBody(o.schema, o.value || {}, o.path || "", "", cx);
  return { el: h("div", { class: "schema-form" }, node.el), value: () => node.get() || {} };
}

/**
 * The fields of an object schema.
 * @param {Schema} s @param {Record<string, any>} value @param {string} base @param {string} rel
 * @param {Ctx} cx
 * @returns {Node}
 */
function objectBody(s, value, base, rel, cx) {
  const required = new Set(s.required || []);
  /** @type {[string, Node][]} */
  const nodes = [];
  for (const [name, prop] of Object.entries(s.properties || {})) {
    if (prop && (prop.readOnly || prop["x-hidden"])) continue;
    const path = base ? `${base}.${name}` : name;
    const relPath = rel ? `${rel}.${name}` : name;
    nodes.push([name, property(name, prop, value ? value[name] : undefined, required.has(name), path, relPath, cx)]);
  }
  return {
    el: h("div", { class: "fields" }, nodes.map(([, n]) => n.el)),
    get: () => {
      /** @type {Record<string, any>} */
      const out = {};
      for (const [name, n] of nodes) {
        const v = n.get();
        if (v !== undefined) out[name] = v;
      }
      return out;
    },
  };
}

/**
 * One property.
 * @param {string} name @param {Schema} raw @param {any} initial @param {boolean} required
 * @param {string} path full JSON path (data-field) @param {string} rel path inside the settings
 * @param {Ctx} cx
 * @returns {Node}
 */
function property(name, raw, initial, required, path, rel, cx) {
  const { schema: s } = resolve(raw, cx.root);
  const label = text(s, "title") || humanize(name);
  const help = text(s, "description");
  const k = kind(s, cx.root);
  const had = initial !== undefined && initial !== null && initial !== "";
  const empty = () => (cx.edit && had && !required ? null : undefined);
  const testid = `field-${path}`;

  if (k === "object") return objectSection(s, initial, required, path, rel, label, help, cx);

  if (k === "string" && (cx.secrets.has(rel) || s.writeOnly === true)) {
    const stored = cx.secretsSet.has(rel);
    const multi = MULTILINE.test(name);
    const control = multi
      ? h("textarea", { rows: 4, class: "mono", spellcheck: "false", autocomplete: "off", "data-testid": testid, placeholder: stored ? "••••••••" : "" })
      : h("input", { type: "password", autocomplete: "new-password", "data-testid": testid, placeholder: stored ? "••••••••" : "" });
    return {
      el: field({
        path, label, control, required: required && !stored,
        badge: stored ? setBadge() : null,
        help: [help, stored ? t("forms.secret.keep") : t("forms.secret.new")].filter(Boolean).join(" "),
      }),
      get: () => (/** @type {HTMLInputElement} */ (control).value === "" ? undefined : /** @type {HTMLInputElement} */ (control).value),
    };
  }

  if (k === "enum") {
    const opts = choices(s, cx.root) || [];
    const control = h("select", { "data-testid": testid },
      required && had ? null : h("option", { value: "" }, t("forms.none")),
      opts.map((c, i) => h("option", { value: String(i) }, c.label)));
    const current = had ? initial : s.default;
    const idx = opts.findIndex((c) => JSON.stringify(c.value) === JSON.stringify(current));
    /** @type {HTMLSelectElement} */ (control).value = idx >= 0 ? String(idx) : "";
    return {
      el: field({ path, label, control, help, required }),
      get: () => {
        const v = /** @type {HTMLSelectElement} */ (control).value;
        return v === "" ? empty() : opts[Number(v)].value;
      },
    };
  }

  if (k === "boolean") {
    const control = h("input", { type: "checkbox", "data-testid": testid });
    /** @type {HTMLInputElement} */ (control).checked = had ? !!initial : !!s.default;
    return { el: field({ path, label, control, help, inline: true }), get: () => /** @type {HTMLInputElement} */ (control).checked };
  }

  if (k === "integer" || k === "number") {
    const control = h("input", {
      type: "number", inputmode: k === "integer" ? "numeric" : "decimal", step: k === "integer" ? "1" : "any",
      min: s.minimum ?? null, max: s.maximum ?? null, placeholder: s.default ?? "", "data-testid": testid,
    });
    if (had) /** @type {HTMLInputElement} */ (control).value = String(initial);
    return {
      el: field({ path, label, control, help, required }),
      get: () => {
        const v = /** @type {HTMLInputElement} */ (control).value.trim();
        return v === "" ? empty() : Number(v);
      },
    };
  }

  if (k === "strings") {
    const list = stringList({ values: Array.isArray(initial) ? initial.map(String) : [], testid, label, path, placeholder: s.items && s.items.examples ? String(s.items.examples[0]) : "" });
    return { el: field({ path, label, control: list.el, help, required }), get: () => list.value() };
  }

  if (k === "string") {
    const multi = MULTILINE.test(name) || (s.maxLength ?? 0) > 500;
    const control = multi
      ? h("textarea", { rows: 4, class: "mono", spellcheck: "false", "data-testid": testid })
      : h("input", { type: s.format === "email" ? "email" : s.format === "uri" ? "url" : "text", autocomplete: "off", spellcheck: "false", placeholder: s.default ?? (s.examples ? s.examples[0] : ""), "data-testid": testid });
    if (had) /** @type {HTMLInputElement} */ (control).value = String(initial);
    return {
      el: field({ path, label, control, help, required }),
      get: () => {
        const el = /** @type {HTMLInputElement} */ (control);
        const v = multi ? el.value : el.value.trim();
        return v === "" ? empty() : v;
      },
    };
  }

  // Anything the form cannot show as a control: JSON text.
  const control = h("textarea", { rows: 3, class: "mono", spellcheck: "false", "data-testid": testid });
  if (had) /** @type {HTMLTextAreaElement} */ (control).value = JSON.stringify(initial, null, 2);
  return {
    el: field({ path, label, control, help, required }),
    get: () => {
      const v = /** @type {HTMLTextAreaElement} */ (control).value.trim();
      if (v === "") return empty();
      try { return JSON.parse(v); } catch { return v; }
    },
  };
}

/**
 * A nested object as a fieldset. An optional one (e.g. push's `fcm`) has a switch; off means
 * "not configured" (removed when it was set before).
 * @param {Schema} s @param {any} initial @param {boolean} required @param {string} path
 * @param {string} rel @param {string} label @param {string} help @param {Ctx} cx
 * @returns {Node}
 */
function objectSection(s, initial, required, path, rel, label, help, cx) {
  const had = initial !== undefined && initial !== null;
  const body = objectBody(s, had ? initial : {}, path, rel, cx);
  const legend = h("legend", {}, label);
  const section = h("fieldset", { class: "field-group", "data-field": path },
    legend,
    help ? h("p", { class: "field-hint" }, help) : null,
    h("p", { class: "field-error", role: "alert", "data-testid": "field-error", "data-for": path, hidden: true }),
    body.el);
  if (required) return { el: section, get: body.get };

  const id = uid("sw");
  const toggle = h("input", { type: "checkbox", id, "data-testid": `toggle-${path}`, "aria-controls": `${id}-body` });
  /** @type {HTMLInputElement} */ (toggle).checked = had;
  body.el.id = `${id}-body`;
  const sync = () => { body.el.hidden = !/** @type {HTMLInputElement} */ (toggle).checked; };
  toggle.addEventListener("change", sync);
  sync();
  legend.textContent = "";
  legend.append(toggle, h("label", { for: id }, t("forms.enable", { name: label })));
  return {
    el: section,
    get: () => {
      if (/** @type {HTMLInputElement} */ (toggle).checked) return body.get();
      return cx.edit && had ? null : undefined;
    },
  };
}
