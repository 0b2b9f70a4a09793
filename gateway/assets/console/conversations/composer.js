// The reply box of a thread: reply or private note, attachments that upload at once (also
// pasted or dropped), emoji, Enter to send, typing notices, a draft kept per conversation
// (also across reloads), `/` for canned responses (canned.js) and, in notes, `@` to mention
// agents and teams (mention.js).

import { api, session } from "../api.js";
import { t } from "../i18n.js";
import { h, mount, randomId, icon } from "../dom.js";
import { errorText } from "../errors.js";
import { cannedPicker } from "./canned.js";
import { suggestionsBar } from "./suggestions.js";
import { draftButton } from "./llm-draft.js";
import { mentionPicker, mentionsIn } from "./mention.js";

/** @typedef {import("./thread.js").PendingFile} PendingFile */

/** Common emoji offered by the emoji button. */
const EMOJI = ["😀", "😊", "🙂", "😉", "😅", "😂", "🙏", "👍", "👌", "👏", "🙌", "💪", "🎉", "✅", "❤️", "🔥",
  "🤔", "😮", "😢", "😔", "🙈", "👋", "📦", "🚚", "💰", "📞", "📧", "⏰", "⭐", "💡", "⚠️", "❓"];

/** @param {string|number} convId */
const draftKey = (convId) => `kefu.console.draft.${(session.agent && session.agent.id) ?? ""}.${convId}`;

/**
 * The draft kept for a conversation, or "".
 * @param {string|number} convId
 */
export function loadDraft(convId) {
  try { return localStorage.getItem(draftKey(convId)) || ""; } catch { return ""; }
}

/**
 * Keeps (or, when empty, forgets) the draft of a conversation.
 * @param {string|number} convId
 * @param {string} text
 */
export function saveDraft(convId, text) {
  try {
    if (text) localStorage.setItem(draftKey(convId), text);
    else localStorage.removeItem(draftKey(convId));
  } catch { /* storage full or disabled: the draft lives until the page closes */ }
}

/**
 * Builds the composer of `thread` (again after a mode switch); sets `thread.input`.
 * @param {import("./thread.js").Thread} thread
 * @returns {HTMLElement}
 */
export function buildComposer(thread) {
  const input = h("textarea", {
    rows: "3", "data-testid": "reply-input",
    placeholder: t(thread.note ? "compose.notePlaceholder" : "compose.placeholder"),
  });
  input.value = thread.draft;
  const sendBtn = h("button", { type: "button", class: "btn primary", "data-testid": "reply-send" },
    t(thread.note ? "compose.addNote" : "compose.send"));
  // Files attached to the next reply: each uploads at once and shows as a removable chip.
  const chips = h("div", { class: "chips", "data-testid": "reply-files" });
  const renderChips = () => mount(chips, thread.pendingFiles.map((f) =>
    h("span", { class: `chip${f.error ? " failed" : ""}`, "data-testid": "reply-file", "data-state": f.error ? "failed" : f.id == null ? "uploading" : "ready" },
      icon("clip"), ` ${f.name}`, f.error ? ` · ${f.error}` : f.id == null ? ` · ${t("compose.uploading")}` : "",
      h("button", { type: "button", class: "link", "data-testid": "reply-file-remove", title: t("compose.removeFile"), onclick: () => {
        thread.pendingFiles = thread.pendingFiles.filter((x) => x !== f);
        renderChips();
      } }, "×"))));
  /** @param {Iterable<File>} files uploads each at once, shown as a chip */
  const addFiles = (files) => {
    for (const file of files) {
      /** @type {PendingFile} */
      const f = { name: file.name || t("compose.pastedImage"), id: null, error: null };
      thread.pendingFiles.push(f);
      api.upload(file).then((up) => { Object.assign(f, up); }, (e) => {
        f.error = errorText(e);
      }).finally(renderChips);
    }
    renderChips();
  };
  const picker = h("input", { type: "file", multiple: "", hidden: "", "data-testid": "reply-file-input" });
  picker.addEventListener("change", () => {
    addFiles([...(picker.files || [])]);
    picker.value = "";
  });
  input.addEventListener("paste", (e) => {
    const files = [...(e.clipboardData?.files || [])];
    if (!files.length) return;
    e.preventDefault();
    addFiles(files);
  });
  const emojiGrid = h("div", { class: "emoji-grid", role: "menu", "data-testid": "emoji-grid", hidden: true, "aria-label": t("compose.emoji") },
    EMOJI.map((em) => h("button", { type: "button", role: "menuitem", class: "emoji", "data-testid": "emoji", onclick: () => {
      const at = input.selectionStart ?? input.value.length;
      input.value = input.value.slice(0, at) + em + input.value.slice(input.selectionEnd ?? at);
      emojiGrid.hidden = true;
      input.focus();
      input.setSelectionRange(at + em.length, at + em.length);
      input.dispatchEvent(new Event("input", { bubbles: true }));
    } }, em)));
  const emojiBtn = h("button", { type: "button", class: "btn", "data-testid": "emoji-toggle", title: t("compose.emoji"), "aria-label": t("compose.emoji"),
    onclick: () => { emojiGrid.hidden = !emojiGrid.hidden; } }, "🙂");
  const attachBtn = h("button", { type: "button", class: "btn", "data-testid": "reply-attach", title: t("compose.attach"),
    onclick: () => picker.click() }, icon("clip"), ` ${t("compose.attach")}`);
  renderChips();
  const mode = (/** @type {boolean} */ note) => h("button", {
    type: "button", class: `mode${thread.note === note ? " on" : ""}`,
    "data-testid": note ? "private-toggle" : "reply-mode", "aria-pressed": thread.note === note ? "true" : "false",
    onclick: () => {
      thread.note = note;
      thread.draft = input.value;
      const fresh = thread.buildComposer();
      thread.composer?.replaceWith(fresh);
      thread.composer = fresh;
      thread.input?.focus();
    },
  }, t(note ? "compose.note" : "compose.reply"));
  const submit = () => {
    const text = input.value.trim();
    if (thread.pendingFiles.some((f) => f.id == null && !f.error)) return; // still uploading
    const files = thread.pendingFiles.filter((f) => f.id != null);
    if (!text && !files.length) return;
    input.value = "";
    thread.draft = "";
    saveDraft(thread.id, "");
    thread.pendingFiles = [];
    renderChips();
    thread.setTyping(false);
    const mentions = thread.note ? mentionsIn(text, thread.mentioned) : undefined;
    thread.mentioned = [];
    thread.send(text, thread.note, randomId(), files, mentions);
  };
  /** @param {{id: number, name: string}[]} files saved files to attach (each once) */
  const attachSaved = (files) => {
    for (const f of files) {
      if (!thread.pendingFiles.some((p) => p.id === f.id)) thread.pendingFiles.push({ name: f.name, id: f.id, error: null });
    }
    renderChips();
  };
  const canned = cannedPicker(thread, input, attachSaved);
  const mention = thread.note ? mentionPicker(input, () => thread.ctx.teams(), thread.mentioned, thread.id) : null;
  const suggest = thread.note ? null : suggestionsBar(thread.id, input, attachSaved);
  const draft = thread.note ? null : draftButton(thread.id, input);
  input.addEventListener("keydown", (e) => {
    if (mention && mention.keydown(e)) return;
    if (suggest && suggest.keydown(e)) return;
    if (canned.keydown(e)) return;
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) { e.preventDefault(); submit(); }
  });
  input.addEventListener("input", () => {
    thread.draft = input.value;
    saveDraft(thread.id, input.value);
    if (!thread.note) thread.setTyping(!!input.value.trim());
  });
  sendBtn.addEventListener("click", submit);
  thread.input = input;
  const box = h("div", { class: `composer${thread.note ? " note" : ""}`, "data-testid": "composer" },
    h("div", { class: "modes" }, mode(false), mode(true)),
    canned.el,
    mention && mention.el,
    suggest && suggest.el,
    input,
    draft && draft.status,
    chips,
    picker,
    emojiGrid,
    h("div", { class: "composer-bar" }, attachBtn, emojiBtn, draft && draft.button, h("span", { class: "muted hint", "data-testid": "reply-hint" }, t(thread.note ? "compose.noteHint" : "compose.cannedHint")), sendBtn));
  box.addEventListener("dragover", (e) => { if (e.dataTransfer?.types.includes("Files")) { e.preventDefault(); box.classList.add("drop"); } });
  box.addEventListener("dragleave", () => box.classList.remove("drop"));
  box.addEventListener("drop", (e) => {
    box.classList.remove("drop");
    const files = [...(e.dataTransfer?.files || [])];
    if (!files.length) return;
    e.preventDefault();
    addFiles(files);
  });
  return box;
}
