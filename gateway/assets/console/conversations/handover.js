// Handing a conversation over from the thread header: the picker that transfers it to another
// agent or a team (or, while nobody has it, assigns it to an agent).

import { api } from "../api.js";
import { t } from "../i18n.js";
import { h, toast } from "../dom.js";
import { errorText } from "../errors.js";
import { store } from "../store.js";
import { openDialog, field, select } from "../forms/index.js";

/** @typedef {import("../types.js").Conversation} Conversation */
/** @typedef {{id: number|string, name: string}} Team */

/**
 * Opens the picker for conversation `c`. With an assignee the choice is a transfer (to an
 * agent or a team); without one it is an assignment (to an agent). `onDone` gets the
 * conversation as the server answered.
 * @param {Conversation} c
 * @param {Team[]} teams
 * @param {(c: Conversation) => void} onDone
 */
export function pickHandover(c, teams, onDone) {
  const transfer = c.assignee_id != null;
  const agents = [...store.get("agents").values()]
    .filter((a) => String(a.id) !== String(c.assignee_id))
    .sort((a, b) => String(a.name || a.email).localeCompare(String(b.name || b.email)));
  /** @type {[string, string][]} */
  const options = agents.map((a) => [`agent:${a.id}`, a.name || a.email]);
  if (transfer) for (const tm of teams) options.push([`team:${tm.id}`, t("handover.team", { name: tm.name })]);
  const target = select({ testid: "handover-target", name: "target" }, options, options.length ? options[0][0] : undefined);
  const go = h("button", { type: "submit", class: "btn primary", "data-testid": "handover-save", disabled: options.length ? null : true },
    transfer ? t("handover.transfer") : t("handover.assign"));
  const form = h("form", { class: "stack", novalidate: true },
    options.length ? field({ label: t("handover.to"), control: target }) : h("p", { class: "muted" }, t("handover.nobody")),
    h("div", { class: "form-actions" }, go));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const [kind, id] = target.value.split(":");
    if (!id) return;
    go.disabled = true;
    const path = `/conversations/${encodeURIComponent(String(c.id))}/${transfer ? "transfer" : "assign"}`;
    const body = kind === "team" ? { team_id: Number(id) } : { agent_id: Number(id) };
    try {
      onDone(await api.post(path, body));
      close();
    } catch (e) {
      toast(errorText(e));
      go.disabled = false;
    }
  });
  const close = openDialog({ title: transfer ? t("handover.transferTitle") : t("handover.assignTitle"), body: form, testid: "handover-dialog" });
}
