// The reply box's Draft button: with a language model configured on the server (`GET /ai`),
// it asks for a reply drafted from the knowledge base (`POST /conversations/{id}/draft`) and
// puts it in the reply box, for the agent to edit and send, with the entries it cites below.
// Without a model the button is not shown.

import { api } from "../api.js";
import { defineStrings, registerStrings, t } from "../i18n.js";
import { h, mount } from "../dom.js";
import { errorText } from "../errors.js";

registerStrings(defineStrings({
  "draft.button": "Draft",
  "draft.title": "Draft a reply from the knowledge base with the language model",
  "draft.working": "Drafting…",
  "draft.cites": "Based on:",
  "draft.noSources": "No knowledge base entry answers this; check the draft carefully.",
}, {
  "draft.button": "草稿",
  "draft.title": "用大语言模型根据知识库起草回复",
  "draft.working": "正在起草…",
  "draft.cites": "依据：",
  "draft.noSources": "知识库中没有能回答此问题的条目，请仔细核对草稿。",
}));

/** @type {Promise<boolean>|null} whether the server has a language model, asked once */
let available = null;

/** @returns {Promise<boolean>} */
function llmAvailable() {
  if (!available) {
    available = api.get("/ai").then((b) => !!(b && b.llm), () => {
      available = null; // ask again next time
      return false;
    });
  }
  return available;
}

/**
 * @typedef {Object} Draft
 * @property {string} text
 * @property {{knowledge_id: number, question: string}[]} citations
 */

/**
 * The Draft button of conversation `convId`, filling `input`, and the line under the reply
 * box that shows what the draft is based on (or why there is none).
 * @param {number|string} convId
 * @param {HTMLTextAreaElement} input
 * @returns {{button: HTMLButtonElement, status: HTMLElement}}
 */
export function draftButton(convId, input) {
  const status = h("div", { class: "muted hint draft-status", "data-testid": "draft-status", hidden: true });
  const button = /** @type {HTMLButtonElement} */ (h("button", {
    type: "button", class: "btn", "data-testid": "draft-button", title: t("draft.title"), hidden: true,
  }, t("draft.button")));
  /** @param {(string|Node)[]} parts */
  const show = (parts) => { mount(status, parts); status.hidden = parts.length === 0; };
  button.addEventListener("click", () => {
    button.disabled = true;
    button.textContent = t("draft.working");
    show([]);
    api.post(`/conversations/${encodeURIComponent(String(convId))}/draft`, {}).then((body) => {
      const d = /** @type {Draft} */ (body);
      input.value = d.text;
      input.focus();
      input.setSelectionRange(input.value.length, input.value.length);
      input.dispatchEvent(new Event("input", { bubbles: true }));
      show(d.citations.length
        ? [`${t("draft.cites")} `, ...d.citations.map((c) =>
          h("span", { class: "chip", "data-testid": "draft-citation", "data-id": c.knowledge_id }, c.question))]
        : [t("draft.noSources")]);
    }, (e) => {
      show([h("span", { class: "error", "data-testid": "draft-error" }, errorText(e))]);
    }).finally(() => {
      button.disabled = false;
      button.textContent = t("draft.button");
    });
  });
  llmAvailable().then((yes) => { button.hidden = !yes; });
  return { button, status };
}
