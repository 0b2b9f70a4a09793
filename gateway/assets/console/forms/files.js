// Files saved with text for later sending (a canned response's, a knowledge-base answer's):
// each uploads at once (`POST /attachments`) and shows as a chip that can be removed; saving
// waits until none is still uploading. Test ids start with the caller's `prefix`.

import { api } from "../api.js";
import { defineStrings, registerStrings, t } from "../i18n.js";
import { h, mount, icon } from "../dom.js";
import { errorText } from "../errors.js";

registerStrings(defineStrings({
  "files.attach": "Attach files",
  "files.remove": "Remove file",
  "files.uploading": "uploading…",
  "files.waitUpload": "A file is still uploading; save again when it is done.",
}, {
  "files.attach": "添加文件",
  "files.remove": "移除文件",
  "files.uploading": "正在上传…",
  "files.waitUpload": "仍有文件在上传，请上传完成后再保存。",
}));

/** @typedef {import("../types.js").SavedFile} SavedFile */
/** @typedef {SavedFile & {error?: string, uploading?: boolean}} ListedFile */

/**
 * A list of saved files, starting with `initial`, holding at most `max`.
 * @param {{prefix: string, initial?: SavedFile[], max: number}} opts
 */
export function savedFiles({ prefix, initial = [], max }) {
  /** @type {ListedFile[]} */
  let files = initial.map((f) => ({ ...f }));
  const chips = h("div", { class: "chips", "data-testid": `${prefix}-files` });
  const render = () => mount(chips, files.map((f) => h("span", {
    class: `chip${f.error ? " failed" : ""}`, "data-testid": `${prefix}-file`, "data-state": f.error ? "failed" : f.uploading ? "uploading" : "ready",
  }, icon("clip"), ` ${f.name}`, f.error ? ` · ${f.error}` : f.uploading ? ` · ${t("files.uploading")}` : "",
  h("button", { type: "button", class: "link", "data-testid": `${prefix}-file-remove`, title: t("files.remove"), "aria-label": t("files.remove"),
    onclick: () => { files = files.filter((x) => x !== f); render(); } }, "×"))));
  const picker = /** @type {HTMLInputElement} */ (h("input", { type: "file", multiple: "", hidden: "", "data-testid": `${prefix}-file-input` }));
  picker.addEventListener("change", () => {
    for (const file of [...(picker.files || [])].slice(0, Math.max(0, max - files.length))) {
      /** @type {ListedFile} */
      const f = { id: 0, name: file.name, uploading: true };
      files.push(f);
      api.upload(file).then((up) => { Object.assign(f, up, { uploading: false }); },
        (e) => { f.uploading = false; f.error = errorText(e); }).finally(render);
    }
    picker.value = "";
    render();
  });
  const attach = h("button", { type: "button", class: "btn small", "data-testid": `${prefix}-attach`, onclick: () => picker.click() },
    icon("clip"), ` ${t("files.attach")}`);
  render();
  return {
    /** The chips, the attach button and its hidden picker. */
    el: h("div", { class: "stack" }, chips, h("div", {}, attach, picker)),
    /** Whether a file is still uploading (saving waits for it). */
    busy: () => files.some((f) => f.uploading),
    /** Forgets the files (after a create). */
    clear() { files = []; render(); },
    /** The ids of the files that uploaded, in order. */
    ids: () => files.filter((f) => !f.error && !f.uploading).map((f) => f.id),
  };
}

/**
 * Links to saved files, for a list row.
 * @param {SavedFile[] | undefined} files
 * @param {string} testid
 */
export function fileLinks(files, testid) {
  if (!files || !files.length) return null;
  return h("div", { class: "chips", "data-testid": `${testid}s` },
    files.map((f) => h("a", { class: "chip", href: f.url || "#", target: "_blank", rel: "noopener", "data-testid": testid }, icon("clip"), ` ${f.name}`)));
}
