// The reports page's live tab: each inbox's queue and oldest wait, agents by presence, and
// each agent's open conversations against their capacity, from `GET /reports/live`. It does
// not poll: the agent socket's events that change the floor (conversations created, queued,
// assigned, transferred, resolved, reopened, updated or closed; agents' status changes; a
// reconnect) make it ask again, at most once per burst. The waits' text ticks locally.

import { h, mount } from "../../dom.js";
import { http, translator } from "../../forms/index.js";
import { onAgentEvent } from "../../realtime.js";
import { store } from "../../store.js";
import { duration, cell } from "./format.js";
import strings from "./strings.js";

const t = translator(strings);

/** Events after which the snapshot is asked for again. */
const RELEVANT = new Set([
  "conversation.created", "conversation.queued", "conversation.assigned", "conversation.transferred",
  "conversation.resolved", "conversation.reopened", "conversation.updated", "conversation.closed", "agent.status_changed", "resync",
]);
/** How long a burst of events is gathered before the snapshot is asked for again. */
const DEBOUNCE_MS = 300;
/** How often the waits' text is brought up to date between snapshots. */
const TICK_MS = 5000;

/**
 * @typedef {{inbox_id: number, name: string, channel: string, queued: number,
 *   oldest_since: string|null, oldest_wait_secs: number|null}} InboxQueue
 * @typedef {"online"|"busy"|"away"|"offline"} Presence
 * @typedef {{agent_id: number, name: string, presence: Presence, open_conversations: number,
 *   capacity: number}} AgentLoad
 * @typedef {{at: string, queues: InboxQueue[], presence: Record<Presence, number>,
 *   agents: AgentLoad[]}} Snapshot
 */

/** @type {Presence[]} */
const PRESENCES = ["online", "busy", "away", "offline"];

/**
 * Fills `container` with the dashboard; returns the function that stops following events.
 * @param {HTMLElement} container
 * @returns {() => void}
 */
export function renderLive(container) {
  const out = h("div", { "data-testid": "live-result", "aria-live": "polite", "aria-busy": "true" });
  const status = h("p", { class: "muted small", "data-testid": "live-updated" });
  mount(container, h("div", { class: "live-head" }, h("p", { class: "muted" }, t("live.lead")), status), out);
  let timer = 0;
  let loads = 0;
  /** @type {Snapshot|null} */
  let last = null;
  const load = async () => {
    const n = ++loads;
    try {
      const snap = /** @type {Snapshot} */ (await http.get("/reports/live"));
      if (n !== loads) return; // a later answer is on its way
      last = snap;
      render(out, snap);
      out.setAttribute("aria-busy", "false");
      out.dataset.loads = String(n);
      status.textContent = t("live.updated", { time: new Date(snap.at).toLocaleTimeString() });
      status.classList.remove("error");
    } catch {
      status.textContent = t("live.failed");
      status.classList.add("error");
    }
  };
  const stopEvents = onAgentEvent((type) => {
    if (!RELEVANT.has(type)) return;
    clearTimeout(timer);
    timer = window.setTimeout(load, DEBOUNCE_MS);
  });
  const stopLive = store.subscribe("live", (s) => { if (s === "offline") status.textContent = t("live.disconnected"); });
  const ticker = window.setInterval(() => { if (last) tick(out, last); }, TICK_MS);
  load();
  return () => {
    stopEvents();
    stopLive();
    clearTimeout(timer);
    clearInterval(ticker);
  };
}

/** The wait of a queue now, from when its oldest conversation was queued. @param {InboxQueue} q */
const waitNow = (q) => q.oldest_since == null ? null : Math.max(0, (Date.now() - Date.parse(q.oldest_since)) / 1000);

/** Brings the waits' text up to date. @param {HTMLElement} out @param {Snapshot} snap */
function tick(out, snap) {
  for (const q of snap.queues) {
    const td = out.querySelector(`[data-testid="live-queue-row"][data-key="${q.inbox_id}"] [data-testid="oldest-wait"]`);
    if (td) td.textContent = duration(waitNow(q));
  }
}

/** @param {HTMLElement} out @param {Snapshot} snap */
function render(out, snap) {
  const queued = snap.queues.reduce((a, q) => a + q.queued, 0);
  const oldest = Math.max(0, ...snap.queues.map((q) => q.oldest_wait_secs || 0));
  const tile = (/** @type {string} */ testid, /** @type {string} */ label, /** @type {number} */ value, /** @type {string} */ text, /** @type {string} */ cls) =>
    h("div", { class: `card grow report-figure ${cls}`, "data-testid": testid, "data-value": String(value) },
      h("div", { class: "muted" }, label), h("div", { class: "figure" }, text));
  mount(out,
    h("div", { class: "row report-figures" },
      tile("live-queued", t("live.queued"), queued, String(queued), queued ? "warn" : ""),
      tile("live-oldest", t("live.oldest"), oldest, queued ? duration(oldest) : t("reports.noValue"), ""),
      ...PRESENCES.map((p) => tile(`live-presence-${p}`, t(`live.presence.${p}`), snap.presence[p], String(snap.presence[p]),
        snap.presence[p] ? `presence-${p}` : ""))),
    h("section", { class: "card", "data-testid": "live-queues" },
      h("h3", {}, t("live.queues")),
      snap.queues.length ? h("div", { class: "table-scroll" }, h("table", { class: "report-table" },
        h("thead", {}, h("tr", {}, [t("live.inbox"), t("reports.channel"), t("live.waiting"), t("live.oldestWait")].map((x) => h("th", { scope: "col" }, x)))),
        h("tbody", {}, snap.queues.map((q) => h("tr", { "data-testid": "live-queue-row", "data-key": String(q.inbox_id), class: q.queued ? "waiting" : "" },
          h("th", { scope: "row" }, q.name),
          h("td", {}, q.channel),
          cell("queued", q.queued, String(q.queued)),
          cell("oldest-wait", q.oldest_wait_secs, duration(q.oldest_wait_secs)))))))
        : h("p", { class: "muted" }, t("live.noInboxes"))),
    h("section", { class: "card", "data-testid": "live-agents" },
      h("h3", {}, t("live.load")),
      snap.agents.length ? h("div", { class: "table-scroll" }, h("table", { class: "report-table" },
        h("thead", {}, h("tr", {}, [t("reports.agent"), t("live.presence"), t("live.open"), t("live.capacity"), ""].map((x) => h("th", { scope: "col" }, x)))),
        h("tbody", {}, snap.agents.map((a) => h("tr", { "data-testid": "live-agent-row", "data-key": String(a.agent_id) },
          h("th", { scope: "row" }, a.name),
          h("td", { "data-testid": "presence", "data-value": a.presence }, h("span", { class: `presence-dot ${a.presence}`, "aria-hidden": "true" }), t(`live.presence.${a.presence}`)),
          cell("open", a.open_conversations, String(a.open_conversations)),
          cell("capacity", a.capacity, String(a.capacity)),
          h("td", { class: "meter-cell" }, meter(a)))))))
        : h("p", { class: "muted" }, t("live.noAgents"))));
}

/** An agent's load as a bar. @param {AgentLoad} a */
function meter(a) {
  const share = a.capacity > 0 ? Math.min(1, a.open_conversations / a.capacity) : 1;
  const label = t("live.loadOf", { open: a.open_conversations, capacity: a.capacity });
  return h("div", { class: `meter${share >= 1 ? " full" : ""}`, role: "meter", "aria-valuemin": "0",
    "aria-valuemax": String(a.capacity), "aria-valuenow": String(a.open_conversations), "aria-label": label, title: label },
  h("div", { class: "meter-fill", style: `width: ${Math.round(share * 100)}%` }));
}
