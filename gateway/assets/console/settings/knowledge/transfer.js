// Export and import of the knowledge base as CSV (`GET /knowledge/export`, `POST
// /knowledge/import`). An import is all or nothing: when rows are wrong the server stores
// nothing and lists every bad cell, which is shown as a table of row, column and reason.

import { h, mount, toast } from "../../dom.js";
import { errorText } from "../../errors.js";

/** @typedef {{row: number, field: string, reason: string}} RowError */

/**
 * The Export and Import buttons, and the place an import's errors appear.
 * @param {import("../../api.js").Api} api
 * @param {typeof import("../../i18n.js").t} t
 * @param {() => Promise<void>} reload called after a successful import
 * @returns {HTMLElement}
 */
export function transferBar(api, t, reload) {
  const errors = h("div", { "data-testid": "knowledge-import-errors" });
  const file = /** @type {HTMLInputElement} */ (h("input", {
    type: "file", accept: ".csv,text/csv", hidden: true, "data-testid": "knowledge-import-file",
  }));
  const exportButton = /** @type {HTMLButtonElement} */ (h("button", {
    type: "button", class: "btn", "data-testid": "knowledge-export",
  }, t("knowledgePage.export")));
  const importButton = /** @type {HTMLButtonElement} */ (h("button", {
    type: "button", class: "btn", "data-testid": "knowledge-import", onclick: () => file.click(),
  }, t("knowledgePage.import")));

  exportButton.addEventListener("click", async () => {
    exportButton.disabled = true;
    try {
      const blob = await api.download("/knowledge/export");
      const url = URL.createObjectURL(blob);
      const a = h("a", { href: url, download: "kefu-knowledge.csv", hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (err) {
      toast(errorText(err));
    } finally {
      exportButton.disabled = false;
    }
  });

  /** @param {RowError[]} rows */
  const showErrors = (rows) => mount(errors, h("section", { class: "card stack", role: "alert" },
    h("p", { class: "field-error", "data-testid": "knowledge-import-summary" }, t("knowledgePage.importFailed")),
    h("div", { class: "table-wrap" }, h("table", { class: "list" },
      h("thead", {}, h("tr", {},
        h("th", {}, t("knowledgePage.importRow")),
        h("th", {}, t("knowledgePage.importColumn")),
        h("th", {}, t("knowledgePage.importReason")))),
      h("tbody", {}, rows.map((r) => h("tr", { "data-testid": "knowledge-import-error", "data-row": r.row, "data-field": r.field },
        h("td", {}, String(r.row)),
        h("td", {}, r.field),
        h("td", {}, r.reason))))))));

  file.addEventListener("change", async () => {
    const chosen = file.files && file.files[0];
    if (!chosen) return;
    mount(errors);
    importButton.disabled = true;
    try {
      const done = await api.post("/knowledge/import", chosen.type ? chosen : new Blob([chosen], { type: "text/csv" }));
      toast(t("knowledgePage.imported", { created: done.created, updated: done.updated }), "info");
      await reload();
    } catch (err) {
      const rows = /** @type {{body?: {errors?: RowError[]}}} */ (err || {}).body?.errors;
      if (Array.isArray(rows)) showErrors(rows);
      else toast(errorText(err));
    } finally {
      importButton.disabled = false;
      file.value = "";
    }
  });

  return h("div", { class: "stack" },
    h("div", { class: "toolbar" },
      h("p", { class: "muted" }, t("knowledgePage.csvHelp")),
      h("div", { class: "spacer" }),
      exportButton, importButton, file),
    errors);
}
