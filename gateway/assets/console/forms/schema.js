// Reading the JSON Schemas (draft 2020-12, as `schemars` writes them) that channels give for
// their settings: resolving `$ref`, unwrapping `Option<T>` and collecting enum choices.

import { isZh } from "./translate.js";

/**
 * @typedef {Record<string, any>} Schema
 * @typedef {{value: any, label: string}} Choice
 * @typedef {{schema: Schema, nullable: boolean}} Resolved
 */

/**
 * Follows a local `$ref` (`#/$defs/X` or `#/definitions/X`) against `root`.
 * @param {Schema} s
 * @param {Schema} root
 * @returns {Schema}
 */
function deref(s, root) {
  let cur = s;
  for (let i = 0; i < 16 && cur && typeof cur.$ref === "string"; i++) {
    const parts = cur.$ref.replace(/^#\//, "").split("/").map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
    /** @type {any} */
    let target = root;
    for (const p of parts) target = target && target[p];
    if (!target) break;
    // Keywords beside the $ref (title, description, x-i18n) win over the target's.
    const { $ref, ...beside } = cur;
    cur = { ...target, ...beside };
  }
  return cur || {};
}

/**
 * The schema to render for `s`: `$ref` resolved, `Option<T>` (`anyOf [T, null]` or
 * `type: [t, "null"]`) unwrapped to T with `nullable` set.
 * @param {Schema} s
 * @param {Schema} root
 * @returns {Resolved}
 */
export function resolve(s, root) {
  let schema = deref(s || {}, root);
  let nullable = false;
  for (const key of ["anyOf", "oneOf"]) {
    const alts = schema[key];
    if (!Array.isArray(alts)) continue;
    const rest = alts.filter((a) => !(a && a.type === "null"));
    if (rest.length < alts.length) nullable = true;
    if (rest.length === 1) {
      const { [key]: _, ...beside } = schema;
      schema = { ...deref(rest[0], root), ...beside };
    }
  }
  if (Array.isArray(schema.type)) {
    const types = schema.type.filter((t) => t !== "null");
    if (types.length < schema.type.length) nullable = true;
    schema = { ...schema, type: types.length === 1 ? types[0] : types };
  }
  return { schema, nullable };
}

/**
 * The choices of an enum schema (`enum`, or `oneOf`/`anyOf` of `const`s), or `null`.
 * @param {Schema} s
 * @param {Schema} root
 * @returns {Choice[] | null}
 */
export function choices(s, root) {
  if (Array.isArray(s.enum)) return s.enum.filter((v) => v !== null).map((v) => ({ value: v, label: String(v) }));
  const alts = s.oneOf || s.anyOf;
  if (!Array.isArray(alts)) return null;
  /** @type {Choice[]} */
  const out = [];
  for (const a0 of alts) {
    const a = deref(a0, root);
    if (a.type === "null") continue;
    if ("const" in a) out.push({ value: a.const, label: text(a, "title") || text(a, "description") || String(a.const) });
    else if (Array.isArray(a.enum)) for (const v of a.enum) out.push({ value: v, label: String(v) });
    else return null;
  }
  return out.length ? out : null;
}

/**
 * `title` or `description` of a schema in the console's language (`x-i18n["zh-CN"]` in Chinese).
 * @param {Schema} s
 * @param {"title" | "description"} key
 * @returns {string}
 */
export function text(s, key) {
  if (isZh()) {
    const zh = s["x-i18n"] && s["x-i18n"]["zh-CN"];
    if (zh && zh[key]) return String(zh[key]);
  }
  return s[key] ? String(s[key]) : "";
}

/**
 * The kind of control a (resolved) schema needs.
 * @param {Schema} s
 * @param {Schema} root
 * @returns {"object" | "enum" | "boolean" | "integer" | "number" | "string" | "strings" | "json"}
 */
export function kind(s, root) {
  if (choices(s, root)) return "enum";
  const type = s.type;
  if (type === "object" || (!type && s.properties)) return s.properties ? "object" : "json";
  if (type === "boolean" || type === "integer" || type === "number" || type === "string") return type;
  if (type === "array") {
    const item = resolve(s.items || {}, root).schema;
    return item.type === "string" && !choices(item, root) ? "strings" : "json";
  }
  return "json";
}

/**
 * A readable label from a property name: `app_secret` → `App secret`.
 * @param {string} name
 */
export function humanize(name) {
  const s = name.replace(/[_-]+/g, " ").trim();
  return s ? s[0].toUpperCase() + s.slice(1) : name;
}
