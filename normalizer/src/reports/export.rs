//! The metric events themselves as CSV: every fact the reports count, one line each, for a
//! spreadsheet or another tool. Read page by page in `(at, id)` order, so a year of events
//! is exported in bounded memory.

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::sea_query::ExprTrait;
use sea_orm::{ActiveEnum, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::plan::filtered;
use super::query::{ReportFilter, Reports, csv_field};
use super::range::ReportRange;
use crate::StoreError;
use crate::entity::metric_event::{self, Column as C, MetricKind};

/// The first line of [`events_csv`]'s export.
pub const EVENTS_CSV_HEADER: &str = "id,kind,at,conversation_id,inbox_id,channel,team_id,\
     agent_id,actor,wall_ms,business_ms,rating,labels\n";

/// Where the next page of an export starts: after this event.
pub type Cursor = (DateTime<Utc>, i64);

impl Reports {
    /// Up to `limit` metric events of `range` (of `kind`, when given) that `filter` lets
    /// through, in `(at, id)` order, after `after`.
    pub async fn events_page(
        &self,
        range: &ReportRange,
        filter: &ReportFilter,
        kind: Option<MetricKind>,
        after: Option<Cursor>,
        limit: u64,
    ) -> Result<Vec<metric_event::Model>, StoreError> {
        let mut q = metric_event::Entity::find().filter(C::At.lt(range.to));
        q = match after {
            // The index on `at` starts the scan at the cursor; ties are broken by id.
            Some((at, id)) => q
                .filter(C::At.gte(at))
                .filter(C::At.gt(at).or(C::Id.gt(id))),
            None => q.filter(C::At.gte(range.from)),
        };
        if let Some(kind) = kind {
            q = q.filter(C::Kind.eq(kind));
        }
        let q = filtered(q, filter, C::InboxId, C::Channel, C::TeamId, C::AgentId);
        Ok(q.order_by_asc(C::At)
            .order_by_asc(C::Id)
            .limit(limit)
            .all(self.db.conn())
            .await?)
    }
}

/// `rows` as CSV lines (no header: see [`EVENTS_CSV_HEADER`]). Times are RFC 3339 in UTC
/// with milliseconds; durations are milliseconds; `labels` are label ids separated by
/// spaces; an absent value is an empty field.
pub fn events_csv(rows: &[metric_event::Model]) -> String {
    use std::fmt::Write;
    let opt = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    let mut out = String::with_capacity(rows.len() * 96);
    for r in rows {
        // Every field but the channel type is a number, an enum name, a time or digits and
        // spaces: none needs quoting.
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{}",
            r.id,
            r.kind.to_value(),
            r.at.to_rfc3339_opts(SecondsFormat::Millis, true),
            r.conversation_id,
            r.inbox_id,
            csv_field(&r.channel),
            opt(r.team_id),
            opt(r.agent_id),
            r.actor.to_value(),
            opt(r.wall_ms),
            opt(r.business_ms),
            opt(r.rating.map(i64::from)),
            r.labels.as_deref().unwrap_or(""),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entity::metric_event::Actor;

    #[test]
    fn a_line_per_event_with_empty_fields_for_absent_values() {
        let at = DateTime::parse_from_rfc3339("2026-03-01T09:00:01.5+08:00")
            .expect("a valid time")
            .with_timezone(&Utc);
        let row = metric_event::Model {
            id: 7,
            kind: MetricKind::FirstResponse,
            source_event_id: 3,
            conversation_id: 11,
            inbox_id: 2,
            channel: "web_chat".into(),
            team_id: None,
            agent_id: Some(5),
            actor: Actor::Human,
            at,
            wall_ms: Some(90_000),
            business_ms: None,
            rating: None,
            labels: Some("1 4".into()),
        };
        assert_eq!(
            events_csv(&[row]),
            "7,first_response,2026-03-01T01:00:01.500Z,11,2,web_chat,,5,human,90000,,,1 4\n"
        );
        assert_eq!(EVENTS_CSV_HEADER.matches(',').count(), 12);
    }
}
