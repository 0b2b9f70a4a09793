// @mentions in private notes: typing `@` at the start of a note or after a space opens a list
// of agents and teams, filtered by what follows (name or email); arrow keys and Enter (or Tab,
// or a click) insert `@Name`, Escape closes the list. The note is sent with the ids of the
// mentions still in its text, and the server notifies them (a team's members). In the thread,
// mentions in notes are highlighted. The list offers only agents who can open the conversation
// (`GET /conversations/{id}/mentionable`): the server would refuse the others.

import { api } from "../api.js";
import { t } from "../i18n.js";
import { h, mount, linkified } from "../dom.js";
import { store } from "../store.js";

/** Most rows the picker shows. */
const MAX_SHOWN = 8;

/**
 * Someone a note can mention.
 * @typedef {{kind: "agent"|"team", id: number|string, name: string, email?: string}} Mentionable
 */

/**
 * The mention query at the caret: `{start, query}` when the text before the caret ends with
 * `@` (at the start or after whitespace) followed by up to 30 characters without a line break
 * or another `@`.
 * @param {string} text
 * @param {number} caret
 */
export function atQuery(text, caret) {
  const m = /(^|\s)@([^\n@]{0,30})$/.exec(text.slice(0, caret));
  if (!m) return null;
  return { start: m.index + m[1].length, query: m[2] };
}

/**
 * Agents (not the signed-in one) and teams whose name or email starts with a word of `query`,
 * or contains it; those whose name starts with it first.
 * @param {Mentionable[]} all
 * @param {string} query
 */
export function mentionMatches(all, query) {
  const q = query.trim().toLowerCase();
  const hits = all.filter((m) => !q || m.name.toLowerCase().includes(q) || (m.email || "").toLowerCase().startsWith(q));
  const rank = (/** @type {Mentionable} */ m) => (q && m.name.toLowerCase().startsWith(q) ? 0 : 1);
  return hits.sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name)).slice(0, MAX_SHOWN);
}

/**
 * Who can be mentioned now: active agents but me, and the teams given.
 * @param {{id: number|string, name: string}[]} teams
 * @returns {Mentionable[]}
 */
function mentionables(teams) {
  const me = store.get("me");
  /** @type {Mentionable[]} */
  const agents = [...store.get("agents").values()]
    .filter((a) => a.active !== false && String(a.id) !== String(me && me.id))
    .map((a) => ({ kind: "agent", id: a.id, name: a.name || a.email, email: a.email }));
  return [...agents, ...teams.map((tm) => /** @type {Mentionable} */ ({ kind: "team", id: tm.id, name: tm.name }))];
}

/**
 * The mentions of `picked` still in `text`, as the API takes them; `undefined` for none.
 * @param {string} text
 * @param {Mentionable[]} picked
 */
export function mentionsIn(text, picked) {
  const still = picked.filter((m) => text.includes(`@${m.name}`));
  if (!still.length) return undefined;
  const ids = (/** @type {"agent"|"team"} */ kind) => [...new Set(still.filter((m) => m.kind === kind).map((m) => Number(m.id)))];
  return { agent_ids: ids("agent"), team_ids: ids("team") };
}

/**
 * A note's text with `@Name` of known agents and teams highlighted and links clickable.
 * @param {string} text
 * @param {{id: number|string, name: string}[]} teams
 * @returns {(string|Node)[]}
 */
export function withMentions(text, teams) {
  const names = mentionables(teams).map((m) => m.name).concat(store.get("me")?.name || [])
    .filter((n) => n && text.includes(`@${n}`))
    .sort((a, b) => b.length - a.length);
  if (!names.length) return linkified(text);
  const esc = (/** @type {string} */ s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const re = new RegExp(`@(${names.map(esc).join("|")})`, "g");
  /** @type {(string|Node)[]} */
  const out = [];
  let last = 0;
  for (const m of text.matchAll(re)) {
    const at = m.index ?? 0;
    if (at > last) out.push(...linkified(text.slice(last, at)));
    out.push(h("span", { class: "mention", "data-testid": "mention" }, m[0]));
    last = at + m[0].length;
  }
  if (last < text.length) out.push(...linkified(text.slice(last)));
  return out;
}

/**
 * Attaches a mention picker to the note box `input`; `picked` collects what was chosen.
 * Returns the list element and `keydown` (call it first; `true` when the picker used the key).
 * @param {HTMLTextAreaElement} input
 * @param {() => {id: number|string, name: string}[]} teams
 * @param {Mentionable[]} picked
 * @param {number|string} convId the conversation the note is about
 */
export function mentionPicker(input, teams, picked, convId) {

  const listId = `mention-${Math.random().toString(36).slice(2)}`;
  const el = h("ul", {
    class: "canned-picker mention-picker", role: "listbox", id: listId, "data-testid": "mention-picker",
    "aria-label": t("mention.pickerLabel"), hidden: true,
    onmousedown: (/** @type {Event} */ e) => e.preventDefault(),
  });
  /** @type {Set<string>|null} agents who can open the conversation; null until known */
  let readers = null;
  api.get(`/conversations/${encodeURIComponent(String(convId))}/mentionable`)
    .then((r) => { readers = new Set((r.agent_ids || []).map(String)); el.dataset.readers = "known"; })
    .catch(() => { /* unknown: offer everyone, the server still checks */ });
  /** @type {Mentionable[]} */
  let shown = [];
  let active = 0;
  /** @type {{start: number, query: string}|null} */
  let at = null;

  const close = () => {
    shown = [];
    el.hidden = true;
    input.setAttribute("aria-expanded", "false");
  };

  const render = () => {
    mount(el, shown.map((m, i) => h("li", {
      id: `${listId}-${i}`, role: "option", class: `canned-option${i === active ? " on" : ""}`,
      "aria-selected": i === active ? "true" : "false", "data-testid": "mention-option", "data-kind": m.kind, "data-id": m.id,
      onclick: () => pick(m),
    }, h("span", { class: "canned-key" }, `@${m.name}`),
    h("span", { class: "canned-text" }, m.kind === "team" ? t("mention.team") : m.email || ""))));
    input.setAttribute("aria-activedescendant", `${listId}-${active}`);
  };

  const update = () => {
    at = atQuery(input.value, input.selectionStart ?? input.value.length);
    const offered = mentionables(teams()).filter((m) => m.kind === "team" || !readers || readers.has(String(m.id)));
    shown = at ? mentionMatches(offered, at.query) : [];
    if (!shown.length) { close(); return; }
    active = Math.min(active, shown.length - 1);
    el.hidden = false;
    input.setAttribute("aria-expanded", "true");
    render();
  };

  /** @param {Mentionable} m */
  const pick = (m) => {
    if (!at) return;
    const v = input.value;
    const end = at.start + 1 + at.query.length;
    const text = `@${m.name} `;
    input.value = v.slice(0, at.start) + text + v.slice(end);
    const caret = at.start + text.length;
    if (!picked.some((p) => p.kind === m.kind && String(p.id) === String(m.id))) picked.push(m);
    close();
    input.focus();
    input.setSelectionRange(caret, caret);
  };

  input.addEventListener("input", () => { active = 0; update(); });
  input.addEventListener("blur", () => close());

  /** @param {KeyboardEvent} e */
  const keydown = (e) => {
    if (el.hidden || e.isComposing || !shown.length) return false;
    if (e.key === "Escape") close();
    else if (e.key === "ArrowDown") { active = (active + 1) % shown.length; render(); }
    else if (e.key === "ArrowUp") { active = (active - 1 + shown.length) % shown.length; render(); }
    else if ((e.key === "Enter" && !e.shiftKey) || e.key === "Tab") pick(shown[active]);
    else return false;
    e.preventDefault();
    e.stopPropagation();
    return true;
  };

  return { el, keydown };
}
