// Small DOM and formatting helpers shared by the console views.

import { t, getLang } from "./i18n.js";
import { errorText } from "./errors.js";

/**
 * A child of `h()`: text, a node, a list of children, or nothing.
 * @typedef {string|number|Node|null|undefined|false|Child[]} Child
 */

/**
 * Create an element: `h("button", {class: "x", onclick: fn, "data-testid": "y"}, "text", child)`.
 * Children may be strings, nodes, arrays, or null/false (skipped). Text is never parsed as HTML.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, any>|null} [props]
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "value") /** @type {any} */ (el).value = v;
    else if (k === "checked") /** @type {any} */ (el).checked = !!v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

/**
 * @param {Node} el
 * @param {Child[]} children
 */
function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/**
 * Replace all children of `el`.
 * @template {Node} E
 * @param {E} el
 * @param {...Child} children
 * @returns {E}
 */
export function mount(el, ...children) {
  el.textContent = "";
  append(el, children);
  return el;
}

/**
 * Text with clickable http(s) links; everything else stays plain text.
 * @param {string} text
 */
export function linkified(text) {
  const out = [];
  const re = /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/g;
  let last = 0;
  let m;
  while ((m = re.exec(text))) {
    out.push(text.slice(last, m.index));
    out.push(h("a", { href: m[0], target: "_blank", rel: "noopener noreferrer", "data-testid": "message-link" }, m[0]));
    last = m.index + m[0].length;
  }
  out.push(text.slice(last));
  return out;
}

/**
 * Only http(s) URLs (absolute or relative to this server) become links.
 * @param {string} u
 */
export function safeUrl(u) {
  try {
    const url = new URL(u, location.href);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

function locale() { return getLang() === "zh-CN" ? "zh-CN" : undefined; }

/** @param {Date} d */
function dayDiff(d) {
  const a = new Date(d.getFullYear(), d.getMonth(), d.getDate());
  const now = new Date();
  const b = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  return Math.round((b.getTime() - a.getTime()) / 86400000);
}

/** @param {string|undefined} iso */
export function fmtClock(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return d.toLocaleTimeString(locale(), { hour: "2-digit", minute: "2-digit" });
}

/**
 * Compact time for list rows: clock today, "Yesterday", else a short date.
 * @param {string|undefined} iso
 */
export function fmtShort(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return "";
  const diff = dayDiff(d);
  if (diff === 0) return fmtClock(iso);
  if (diff === 1) return t("yesterday");
  return d.toLocaleDateString(locale(), { month: "short", day: "numeric" });
}

/**
 * Day separator label in the thread.
 * @param {string|undefined} iso
 */
export function fmtDay(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const diff = dayDiff(d);
  if (diff === 0) return t("today");
  if (diff === 1) return t("yesterday");
  return d.toLocaleDateString(locale(), { year: "numeric", month: "long", day: "numeric" });
}

/** @param {string|null|undefined} iso */
export function fmtFull(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "" : d.toLocaleString(locale());
}

/**
 * A round avatar with initials and a colour derived from a stable key; with `url`, the picture
 * there (the initials stay if it does not load).
 * @param {string|null|undefined} name
 * @param {any} key
 * @param {string|null} [url]
 */
export function avatar(name, key, cls = "avatar", url = null) {
  const s = String(name || "?").trim();
  const words = s.split(/\s+/).filter(Boolean);
  const initials = /^[\x00-\x7f]/.test(s) && words.length > 1
    ? words[0][0] + words[1][0]
    : Array.from(s)[0] || "?";
  let hash = 0;
  for (const ch of String(key || s)) hash = (hash * 31 + ch.charCodeAt(0)) | 0;
  const hue = Math.abs(hash) % 360;
  const el = h("span", { class: cls, "aria-hidden": "true" }, initials.toUpperCase());
  // CSSOM, not a style attribute: allowed under a CSP without 'unsafe-inline' styles.
  el.style.background = `hsl(${hue} 55% 88%)`;
  el.style.color = `hsl(${hue} 45% 32%)`;
  if (url) {
    const img = /** @type {HTMLImageElement} */ (h("img", { src: url, alt: "", "data-testid": "avatar-img" }));
    img.addEventListener("error", () => img.remove());
    el.appendChild(img);
  }
  return el;
}

/** A random id for idempotent sends; works on plain-http origins too (no randomUUID). */
export function randomId() {
  const a = new Uint8Array(16);
  crypto.getRandomValues(a);
  return Array.from(a, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** @param {any} id */
export function shortId(id) {
  const s = String(id ?? "");
  return s.length > 8 ? s.slice(-6) : s;
}

/**
 * A short message in the corner; errors stay a little longer than the rest.
 * @param {string} text
 * @param {"error"|"info"} [kind]
 */
export function toast(text, kind = "error") {
  let box = document.querySelector(".toasts");
  if (!box) box = document.body.appendChild(h("div", { class: "toasts", role: "status" }));
  const el = box.appendChild(h("div", { class: `toast ${kind}` }, text));
  setTimeout(() => el.classList.add("hide"), kind === "error" ? 6000 : 3000);
  setTimeout(() => el.remove(), kind === "error" ? 6500 : 3500);
}

/**
 * Show an error as a toast, in the UI language (see errors.js).
 * @param {unknown} e
 */
export function showError(e) { toast(errorText(e)); }

/**
 * Stroke icons as SVG element lists (tag, attributes).
 * @type {Record<string, [string, Record<string, string>][]>}
 */
const ICONS = {
  lock: [["path", {d: "M7 11V8a5 5 0 0 1 10 0v3"}], ["rect", {x: "5", y: "11", width: "14", height: "10", rx: "2"}]],
  clip: [["path", {d: "M21 11.5l-8.5 8.5a5.5 5.5 0 0 1-7.8-7.8l9-9a3.7 3.7 0 0 1 5.2 5.2l-9 9a1.8 1.8 0 0 1-2.6-2.6l8.3-8.3"}]],
  chat: [["path", {d: "M21 12a8 8 0 0 1-11.6 7.1L4 20.5l1.4-4.9A8 8 0 1 1 21 12z"}]],
  inbox: [["path", {d: "M22 12h-6l-2 3h-4l-2-3H2"}], ["path", {d: "M5.5 5h13L22 12v6a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2v-6z"}]],
  check: [["path", {d: "M5 12.5l4.5 4.5L19 7.5"}]],
  gear: [["circle", {cx: "12", cy: "12", r: "3"}], ["path", {d: "M19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1z"}]],
  mail: [["rect", {x: "3", y: "5", width: "18", height: "14", rx: "2"}], ["path", {d: "M3 7l9 6 9-6"}]],
  phone: [["rect", {x: "7", y: "2", width: "10", height: "20", rx: "2"}], ["path", {d: "M11 18h2"}]],
  bubbles: [["path", {d: "M15 9a6 5 0 1 0-10.5 3.3L4 15l3-1.4A6.6 6.6 0 0 0 9 14"}], ["path", {d: "M20 15a5 4 0 1 0-2 3.2l2.5 1-.6-2.3A4 4 0 0 0 20 15z"}]],
  tag: [["path", {d: "M3 12V4a1 1 0 0 1 1-1h8l9 9-9 9-9-9z"}], ["circle", {cx: "7.5", cy: "7.5", r: "1.5"}]],
  clock: [["circle", {cx: "12", cy: "12", r: "9"}], ["path", {d: "M12 7v5l3 2"}]],
  logout: [["path", {d: "M9 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h4"}], ["path", {d: "M16 17l5-5-5-5"}], ["path", {d: "M21 12H9"}]],
  search: [["circle", {cx: "11", cy: "11", r: "7"}], ["path", {d: "M20 20l-3.5-3.5"}]],
  close: [["path", {d: "M6 6l12 12"}], ["path", {d: "M18 6L6 18"}]],
  bell: [["path", {d: "M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9"}], ["path", {d: "M10.3 21a1.9 1.9 0 0 0 3.4 0"}]],
  user: [["circle", {cx: "12", cy: "8", r: "4"}], ["path", {d: "M4 21a8 8 0 0 1 16 0"}]],
  at: [["circle", {cx: "12", cy: "12", r: "4"}], ["path", {d: "M16 8v5a3 3 0 0 0 6 0v-1a10 10 0 1 0-4 8"}]],
};

/**
 * A small stroke icon.
 * @param {string} name
 */
export function icon(name, cls = "icon") {
  const NS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(NS, "svg");
  const attrs = { viewBox: "0 0 24 24", fill: "none", stroke: "currentColor", "stroke-width": "2",
    "stroke-linecap": "round", "stroke-linejoin": "round", "aria-hidden": "true" };
  for (const [k, v] of Object.entries(attrs)) svg.setAttribute(k, v);
  for (const [tag, a] of ICONS[name] || []) {
    const el = svg.appendChild(document.createElementNS(NS, tag));
    for (const [k, v] of Object.entries(a)) el.setAttribute(k, v);
  }
  const span = document.createElement("span");
  span.className = cls;
  span.appendChild(svg);
  return span;
}
