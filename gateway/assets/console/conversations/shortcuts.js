// Keyboard shortcuts of the conversations view, and the overlay that lists them (`?`). Keys
// act when no text field has the focus; Alt+↑/↓ also work while typing a reply, and Escape
// leaves the reply box. Actions press the same buttons an agent would, so a shortcut can do
// nothing the agent's role cannot.

import { t } from "../i18n.js";
import { h } from "../dom.js";
import { openDialog } from "../forms/index.js";

/** The shortcuts: key label and the string naming what it does. */
const KEYS = /** @type {const} */ ([
  ["J / Alt+↓", "keys.next"],
  ["K / Alt+↑", "keys.previous"],
  ["R", "keys.reply"],
  ["A", "keys.assignMe"],
  ["E", "keys.resolve"],
  ["/", "keys.search"],
  ["Esc", "keys.leave"],
  ["?", "keys.help"],
]);

/** @param {EventTarget|null} el */
function typing(el) {
  const e = /** @type {HTMLElement|null} */ (el);
  return !!e && (e.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(e.tagName));
}

/**
 * Opens the next (`step` 1) or previous (-1) conversation of the list or search results.
 * @param {number} step
 */
function move(step) {
  const rows = /** @type {HTMLAnchorElement[]} */ ([...document.querySelectorAll("#conv-list a.conv-item")]);
  if (!rows.length) return;
  const at = rows.findIndex((r) => r.classList.contains("active"));
  const next = rows[at < 0 ? (step > 0 ? 0 : rows.length - 1) : Math.min(Math.max(at + step, 0), rows.length - 1)];
  if (next && next !== rows[at]) { location.hash = new URL(next.href).hash; next.scrollIntoView({ block: "nearest" }); }
}

/** @param {string} testid clicks the thread's button, if it is there and enabled */
function press(testid) {
  const b = /** @type {HTMLButtonElement|null} */ (document.querySelector(`[data-testid="thread"] [data-testid="${testid}"]`));
  if (b && !b.disabled) b.click();
}

/** The overlay listing the shortcuts. */
export function showShortcuts() {
  openDialog({
    title: t("keys.title"), testid: "shortcuts-help",
    body: h("table", { class: "keys" }, h("tbody", {}, KEYS.map(([key, what]) =>
      h("tr", {}, h("td", {}, h("kbd", {}, key)), h("td", {}, t(what)))))),
  });
}

/**
 * Listens for the shortcuts on the document; returns the function that stops listening.
 * @returns {() => void}
 */
export function installShortcuts() {
  /** @param {KeyboardEvent} e */
  const onKey = (e) => {
    if (e.defaultPrevented || e.isComposing || e.ctrlKey || e.metaKey) return;
    if (e.altKey && (e.key === "ArrowDown" || e.key === "ArrowUp")) {
      e.preventDefault();
      move(e.key === "ArrowDown" ? 1 : -1);
      return;
    }
    if (typing(e.target)) {
      if (e.key === "Escape" && /** @type {HTMLElement} */ (e.target).dataset.testid === "reply-input") /** @type {HTMLElement} */ (e.target).blur();
      return;
    }
    if (e.altKey || document.querySelector("dialog[open]")) return;
    /** @type {Record<string, () => void>} */
    const actions = {
      j: () => move(1),
      k: () => move(-1),
      r: () => /** @type {HTMLElement|null} */ (document.querySelector('[data-testid="reply-input"]'))?.focus(),
      a: () => press("assign-me"),
      e: () => press("resolve"),
      "/": () => /** @type {HTMLElement|null} */ (document.querySelector('[data-testid="search-input"]'))?.focus(),
      "?": showShortcuts,
    };
    const act = actions[e.key.toLowerCase()] || actions[e.key];
    if (!act) return;
    e.preventDefault();
    act();
  };
  document.addEventListener("keydown", onKey);
  return () => document.removeEventListener("keydown", onKey);
}
