// The reply box's canned response picker: typing `/` at the start of the text or after a
// space opens a list of the canned responses the agent sees, filtered by what follows the
// slash (the shortcut, or words of the text); arrow keys and Enter (or Tab, or a click) insert
// the chosen one with its placeholders filled in by the server for this conversation, Escape
// closes the list. The list is loaded when the picker opens, at most every 30 seconds, and
// again at once after the settings page changes it.

import { api, items, session } from "../api.js";
import { t } from "../i18n.js";
import { h, mount, toast } from "../dom.js";
import { errorText } from "../errors.js";

/** @typedef {import("../types.js").CannedResponse} CannedResponse */

/** Most rows the picker shows. */
const MAX_SHOWN = 8;

/** How long a loaded list is used before the next picker loads it again (others' changes). */
const FRESH_MS = 30_000;

/** @type {Promise<CannedResponse[]>|null} */
let loading = null;
/** The session `loading` belongs to: another sign-in sees other responses. */
let loadedFor = /** @type {string|null} */ (null);
let loadedAt = 0;

/** The canned responses, loaded again when the last load is stale or for another session. */
function cannedList() {
  if (!loading || loadedFor !== session.token || Date.now() - loadedAt > FRESH_MS) {
    loadedFor = session.token;
    loadedAt = Date.now();
    loading = api.get("/canned-responses").then((d) => /** @type {CannedResponse[]} */ (items(d)), (e) => {
      loading = null;
      throw e;
    });
  }
  return loading;
}

/** Called after canned responses change (the settings page). */
export function forgetCanned() { loading = null; }

/**
 * The slash query at the caret: `{start, query}` when the text before the caret ends with a
 * `/` (at the start or after whitespace) followed by anything but a line break or another `/`.
 * @param {string} text
 * @param {number} caret
 */
export function slashQuery(text, caret) {
  const m = /(^|\s)\/([^\n/]*)$/.exec(text.slice(0, caret));
  if (!m) return null;
  return { start: m.index + m[1].length, query: m[2] };
}

/**
 * The responses matching `query`: every word in the shortcut or the text, those whose
 * shortcut starts with the query first.
 * @param {CannedResponse[]} all
 * @param {string} query
 */
export function matching(all, query) {
  const q = query.trim().toLowerCase();
  const words = q.split(/\s+/).filter(Boolean);
  const hits = all.filter((r) => {
    const hay = `${r.shortcut} ${r.content.toLowerCase()}`;
    return words.every((w) => hay.includes(w));
  });
  const first = (/** @type {CannedResponse} */ r) => (q && r.shortcut.startsWith(q) ? 0 : 1);
  return hits.sort((a, b) => first(a) - first(b) || a.shortcut.localeCompare(b.shortcut)).slice(0, MAX_SHOWN);
}

/**
 * Attaches a picker to the reply box `input` of `thread`. Returns the list element (to place
 * in the composer) and `keydown`, which the composer calls first: `true` when the picker used
 * the key. A picked response's files go to `attach` (the reply's pending files).
 * @param {import("./thread.js").Thread} thread
 * @param {HTMLTextAreaElement} input
 * @param {(files: {id: number, name: string}[]) => void} attach
 */
export function cannedPicker(thread, input, attach) {
  const listId = `canned-${Math.random().toString(36).slice(2)}`;
  const el = h("ul", {
    class: "canned-picker", role: "listbox", id: listId, "data-testid": "canned-picker", "aria-label": t("canned.pickerLabel"), hidden: true,
    onmousedown: (/** @type {Event} */ e) => e.preventDefault(), // clicks and scrolling keep the focus in the reply box
  });
  input.setAttribute("aria-controls", listId);
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-expanded", "false");
  /** @type {CannedResponse[]} */
  let shown = [];
  let active = 0;
  let open = false;
  /** @type {{start: number, query: string}|null} */
  let at = null;
  let seq = 0;

  const close = () => {
    open = false;
    shown = [];
    el.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  };

  const render = () => {
    mount(el, shown.map((r, i) => h("li", {
      id: `${listId}-${i}`, role: "option", class: `canned-option${i === active ? " on" : ""}`,
      "aria-selected": i === active ? "true" : "false", "data-testid": "canned-option", "data-shortcut": r.shortcut,
      onclick: () => pick(r),
    }, h("span", { class: "canned-key" }, `/${r.shortcut}`), h("span", { class: "canned-text" }, r.content))));
    input.setAttribute("aria-activedescendant", `${listId}-${active}`);
  };

  /** Shows the picker for the slash query at the caret, or hides it. */
  const update = async () => {
    at = slashQuery(input.value, input.selectionStart ?? input.value.length);
    if (!at) { close(); return; }
    const mine = ++seq;
    let all;
    try { all = await cannedList(); } catch (e) { toast(errorText(e)); close(); return; }
    if (mine !== seq || !at) return; // typed on meanwhile
    shown = matching(all, at.query);
    if (!shown.length && !(all.length === 0 && at.query === "")) { close(); return; }
    open = true;
    active = Math.min(active, Math.max(shown.length - 1, 0));
    el.hidden = false;
    input.setAttribute("aria-expanded", "true");
    if (shown.length) render();
    else mount(el, h("li", { class: "canned-none muted", "data-testid": "canned-none" }, t("canned.none")));
  };

  /**
   * Replaces the slash query with `r` filled in for this conversation.
   * @param {CannedResponse} r
   */
  const pick = async (r) => {
    const range = at && { start: at.start, end: at.start + 1 + at.query.length };
    const typed = range && input.value.slice(range.start, range.end);
    close();
    let text;
    try {
      const rendered = await api.post(`/canned-responses/${r.id}/render`, { conversation_id: thread.wireId() });
      text = rendered.text;
      if (rendered.attachments && rendered.attachments.length) attach(rendered.attachments);
    } catch (e) { toast(errorText(e)); return; }
    const v = input.value;
    // Put it where the query was if it is still there, else at the caret.
    const [from, to] = range && v.slice(range.start, range.end) === typed ? [range.start, range.end]
      : [input.selectionStart ?? v.length, input.selectionEnd ?? v.length];
    input.value = v.slice(0, from) + text + v.slice(to);
    const caret = from + text.length;
    input.focus();
    input.setSelectionRange(caret, caret);
    input.dispatchEvent(new Event("input", { bubbles: true }));
  };

  input.addEventListener("input", () => { active = 0; update(); });
  input.addEventListener("click", () => update());
  input.addEventListener("blur", () => close());

  /** @param {KeyboardEvent} e */
  const keydown = (e) => {
    if (!open || e.isComposing) return false;
    if (e.key === "Escape") { close(); }
    else if (!shown.length) return false;
    else if (e.key === "ArrowDown") { active = (active + 1) % shown.length; render(); }
    else if (e.key === "ArrowUp") { active = (active - 1 + shown.length) % shown.length; render(); }
    else if ((e.key === "Enter" && !e.shiftKey) || e.key === "Tab") { pick(shown[active]); }
    else return false;
    e.preventDefault();
    e.stopPropagation();
    return true;
  };

  return { el, keydown };
}
