// One webhook endpoint's delivery log: every delivery with its status, HTTP code, latency and
// response excerpt (from the last attempt), and "redeliver".

import { h, mount, toast, fmtFull } from "../../dom.js";
import { http, itemsOf, translator, ErrorView } from "../../forms/index.js";
import strings from "./strings.js";

const t = translator(strings);

/**
 * @typedef {{attempt: number, status_code?: number | null, latency_ms: number, response_excerpt?: string | null,
 *   error?: string | null, created_at: string}} Attempt
 * @typedef {{id: number, endpoint_id: number, event_type: string, status: string, attempts: number,
 *   last_status_code?: number | null, last_error?: string | null, created_at: string, attempt_log?: Attempt[] | null}} Delivery
 */

/**
 * @param {number} endpointId
 * @returns {HTMLElement}
 */
export function deliveryLog(endpointId) {
  const box = h("div", { class: "card", "data-testid": "webhook-log", "data-endpoint": endpointId });
  const errors = new ErrorView(box);
  const load = async () => {
    mount(box, h("p", { class: "muted" }, t("forms.loading")));
    let items;
    try {
      items = /** @type {Delivery[]} */ (itemsOf(await http.get(`/webhooks/${endpointId}/deliveries?limit=50`)));
    } catch (e) {
      mount(box, errors.summary);
      errors.show(e);
      return;
    }
    const refresh = h("button", { type: "button", class: "btn small", "data-testid": "webhook-log-refresh", onclick: load }, t("webhooks.refresh"));
    mount(box,
      h("div", { class: "row" }, h("h3", { class: "grow" }, t("webhooks.log")), refresh),
      errors.summary,
      items.length
        ? h("div", { class: "table-wrap" }, h("table", { class: "grid" },
          h("thead", {}, h("tr", {}, ["time", "event", "status", "code", "latency", "attempts", "response"].map((c) => h("th", { scope: "col" }, t(`webhooks.col.${c}`))), h("th", {}, ""))),
          h("tbody", {}, items.map((d) => deliveryRow(endpointId, d, load, errors)))))
        : h("p", { class: "muted", "data-testid": "webhook-log-empty" }, t("webhooks.noDeliveries")));
  };
  load();
  return box;
}

/**
 * @param {number} endpointId @param {Delivery} d @param {() => void} reload @param {ErrorView} errors
 */
function deliveryRow(endpointId, d, reload, errors) {
  const log = Array.isArray(d.attempt_log) ? d.attempt_log : [];
  const last = log.length ? log[log.length - 1] : null;
  const code = last?.status_code ?? d.last_status_code;
  const excerpt = last?.response_excerpt || last?.error || d.last_error || "";
  const statusKey = `webhooks.status.${d.status}`;
  const cls = d.status === "succeeded" ? "ok" : d.status === "failed" ? "bad" : "warn";
  const redeliver = h("button", { type: "button", class: "btn small", "data-testid": "webhook-redeliver" }, t("webhooks.redeliver"));
  redeliver.addEventListener("click", async () => {
    redeliver.disabled = true;
    try {
      await http.post(`/webhooks/${endpointId}/deliveries/${d.id}/retry`, {});
      toast(t("webhooks.redelivered"), "info");
      reload();
    } catch (e) {
      errors.show(e);
      redeliver.disabled = false;
    }
  });
  return h("tr", { "data-testid": "webhook-delivery", "data-id": d.id, "data-status": d.status, "data-event": d.event_type },
    h("td", {}, fmtFull(d.created_at)),
    h("td", { class: "mono" }, d.event_type),
    h("td", {}, h("span", { class: `badge ${cls}` }, t(statusKey) !== statusKey ? t(statusKey) : d.status)),
    h("td", { "data-testid": "webhook-delivery-code" }, code != null ? String(code) : "—"),
    h("td", { "data-testid": "webhook-delivery-latency" }, last ? `${last.latency_ms} ms` : "—"),
    h("td", {}, String(d.attempts)),
    h("td", { class: "excerpt mono", "data-testid": "webhook-delivery-response" }, excerpt),
    h("td", {}, d.status === "pending" || d.status === "sending" ? null : redeliver));
}
