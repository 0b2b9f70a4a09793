//! Prometheus histograms of the durations reports measure: first response and resolution
//! seconds (wall time), per channel type, observed as the outbox consumer writes the metric
//! events. Only the rows a consumption actually wrote are observed, so a batch consumed a
//! second time (a node stopped before marking it) is not counted again.

use crate::entity::metric_event::{self, MetricKind};

/// Observes the durations among `rows` (the metric events just written).
pub(crate) fn observe(rows: &[metric_event::Model]) {
    for r in rows {
        let Some(ms) = r.wall_ms else {
            continue;
        };
        let name = match r.kind {
            MetricKind::FirstResponse => "kefu_report_first_response_seconds",
            MetricKind::Resolution => "kefu_report_resolution_seconds",
            _ => continue,
        };
        // Channel types are a short fixed list, so the label stays bounded.
        metrics::histogram!(name, "channel" => r.channel.clone()).record(ms as f64 / 1000.0);
    }
}
