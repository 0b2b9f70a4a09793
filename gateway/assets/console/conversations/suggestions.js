// The reply box's suggested answers: the knowledge base's best answers to the customer's latest
// message (`GET /conversations/{id}/suggestions`, empty when the inbox's bot is off), shown as
// chips above the text. A click, or Alt+1 to Alt+3, puts the answer in the reply box and its
// files among the reply's attachments. They are
// loaded when the composer is built (opening the conversation, switching back from a note).

import { api, items } from "../api.js";
import { defineStrings, registerStrings, t } from "../i18n.js";
import { h, mount } from "../dom.js";

registerStrings(defineStrings({
  "suggest.label": "Suggested answers",
  "suggest.insert": "Insert (Alt+{n})",
}, {
  "suggest.label": "建议答案",
  "suggest.insert": "插入（Alt+{n}）",
}));

/**
 * @typedef {Object} Suggestion
 * @property {number} knowledge_id
 * @property {string} answer
 * @property {number} score
 * @property {import("../types.js").SavedFile[]} [attachments]
 */

/**
 * The suggestions bar of conversation `convId`, inserting into `input` and handing an
 * answer's files to `onFiles`.
 * @param {number|string} convId
 * @param {HTMLTextAreaElement} input
 * @param {(files: import("../types.js").SavedFile[]) => void} onFiles
 * @returns {{el: HTMLElement, keydown: (e: KeyboardEvent) => boolean}}
 */
export function suggestionsBar(convId, input, onFiles) {
  const el = h("div", { class: "chips suggestions", "data-testid": "suggestions", "aria-label": t("suggest.label") });
  /** @type {Suggestion[]} */
  let list = [];
  /** @param {Suggestion} s */
  const insert = (s) => {
    input.value = input.value.trim() ? `${input.value.trimEnd()} ${s.answer}` : s.answer;
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
    input.dispatchEvent(new Event("input", { bubbles: true }));
    if (s.attachments && s.attachments.length) onFiles(s.attachments);
  };
  api.get(`/conversations/${encodeURIComponent(String(convId))}/suggestions`).then((body) => {
    list = /** @type {Suggestion[]} */ (items(body));
    mount(el, list.map((s, i) => h("button", {
      type: "button", class: "chip", "data-testid": "suggestion", "data-id": s.knowledge_id,
      title: t("suggest.insert", { n: i + 1 }), onclick: () => insert(s),
    }, `${i + 1}. ${s.answer}`)));
  }, () => {});
  return {
    el,
    keydown(e) {
      if (!e.altKey || e.ctrlKey || e.metaKey) return false;
      const n = Number(e.code.startsWith("Digit") ? e.code.slice(5) : NaN);
      const s = list[n - 1];
      if (!s) return false;
      e.preventDefault();
      insert(s);
      return true;
    },
  };
}
