// What the user typed survives a re-render (the language switch rebuilds every view in the new
// language): `snapshot` reads the editable controls of a view, `restore` writes the values back
// into the rebuilt controls and fires `input`/`change`, so page code that listens sees them.
// Controls are matched by test id (else name, else the `data-field` of their wrapper) and by
// their position among controls with the same key.

/**
 * One control's value.
 * @typedef {{key: string, index: number, value: string, checked: boolean | null}} Saved
 */

const EDITABLE = "input:not([data-draft=off]):not([type=hidden]):not([type=file]):not([type=submit]):not([type=button]):not([readonly]), select:not([data-draft=off]), textarea:not([readonly]):not([data-draft=off])";

/**
 * The key of a control: what identifies it across two renders of the same view.
 * @param {Element} el
 * @returns {string | null}
 */
function keyOf(el) {
  const own = el.getAttribute("data-testid") || el.getAttribute("name");
  if (own) return own;
  const wrap = el.closest("[data-field]");
  return wrap ? `field:${wrap.getAttribute("data-field")}` : null;
}

/**
 * The editable controls under `root` with their keys and positions.
 * @param {ParentNode} root
 * @returns {{el: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement, key: string, index: number}[]}
 */
function controls(root) {
  /** @type {Map<string, number>} */
  const seen = new Map();
  const out = [];
  for (const el of /** @type {NodeListOf<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>} */ (root.querySelectorAll(EDITABLE))) {
    const key = keyOf(el);
    if (!key) continue;
    const index = seen.get(key) || 0;
    seen.set(key, index + 1);
    out.push({ el, key, index });
  }
  return out;
}

/**
 * Reads the values of the editable controls under `root`.
 * @param {ParentNode} root
 * @returns {Saved[]}
 */
export function snapshot(root) {
  return controls(root).map(({ el, key, index }) => ({
    key,
    index,
    value: el.value,
    checked: el instanceof HTMLInputElement && (el.type === "checkbox" || el.type === "radio") ? el.checked : null,
  }));
}

/**
 * Writes saved values into the controls under `root` that have the same key and position and
 * a different value now; returns how many were changed.
 * @param {ParentNode} root
 * @param {Saved[]} saved
 * @returns {number}
 */
export function restore(root, saved) {
  const byKey = new Map(saved.map((s) => [`${s.key}#${s.index}`, s]));
  let changed = 0;
  for (const { el, key, index } of controls(root)) {
    const s = byKey.get(`${key}#${index}`);
    if (!s) continue;
    if (s.checked !== null && el instanceof HTMLInputElement) {
      if (el.checked === s.checked) continue;
      el.checked = s.checked;
    } else {
      if (el.value === s.value) continue;
      // A select only takes a value one of its options has.
      if (el instanceof HTMLSelectElement && ![...el.options].some((o) => o.value === s.value)) continue;
      el.value = s.value;
    }
    changed += 1;
    el.dispatchEvent(new Event("input", { bubbles: true }));
    el.dispatchEvent(new Event("change", { bubbles: true }));
  }
  return changed;
}
