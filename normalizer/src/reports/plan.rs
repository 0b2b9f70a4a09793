//! Which rows a report reads, and what a group collects from them.
//!
//! A range is cut into the largest whole periods the rollups have ([`GRAINS`]: UTC months,
//! days, blocks of 8, 4 and 2 hours, hours) and what is left at its ends, shorter than an hour
//! (read from the metric events themselves). Per-day reports (`overview`) use a period only
//! where it lies within one day of the report's time zone, so a year in Shanghai is three
//! 8-hour blocks a day and a year in UTC is its days; an hour that the zone's midnight cuts
//! (zones whose offset is not a whole number of hours) is read from the metric events. Every
//! duration, from a rollup or from an event, is counted rounded to three significant digits
//! ([`super::histogram`]), so the answer does not depend on where it was read from.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, TimeDelta, Utc};
use roaring::RoaringTreemap;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, Select};

use super::histogram::{Histogram, buckets, decode_ids};
use super::query::{Clock, CsatFigures, Figures, ReportFilter, Spread};
use super::range::ReportRange;
use super::rollup::{GRAINS, HOUR, floor, next};
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
    /// The rollup periods read, by grain.
    pub periods: BTreeMap<i16, BTreeSet<DateTime<Utc>>>,
}

fn ceil(at: DateTime<Utc>, grain: i16) -> DateTime<Utc> {
    let f = floor(at, grain);
    if f == at { f } else { next(f, grain) }
}

impl Plan {
    /// Everything from the metric events.
    pub fn raw(range: &ReportRange) -> Self {
        Self {
            raw: vec![(range.from, range.to)],
            ..Self::default()
        }
    }

    /// The fewest rows that answer `range`; `per_day` when the items are the zone's days.
    pub fn new(range: &ReportRange, per_day: bool) -> Self {
        let (h0, h1) = (ceil(range.from, HOUR), floor(range.to, HOUR));
        if h0 >= h1 {
            return Self::raw(range);
        }
        let mut p = Self::default();
        if range.from < h0 {
            p.raw.push((range.from, h0));
        }
        let one = TimeDelta::milliseconds(1);
        let mut t = h0;
        while t < h1 {
            // The largest period that starts at `t`, ends by `h1` and (per day) lies within one
            // of the zone's days; an hour cut by the zone's midnight has none.
            let fits = GRAINS.iter().rev().find_map(|&g| {
                let end = next(t, g);
                (floor(t, g) == t
                    && end <= h1
                    && (!per_day || range.day_of(t) == range.day_of(end - one)))
                .then_some((g, end))
            });
            match fits {
                Some((g, end)) => {
                    p.periods.entry(g).or_default().insert(t);
                    t = end;
                }
                None => {
                    let end = next(t, HOUR);
                    match p.raw.last_mut() {
                        Some(last) if last.1 == t => last.1 = end,
                        _ => p.raw.push((t, end)),
                    }
                    t = end;
                }
            }
        }
        if h1 < range.to {
            p.raw.push((h1, range.to));
        }
        p
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

/// The rollup rows of `scope` the plan reads, that `filter` lets through: per grain, the
/// planned periods (a list of them, so that a grain the plan uses only here and there, as
/// hours in New York's days, is not read whole).
pub async fn rollup_rows<C: ConnectionTrait>(
    conn: &C,
    plan: &Plan,
    scope: i16,
    filter: &ReportFilter,
) -> Result<Vec<metric_rollup::Model>, StoreError> {
    use metric_rollup::Column as C;
    let mut out = Vec::new();
    for (&grain, periods) in &plan.periods {
        let periods: Vec<DateTime<Utc>> = periods.iter().copied().collect();
        for chunk in periods.chunks(500) {
            let q = metric_rollup::Entity::find()
                .filter(C::Scope.eq(scope))
                .filter(C::Grain.eq(grain))
                .filter(C::Period.is_in(chunk.iter().copied()));
            let q = filtered(q, filter, C::InboxId, C::Channel, C::TeamId, C::AgentId);
            out.extend(q.all(conn).await?);
        }
    }
    Ok(out)
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
        let replied = match &row.replied {
            Some(t) if by_replies => decode_ids(t),
            _ => RoaringTreemap::new(),
        };
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
    use super::super::rollup::{DAY, MONTH};
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

    fn periods(p: &Plan, grain: i16) -> Vec<DateTime<Utc>> {
        p.periods
            .get(&grain)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
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
            periods(&p, HOUR),
            vec![at("2026-03-01T23:00:00Z"), at("2026-03-05T00:00:00Z")]
        );
        assert_eq!(
            periods(&p, DAY),
            vec![
                at("2026-03-02T00:00:00Z"),
                at("2026-03-03T00:00:00Z"),
                at("2026-03-04T00:00:00Z")
            ]
        );
        assert_eq!(p.periods.len(), 2, "{p:?}");
        // Less than an hour: all raw.
        let r = range("2026-03-01T22:30:00Z", "2026-03-01T23:10:00Z", "UTC");
        assert_eq!(Plan::new(&r, true), Plan::raw(&r));
    }

    #[test]
    fn per_day_in_a_zone_reads_blocks_of_hours() {
        // Shanghai's days are not UTC days: three 8-hour blocks a day, nothing raw.
        let r = range("2026-03-01", "2026-03-03", "Asia/Shanghai");
        let p = Plan::new(&r, true);
        let blocks: Vec<_> = (0..9).map(|i| r.from + TimeDelta::hours(8 * i)).collect();
        assert_eq!(periods(&p, 8), blocks);
        assert!(p.periods.len() == 1 && p.raw.is_empty(), "{p:?}");
        // Not per day, the same range uses UTC days between 8-hour blocks.
        let p = Plan::new(&r, false);
        assert_eq!(
            periods(&p, DAY),
            vec![at("2026-03-01T00:00:00Z"), at("2026-03-02T00:00:00Z")]
        );
        assert_eq!(
            periods(&p, 8),
            vec![
                at("2026-02-28T16:00:00Z"),
                at("2026-03-03T00:00:00Z"),
                at("2026-03-03T08:00:00Z")
            ]
        );
        // In UTC, per day reads days.
        let r = range("2026-03-01", "2026-03-03", "UTC");
        assert_eq!(periods(&Plan::new(&r, true), DAY).len(), 3);
        // India (+05:30): the hour its midnight cuts is read raw.
        let r = range("2026-03-01", "2026-03-02", "Asia/Kolkata");
        let p = Plan::new(&r, true);
        assert_eq!(
            p.raw,
            vec![
                (at("2026-02-28T18:30:00Z"), at("2026-02-28T19:00:00Z")),
                (at("2026-03-01T18:00:00Z"), at("2026-03-01T19:00:00Z")),
                (at("2026-03-02T18:00:00Z"), at("2026-03-02T18:30:00Z")),
            ]
        );
    }

    #[test]
    fn a_year_not_split_by_day_reads_months() {
        let r = range("2025-01-01", "2025-12-31", "UTC");
        let p = Plan::new(&r, false);
        assert_eq!(periods(&p, MONTH).len(), 12);
        assert!(p.periods.len() == 1 && p.raw.is_empty(), "{p:?}");
        // Per day, the same year is its days.
        assert_eq!(periods(&Plan::new(&r, true), DAY).len(), 365);
    }

    /// Whatever the zone and the range, the periods and raw spans cover the range exactly
    /// once, and per day no period straddles the zone's midnight.
    #[test]
    fn plans_cover_the_range_exactly() {
        let ranges = [
            ("2025-01-01", "2025-12-31"),
            ("2025-03-01T10:17:23.456Z", "2025-04-08T03:45:30Z"),
            ("2025-10-20", "2025-11-10"),
            ("2025-06-30T23:59:00Z", "2025-07-01T01:00:00Z"),
        ];
        let zones = [
            "UTC",
            "Asia/Shanghai",
            "Asia/Tokyo",
            "America/New_York",
            "Asia/Kolkata",
            "Asia/Kathmandu",
            "Pacific/Chatham",
        ];
        for (from, to) in ranges {
            for tz in zones {
                let r = range(from, to, tz);
                for per_day in [false, true] {
                    let p = Plan::new(&r, per_day);
                    let mut parts: Vec<(DateTime<Utc>, DateTime<Utc>)> = p.raw.clone();
                    for (&g, set) in &p.periods {
                        for &t in set {
                            let end = next(t, g);
                            assert_eq!(floor(t, g), t, "{tz} {from} grain {g} at {t}");
                            if per_day {
                                let last = end - TimeDelta::milliseconds(1);
                                assert_eq!(r.day_of(t), r.day_of(last), "{tz} {from} {t}");
                            }
                            parts.push((t, end));
                        }
                    }
                    parts.sort();
                    let mut at_ = r.from;
                    for (a, b) in parts {
                        assert_eq!(
                            a, at_,
                            "{tz} {from}..{to} per_day={per_day}: gap or overlap"
                        );
                        assert!(a < b);
                        at_ = b;
                    }
                    assert_eq!(at_, r.to, "{tz} {from}..{to} per_day={per_day}");
                }
            }
        }
    }
}
