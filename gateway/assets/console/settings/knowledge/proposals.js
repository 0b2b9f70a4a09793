// Proposals learnt from resolved conversations (`/knowledge/proposals`): a customer's question
// and the agent's answer, when the knowledge base had no clear answer. Supervisors approve one
// as it is, edit it and approve, or reject it; an approved one becomes an entry.

import { h, mount, toast } from "../../dom.js";
import { errorText } from "../../errors.js";
import { openDialog, field, input, formErrors, submitting } from "../../forms/index.js";

/**
 * @typedef {{id: number, conversation_id: number, question: string, answer: string,
 *   best_score: number|null, status: "pending"|"approved"|"rejected", knowledge_id: number|null,
 *   created_at: string}} Proposal
 */

/**
 * The proposals section of the knowledge page.
 * @param {import("../../api.js").Api} api
 * @param {typeof import("../../i18n.js").t} t
 * @param {() => Promise<void>} onApproved called after an approval added an entry
 * @returns {HTMLElement}
 */
export function proposalsSection(api, t, onApproved) {
  const list = h("div", { class: "stack", "data-testid": "proposals-list" });
  const count = h("span", { class: "badge", "data-testid": "proposals-count" }, "0");
  /** @type {Proposal[]} */
  let pending = [];

  const render = () => {
    count.textContent = String(pending.length);
    if (!pending.length) {
      mount(list, h("p", { class: "muted", "data-testid": "proposals-empty" }, t("knowledgePage.proposalsEmpty")));
      return;
    }
    mount(list, pending.map((p) => h("section", { class: "card stack", "data-testid": "proposal", "data-id": p.id },
      h("p", { class: "muted" }, t("knowledgePage.proposalFrom", {
        id: p.conversation_id,
        score: p.best_score == null ? "—" : p.best_score.toFixed(2),
      })),
      h("h3", { "data-testid": "proposal-question" }, p.question),
      h("p", { "data-testid": "proposal-answer" }, p.answer),
      h("div", { class: "form-actions" },
        h("button", { type: "button", class: "btn primary small", "data-testid": "proposal-approve", onclick: () => approve(p, {}) }, t("knowledgePage.approve")),
        h("button", { type: "button", class: "btn small", "data-testid": "proposal-edit", onclick: () => edit(p) }, t("knowledgePage.editApprove")),
        h("button", { type: "button", class: "btn small danger", "data-testid": "proposal-reject", onclick: () => reject(p) }, t("knowledgePage.reject"))))));
  };

  /**
   * @param {Proposal} p
   * @param {Record<string, any>} edits
   */
  const approve = async (p, edits) => {
    try {
      await api.post(`/knowledge/proposals/${p.id}/approve`, edits);
      done(p);
      toast(t("knowledgePage.approved"), "info");
      await onApproved();
    } catch (err) { toast(errorText(err)); }
  };

  /** @param {Proposal} p */
  const reject = async (p) => {
    try {
      await api.post(`/knowledge/proposals/${p.id}/reject`, {});
      done(p);
      toast(t("knowledgePage.rejected"), "info");
    } catch (err) { toast(errorText(err)); }
  };

  /** @param {Proposal} p */
  const done = (p) => {
    pending = pending.filter((x) => x.id !== p.id);
    render();
  };

  /** @param {Proposal} p */
  const edit = (p) => {
    const question = input({ testid: "proposal-edit-question", value: p.question, required: true, maxlength: "500", autocomplete: "off" });
    const answer = /** @type {HTMLTextAreaElement} */ (h("textarea", { class: "input", rows: "5", required: true, maxlength: "5000", "data-testid": "proposal-edit-answer" }));
    answer.value = p.answer;
    const save = h("button", { type: "submit", class: "btn primary", "data-testid": "proposal-edit-save" }, t("knowledgePage.approve"));
    const form = h("form", { class: "stack", novalidate: true },
      field({ label: t("knowledgePage.question"), control: question, name: "question", required: true }),
      field({ label: t("knowledgePage.answer"), control: answer, name: "answer", required: true }),
      h("div", { class: "form-actions" }, save));
    const errors = formErrors(form);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const ok = await submitting(save, errors, async () => {
        await api.post(`/knowledge/proposals/${p.id}/approve`, { question: question.value.trim(), answer: answer.value.trim() });
      });
      if (ok) {
        close();
        done(p);
        toast(t("knowledgePage.approved"), "info");
        await onApproved();
      }
    });
    const close = openDialog({ title: t("knowledgePage.editApproveTitle"), body: form, testid: "proposal-edit-dialog" });
    question.select();
  };

  const load = async () => {
    try {
      /** @type {Proposal[]} */
      const all = (await api.get("/knowledge/proposals?limit=200")).items || [];
      pending = all.filter((p) => p.status === "pending");
      render();
    } catch (err) {
      mount(list, h("p", { class: "field-error", role: "alert" }, errorText(err)));
    }
  };
  load();

  return h("section", { class: "stack", "data-testid": "proposals" },
    h("div", { class: "toolbar" }, h("h2", {}, t("knowledgePage.proposals")), count),
    h("p", { class: "muted" }, t("knowledgePage.proposalsIntro")),
    list);
}
