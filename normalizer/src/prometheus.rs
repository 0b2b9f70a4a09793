//! Prometheus histograms of the durations reports measure: first response and resolution
//! seconds (wall time), per channel type, observed as the outbox consumer writes the metric
//! events. The report API stays the reference for exact figures: a batch consumed a second
//! time (a node crashed before marking it) writes no new rows but is observed again.

use sea_orm::ActiveValue;

use crate::entity::metric_event::{self, MetricKind};

/// Observes the durations among `rows` (the metric events just written).
pub(crate) fn observe(rows: &[metric_event::ActiveModel]) {
    for r in rows {
        let (ActiveValue::Set(kind), ActiveValue::Set(channel), ActiveValue::Set(Some(ms))) =
            (&r.kind, &r.channel, &r.wall_ms)
        else {
            continue;
        };
        let name = match kind {
            MetricKind::FirstResponse => "kefu_report_first_response_seconds",
            MetricKind::Resolution => "kefu_report_resolution_seconds",
            _ => continue,
        };
        // Channel types are a short fixed list, so the label stays bounded.
        metrics::histogram!(name, "channel" => channel.clone()).record(*ms as f64 / 1000.0);
    }
}
