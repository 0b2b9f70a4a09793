// The skills editor: one row per skill with a level from 1 to 10.

import { h, mount } from "../../dom.js";
import { t } from "../../i18n.js";

const LEVELS = Array.from({ length: 10 }, (_, i) => i + 1);

/**
 * @param {Record<string, number>} initial
 * @returns {{el: HTMLElement, read: () => {skills: Record<string, number>, error: string|null}}}
 */
export function skillsEditor(initial) {
  /** @type {{name: HTMLInputElement, level: HTMLSelectElement}[]} */
  let rows = [];
  const list = h("div", { class: "skills", "data-testid": "skills" });
  const render = () => mount(list, rows.map((r, i) => h("div", { class: "skill-row", "data-testid": "skill-row" },
    r.name, r.level,
    h("button", {
      type: "button", class: "btn ghost small", "data-testid": "skill-remove",
      "aria-label": t("agents.removeSkill", { name: r.name.value || String(i + 1) }),
      onclick: () => { rows = rows.filter((x) => x !== r); render(); },
    }, "×"))));
  /**
   * @param {string} name
   * @param {number} level
   */
  const add = (name, level) => {
    const nameEl = h("input", { type: "text", class: "input", value: name, "data-testid": "skill-name",
      "aria-label": t("agents.skillName"), maxlength: "64" });
    const levelEl = h("select", { class: "input", "data-testid": "skill-level", "aria-label": t("agents.skillLevel") },
      LEVELS.map((n) => h("option", { value: String(n), selected: n === level }, String(n))));
    levelEl.value = String(level);
    rows.push({ name: nameEl, level: levelEl });
    return nameEl;
  };
  for (const [k, v] of Object.entries(initial || {})) add(k, v);
  render();
  const addBtn = h("button", { type: "button", class: "btn small", "data-testid": "skill-add",
    onclick: () => { const el = add("", 5); render(); el.focus(); } }, `+ ${t("agents.addSkill")}`);
  return {
    el: h("div", { class: "stack tight" }, list, h("div", {}, addBtn)),
    read() {
      /** @type {Record<string, number>} */
      const skills = {};
      for (const r of rows) {
        const name = r.name.value.trim();
        if (!name) return { skills, error: t("agents.skillRequired") };
        if (name in skills) return { skills, error: t("agents.skillTwice", { name }) };
        skills[name] = Number(r.level.value);
      }
      return { skills, error: null };
    },
  };
}
