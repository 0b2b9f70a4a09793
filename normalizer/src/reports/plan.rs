//! Which rows a report reads, and what a group collects from them.
//!
//! A range is cut into whole UTC days (read from the daily rollups), whole UTC hours (the
//! hourly rollups) and what is left at its ends, shorter than an hour (the metric events
//! themselves). Per-day reports (`overview`) use a daily rollup only where the UTC day lies
//! within one day of the report's time zone, so in most zones they read hourly rollups; an
//! hour that the zone's midnight cuts (zones whose offset is not a whole number of hours) is
//! read from the metric events. Every duration, from a rollup or from an event, is counted
//! rounded to three significant digits ([`super::histogram`]), so the answer does not depend
//! on where it was read from.

use chrono::{DateTime, TimeDelta, Utc};
use roaring::RoaringTreemap;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, Select};

use super::histogram::{Histogram, buckets, decode_ids};
use super::query::{Clock, CsatFigures, Figures, ReportFilter, Spread};
use super::range::ReportRange;
use super::rollup::{DAY, HOUR, floor};
use super::stats;
use crate::StoreError;
use crate::entity::metric_event::{self, MetricKind};
use crate::entity::metric_rollup;

/// Time spans, `[from, to)`.
pub type Spans = Vec<(DateTime<Utc>, DateTime<Utc>)>;

/// What a report reads.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Read from `metric_events`.
    pub raw: Spans,
    /// Read from the hourly rollups (whole hours).
    pub hours: Spans,
    /// Read from the daily rollups (whole UTC days).
    pub days: Spans,
}

fn ceil(at: DateTime<Utc>, grain: i16) -> DateTime<Utc> {
    let f = floor(at, grain);
    if f == at {
        f
    } else {
        f + TimeDelta::hours(i64::from(grain))
    }
}

impl Plan {
    /// Everything from the metric events.
    pub fn raw(range: &ReportRange) -> Self {
        Self {
            raw: vec![(range.from, range.to)],
            ..Self::default()
        }
    }

    /// The cheapest rows that answer `range`; `per_day` when the items are the zone's days.
    pub fn new(range: &ReportRange, per_day: bool) -> Self {
        let (h0, h1) = (ceil(range.from, HOUR), floor(range.to, HOUR));
        if h0 >= h1 {
            return Self::raw(range);
        }
        let mut p = Self::default();
        if range.from < h0 {
            p.raw.push((range.from, h0));
        }
        if h1 < range.to {
            p.raw.push((h1, range.to));
        }
        let (d0, d1) = (ceil(h0, DAY), floor(h1, DAY));
        let one = TimeDelta::milliseconds(1);
        let mut days_fit = d0 < d1;
        if days_fit && per_day {
            let mut d = d0;
            while d < d1 {
                let next = d + TimeDelta::days(1);
                if range.day_of(d) != range.day_of(next - one) {
                    days_fit = false;
                    break;
                }
                d = next;
            }
        }
        if days_fit {
            p.hours_between(range, per_day, h0, d0);
            p.days.push((d0, d1));
            p.hours_between(range, per_day, d1, h1);
        } else {
            p.hours_between(range, per_day, h0, h1);
        }
        p
    }

    /// Whole hours `[a, b)`; per day, an hour cut by the zone's midnight goes to `raw`.
    fn hours_between(
        &mut self,
        range: &ReportRange,
        per_day: bool,
        a: DateTime<Utc>,
        b: DateTime<Utc>,
    ) {
        if a >= b {
            return;
        }
        if !per_day {
            self.hours.push((a, b));
            return;
        }
        let (hour, one) = (TimeDelta::hours(1), TimeDelta::milliseconds(1));
        let mut start = a;
        let mut h = a;
        while h < b {
            let next = h + hour;
            if range.day_of(h) != range.day_of(next - one) {
                if start < h {
                    self.hours.push((start, h));
                }
                self.raw.push((h, next));
                start = next;
            }
            h = next;
        }
        if start < b {
            self.hours.push((start, b));
        }
    }
}

/// `q` restricted to `filter`, on columns of either table.
pub fn filtered<E: EntityTrait>(
    mut q: Select<E>,
    filter: &ReportFilter,
    inbox: impl ColumnTrait,
    channel: impl ColumnTrait,
    team: impl ColumnTrait,
    agent: impl ColumnTrait,
) -> Select<E> {
    if let Some(id) = filter.inbox_id {
        q = q.filter(inbox.eq(id));
    }
    if let Some(ch) = &filter.channel {
        q = q.filter(channel.eq(ch.as_str()));
    }
    if let Some(id) = filter.team_id {
        q = q.filter(team.eq(id));
    }
    if let Some(id) = filter.agent_id {
        q = q.filter(agent.eq(id));
    }
    if let Some(ids) = &filter.inboxes {
        q = q.filter(inbox.is_in(ids.iter().copied()));
    }
    q
}

/// The metric events of `spans` that `filter` lets through.
pub async fn raw_rows<C: ConnectionTrait>(
    conn: &C,
    spans: &Spans,
    filter: &ReportFilter,
) -> Result<Vec<metric_event::Model>, StoreError> {
    use metric_event::Column as C;
    let mut out = Vec::new();
    for chunk in spans.chunks(100) {
        let mut any = Condition::any();
        for &(a, b) in chunk {
            any = any.add(Condition::all().add(C::At.gte(a)).add(C::At.lt(b)));
        }
        let q = metric_event::Entity::find()
            .filter(any)
            .filter(C::Kind.is_in([
                MetricKind::Opened,
                MetricKind::Reply,
                MetricKind::FirstResponse,
                MetricKind::Resolution,
                MetricKind::Csat,
            ]));
        let q = filtered(q, filter, C::InboxId, C::Channel, C::TeamId, C::AgentId);
        out.extend(q.all(conn).await?);
    }
    Ok(out)
}

/// The rollup rows of `scope` the plan reads, that `filter` lets through.
pub async fn rollup_rows<C: ConnectionTrait>(
    conn: &C,
    plan: &Plan,
    scope: i16,
    filter: &ReportFilter,
) -> Result<Vec<metric_rollup::Model>, StoreError> {
    use metric_rollup::Column as C;
    let mut any = Condition::any();
    for (grain, spans) in [(HOUR, &plan.hours), (DAY, &plan.days)] {
        for &(a, b) in spans {
            any = any.add(
                Condition::all()
                    .add(C::Grain.eq(grain))
                    .add(C::Period.gte(a))
                    .add(C::Period.lt(b)),
            );
        }
    }
    if plan.hours.is_empty() && plan.days.is_empty() {
        return Ok(Vec::new());
    }
    let q = metric_rollup::Entity::find()
        .filter(C::Scope.eq(scope))
        .filter(any);
    let q = filtered(q, filter, C::InboxId, C::Channel, C::TeamId, C::AgentId);
    Ok(q.all(conn).await?)
}

/// What one rollup row adds, decoded once for the total and its group.
pub struct Part {
    opened: u64,
    replied: RoaringTreemap,
    first: Vec<(usize, u64)>,
    resolution: Vec<(usize, u64)>,
    csat_responses: u64,
    csat_sum: i64,
}

impl Part {
    /// Decodes `row`'s figures on `clock`; the conversations replied in only `by_replies`.
    pub fn of(row: &metric_rollup::Model, clock: Clock, by_replies: bool) -> Self {
        let hist = |wall: &Option<String>, business: &Option<String>| {
            let t = match clock {
                Clock::Wall => wall,
                Clock::Business => business.as_ref().map_or(wall, |_| business),
            };
            t.as_deref().map(buckets).unwrap_or_default()
        };
        let mut replied = RoaringTreemap::new();
        if by_replies && let Some(t) = &row.replied {
            decode_ids(t, |id| {
                if let Ok(id) = u64::try_from(id) {
                    replied.insert(id);
                }
            });
        }
        Self {
            opened: u64::try_from(row.opened).unwrap_or(0),
            replied,
            first: hist(&row.first_wall, &row.first_business),
            resolution: hist(&row.resolution_wall, &row.resolution_business),
            csat_responses: u64::try_from(row.csat_responses).unwrap_or(0),
            csat_sum: row.csat_sum,
        }
    }
}

/// What a group has collected.
#[derive(Debug, Default)]
pub struct Acc {
    opened: u64,
    replied: RoaringTreemap,
    first: Histogram,
    resolution: Histogram,
    csat_responses: u64,
    csat_sum: i64,
}

impl Acc {
    /// Adds one metric event.
    pub fn add(&mut self, r: &metric_event::Model, clock: Clock) {
        let ms = match clock {
            Clock::Wall => r.wall_ms,
            Clock::Business => r.business_ms.or(r.wall_ms),
        };
        match r.kind {
            MetricKind::Opened => self.opened += 1,
            MetricKind::Reply => {
                if let Ok(id) = u64::try_from(r.conversation_id) {
                    self.replied.insert(id);
                }
            }
            MetricKind::FirstResponse => ms.into_iter().for_each(|v| self.first.add(v)),
            MetricKind::Resolution => ms.into_iter().for_each(|v| self.resolution.add(v)),
            MetricKind::Csat => {
                if let Some(rating) = r.rating {
                    self.csat_responses += 1;
                    self.csat_sum += i64::from(rating);
                }
            }
            MetricKind::Reopen | MetricKind::Transfer | MetricKind::QueueWait => {}
        }
    }

    /// Adds one rollup row.
    pub fn add_part(&mut self, p: &Part) {
        self.opened += p.opened;
        self.replied |= &p.replied;
        self.first.merge_buckets(&p.first);
        self.resolution.merge_buckets(&p.resolution);
        self.csat_responses += p.csat_responses;
        self.csat_sum += p.csat_sum;
    }

    /// The figures; `conversations` counts the conversations replied in when `by_replies`,
    /// those opened otherwise.
    pub fn figures(self, by_replies: bool) -> Figures {
        let spread = |h: &Histogram| Spread {
            median: h.median().map(stats::secs),
            p90: h.p90().map(stats::secs),
        };
        Figures {
            conversations: if by_replies {
                self.replied.len()
            } else {
                self.opened
            },
            first_response_secs: spread(&self.first),
            resolution_secs: spread(&self.resolution),
            csat: CsatFigures {
                responses: self.csat_responses,
                average: (self.csat_responses > 0).then(|| {
                    (self.csat_sum as f64 / self.csat_responses as f64 * 100.0).round() / 100.0
                }),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("a valid time")
            .with_timezone(&Utc)
    }

    fn range(from: &str, to: &str, tz: &str) -> ReportRange {
        ReportRange::parse(Some(from), Some(to), Some(tz), at("2026-12-31T00:00:00Z"))
            .expect("a valid range")
    }

    #[test]
    fn whole_days_hours_and_the_ends() {
        // Three UTC days and a bit, not per day: hours at the ends, days between, raw minutes.
        let r = range("2026-03-01T22:30:00Z", "2026-03-05T01:15:00Z", "UTC");
        let p = Plan::new(&r, false);
        assert_eq!(
            p.raw,
            vec![
                (at("2026-03-01T22:30:00Z"), at("2026-03-01T23:00:00Z")),
                (at("2026-03-05T01:00:00Z"), at("2026-03-05T01:15:00Z"))
            ]
        );
        assert_eq!(
            p.hours,
            vec![
                (at("2026-03-01T23:00:00Z"), at("2026-03-02T00:00:00Z")),
                (at("2026-03-05T00:00:00Z"), at("2026-03-05T01:00:00Z"))
            ]
        );
        assert_eq!(
            p.days,
            vec![(at("2026-03-02T00:00:00Z"), at("2026-03-05T00:00:00Z"))]
        );
        // Less than an hour: all raw.
        let r = range("2026-03-01T22:30:00Z", "2026-03-01T23:10:00Z", "UTC");
        assert_eq!(Plan::new(&r, true), Plan::raw(&r));
    }

    #[test]
    fn per_day_in_a_zone_reads_hours() {
        // Shanghai's days are not UTC days: whole hours, no day rows, nothing raw.
        let r = range("2026-03-01", "2026-03-03", "Asia/Shanghai");
        let p = Plan::new(&r, true);
        assert_eq!(p.hours, vec![(r.from, r.to)]);
        assert!(p.days.is_empty() && p.raw.is_empty(), "{p:?}");
        // Not per day, the same range uses UTC days.
        let p = Plan::new(&r, false);
        assert_eq!(
            p.days,
            vec![(at("2026-03-01T00:00:00Z"), at("2026-03-03T00:00:00Z"))]
        );
        // In UTC, per day reads days.
        let r = range("2026-03-01", "2026-03-03", "UTC");
        assert_eq!(Plan::new(&r, true).days, vec![(r.from, r.to)]);
        // India (+05:30): the hour its midnight cuts is read raw.
        let r = range("2026-03-01", "2026-03-02", "Asia/Kolkata");
        let p = Plan::new(&r, true);
        assert_eq!(
            p.raw,
            vec![
                (at("2026-02-28T18:30:00Z"), at("2026-02-28T19:00:00Z")),
                (at("2026-03-02T18:00:00Z"), at("2026-03-02T18:30:00Z")),
                (at("2026-03-01T18:00:00Z"), at("2026-03-01T19:00:00Z")),
            ]
        );
    }
}
