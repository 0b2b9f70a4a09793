//! `metric_rollups`: the metric events summed by UTC period ([`GRAINS`]: hours, blocks of 2,
//! 4 and 8 hours, days and months), per inbox (scope 0), per inbox, team and agent (scope 1)
//! and per inbox and label (scope 2), so a report over a year reads a few thousand rows (see
//! [`super::plan`] for how a report picks them).
//!
//! [`apply`] adds the rows the outbox consumer has just inserted, in its transaction: only
//! rows actually inserted count, so a batch consumed twice adds nothing. Counters are added
//! in SQL (an upsert); durations and replied conversations, stored as text, are merged in
//! Rust. [`rebuild`] sums them again from `metric_events`.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, DurationRound, Months, TimeDelta, Utc};
use roaring::RoaringTreemap;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, Statement,
};

use super::histogram::{Histogram, decode_ids, encode_ids};
use crate::entity::metric_event::{self, MetricKind};
use crate::entity::metric_rollup;
use crate::{Db, StoreError};

/// Scope 0: an inbox's facts whoever handled them.
pub const BY_INBOX: i16 = 0;
/// Scope 1: split by team and agent.
pub const BY_AGENT: i16 = 1;
/// Scope 2: split by the conversation's labels.
pub const BY_LABEL: i16 = 2;
/// A period of an hour.
pub const HOUR: i16 = 1;
/// A period of a (UTC) day.
pub const DAY: i16 = 24;
/// A UTC calendar month (the code, not its length in hours).
pub const MONTH: i16 = 720;
/// Every grain a fact is counted in: hours; blocks of 2, 4 and 8 hours aligned on UTC
/// midnight, so that any run of whole hours within a day is a few rows (a day in a zone east
/// or west of UTC is the end of one UTC day and the start of the next: in Shanghai, one block
/// of 8 hours and two); UTC days; UTC months, for ranges of many days not split by day.
pub const GRAINS: [i16; 6] = [HOUR, 2, 4, 8, DAY, MONTH];

/// A rollup row's key: scope, grain, period, inbox, team, agent, label.
type Key = (i16, i16, DateTime<Utc>, i64, i64, i64, i64);

/// The label ids of a metric event's `labels`.
pub fn labels_of(labels: &Option<String>) -> impl Iterator<Item = i64> + '_ {
    labels
        .iter()
        .flat_map(|t| t.split_ascii_whitespace())
        .filter_map(|l| l.parse().ok())
}

/// What a batch adds to one rollup row.
#[derive(Debug, Default)]
struct Delta {
    channel: String,
    opened: i64,
    replied: RoaringTreemap,
    first_wall: Histogram,
    first_business: Option<Histogram>,
    resolution_wall: Histogram,
    resolution_business: Option<Histogram>,
    csat_responses: i64,
    csat_sum: i64,
}

/// Counts a duration in wall and business time; the business histogram is kept apart only
/// once some duration differs.
fn add_duration(wall: &mut Histogram, business: &mut Option<Histogram>, w: i64, b: i64) {
    if business.is_none() && super::histogram::round3(w) != super::histogram::round3(b) {
        *business = Some(wall.clone());
    }
    wall.add(w);
    if let Some(h) = business {
        h.add(b);
    }
}

/// `a + b` of two (wall, business) pairs, business `None` meaning "as wall".
fn sum_pair(
    (wa, ba): (Histogram, Option<Histogram>),
    (wb, bb): (&Histogram, &Option<Histogram>),
) -> (Histogram, Option<Histogram>) {
    let business = match (ba, bb) {
        (None, None) => None,
        (ba, bb) => {
            let mut h = ba.unwrap_or_else(|| wa.clone());
            h.merge(bb.as_ref().unwrap_or(wb));
            Some(h)
        }
    };
    let mut wall = wa;
    wall.merge(wb);
    (wall, business)
}

fn text(h: &Histogram) -> Option<String> {
    (!h.is_empty()).then(|| h.encode())
}

impl Delta {
    fn add(&mut self, r: &metric_event::Model, scope: i16) {
        let wall = r.wall_ms.unwrap_or(0);
        let business = r.business_ms.unwrap_or(wall);
        match r.kind {
            MetricKind::Opened => self.opened += 1,
            MetricKind::Reply if scope == BY_AGENT => {
                if let Ok(id) = u64::try_from(r.conversation_id) {
                    self.replied.insert(id);
                }
            }
            MetricKind::FirstResponse if r.wall_ms.is_some() => add_duration(
                &mut self.first_wall,
                &mut self.first_business,
                wall,
                business,
            ),
            MetricKind::Resolution if r.wall_ms.is_some() => add_duration(
                &mut self.resolution_wall,
                &mut self.resolution_business,
                wall,
                business,
            ),
            MetricKind::Csat => {
                if let Some(rating) = r.rating {
                    self.csat_responses += 1;
                    self.csat_sum += i64::from(rating);
                }
            }
            _ => {}
        }
    }

    /// Whether the delta changes a row's durations or replied conversations, which are merged
    /// in Rust (the counters are added in SQL).
    fn has_sets(&self) -> bool {
        !(self.replied.is_empty() && self.first_wall.is_empty() && self.resolution_wall.is_empty())
    }

    /// The row of `key` with this delta's counters only, to add to the stored row.
    fn counters(&self, key: Key) -> metric_rollup::ActiveModel {
        let (scope, grain, period, inbox_id, team_id, agent_id, label_id) = key;
        metric_rollup::ActiveModel {
            scope: Set(scope),
            grain: Set(grain),
            period: Set(period),
            inbox_id: Set(inbox_id),
            channel: Set(self.channel.clone()),
            team_id: Set(team_id),
            agent_id: Set(agent_id),
            label_id: Set(label_id),
            opened: Set(self.opened),
            replied: Set(None),
            first_wall: Set(None),
            first_business: Set(None),
            resolution_wall: Set(None),
            resolution_business: Set(None),
            csat_responses: Set(self.csat_responses),
            csat_sum: Set(self.csat_sum),
            ..Default::default()
        }
    }

    /// The text columns of `row` with this delta's durations and replied conversations
    /// merged in: `[replied, first_wall, first_business, resolution_wall,
    /// resolution_business]`.
    fn merged_into(self, row: &metric_rollup::Model) -> [Option<String>; 5] {
        let decode = |t: &Option<String>| t.as_deref().map(Histogram::decode);
        let mut replied = self.replied;
        if let Some(t) = &row.replied {
            replied |= decode_ids(t);
        }
        let wall = decode(&row.first_wall).unwrap_or_default();
        let first = sum_pair(
            (self.first_wall, self.first_business),
            (&wall, &decode(&row.first_business)),
        );
        let wall = decode(&row.resolution_wall).unwrap_or_default();
        let resolution = sum_pair(
            (self.resolution_wall, self.resolution_business),
            (&wall, &decode(&row.resolution_business)),
        );
        [
            (!replied.is_empty()).then(|| encode_ids(&replied)),
            text(&first.0),
            first.1.as_ref().and_then(text),
            text(&resolution.0),
            resolution.1.as_ref().and_then(text),
        ]
    }

    /// The whole row of `key` (a rebuild's).
    fn into_row(self, key: Key) -> metric_rollup::ActiveModel {
        let mut row = self.counters(key);
        row.replied = Set((!self.replied.is_empty()).then(|| encode_ids(&self.replied)));
        row.first_wall = Set(text(&self.first_wall));
        row.first_business = Set(self.first_business.as_ref().and_then(text));
        row.resolution_wall = Set(text(&self.resolution_wall));
        row.resolution_business = Set(self.resolution_business.as_ref().and_then(text));
        row
    }
}

/// The start of the UTC period of `grain` (see [`GRAINS`]) that `at` falls in.
pub fn floor(at: DateTime<Utc>, grain: i16) -> DateTime<Utc> {
    if grain == MONTH {
        let d = at.date_naive();
        return d
            .with_day(1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map_or(at, |t| t.and_utc());
    }
    at.duration_trunc(TimeDelta::hours(i64::from(grain)))
        .unwrap_or(at)
}

/// The start of the period of `grain` after the one starting at `period`.
pub fn next(period: DateTime<Utc>, grain: i16) -> DateTime<Utc> {
    if grain == MONTH {
        return period.checked_add_months(Months::new(1)).unwrap_or(period);
    }
    period + TimeDelta::hours(i64::from(grain))
}

/// Adds one metric event to the deltas of the rows it counts in.
fn add(deltas: &mut BTreeMap<Key, Delta>, r: &metric_event::Model, grains: &[i16]) {
    if !matches!(
        r.kind,
        MetricKind::Opened
            | MetricKind::Reply
            | MetricKind::FirstResponse
            | MetricKind::Resolution
            | MetricKind::Csat
    ) {
        return;
    }
    let labels: Vec<i64> = labels_of(&r.labels).collect();
    for &grain in grains {
        let period = floor(r.at, grain);
        let mut keys = vec![
            (BY_INBOX, 0, 0, 0),
            (BY_AGENT, r.team_id.unwrap_or(0), r.agent_id.unwrap_or(0), 0),
        ];
        keys.extend(labels.iter().map(|&l| (BY_LABEL, 0, 0, l)));
        for (scope, team, agent, label) in keys {
            // Only agents' and teams' figures count conversations replied in.
            if scope != BY_AGENT && r.kind == MetricKind::Reply {
                continue;
            }
            let d = deltas
                .entry((scope, grain, period, r.inbox_id, team, agent, label))
                .or_default();
            if d.channel.is_empty() {
                d.channel.clone_from(&r.channel);
            }
            d.add(r, scope);
        }
    }
}

/// Adds `rows` (metric events just inserted) to the rollups, on `conn` (the transaction that
/// inserted them), in two steps:
///
/// 1. one upsert per 500 rows adds the counters (and creates the rows a batch is the first
///    to count in). It visits the rows in key order, so on PostgreSQL concurrent consumers
///    lock the rows they share in the same order and wait for each other, never deadlock;
/// 2. the rows whose durations or replied conversations change (the upsert has locked
///    them) are read, merged and written back, one update each.
///
/// A batch that opens conversations, the common case, is one statement.
pub async fn apply<C: ConnectionTrait>(
    conn: &C,
    rows: &[metric_event::Model],
) -> Result<(), StoreError> {
    let mut deltas = BTreeMap::new();
    for r in rows {
        add(&mut deltas, r, &GRAINS);
    }
    if deltas.is_empty() {
        return Ok(());
    }
    let keys: Vec<&Key> = deltas.keys().collect();
    for chunk in keys.chunks(500) {
        let rows = chunk.iter().map(|&&key| deltas[&key].counters(key));
        let mut upsert = OnConflict::columns([
            metric_rollup::Column::Scope,
            metric_rollup::Column::Grain,
            metric_rollup::Column::Period,
            metric_rollup::Column::InboxId,
            metric_rollup::Column::TeamId,
            metric_rollup::Column::AgentId,
            metric_rollup::Column::LabelId,
        ]);
        for (col, name) in [
            (metric_rollup::Column::Opened, "opened"),
            (metric_rollup::Column::CsatResponses, "csat_responses"),
            (metric_rollup::Column::CsatSum, "csat_sum"),
        ] {
            upsert.value(
                col,
                Expr::cust(format!("metric_rollups.{name} + excluded.{name}")),
            );
        }
        metric_rollup::Entity::insert_many(rows)
            .on_conflict(upsert)
            .exec_without_returning(conn)
            .await?;
    }
    let merged: BTreeMap<Key, Delta> = deltas.into_iter().filter(|(_, d)| d.has_sets()).collect();
    if merged.is_empty() {
        return Ok(());
    }
    let periods: BTreeSet<(i16, i16, DateTime<Utc>)> =
        merged.keys().map(|k| (k.0, k.1, k.2)).collect();
    let inboxes: BTreeSet<i64> = merged.keys().map(|k| k.3).collect();
    let mut any = Condition::any();
    for (scope, grain, period) in periods {
        any = any.add(
            Condition::all()
                .add(metric_rollup::Column::Scope.eq(scope))
                .add(metric_rollup::Column::Grain.eq(grain))
                .add(metric_rollup::Column::Period.eq(period)),
        );
    }
    let existing = metric_rollup::Entity::find()
        .filter(any)
        .filter(metric_rollup::Column::InboxId.is_in(inboxes))
        .all(conn)
        .await?;
    let mut merged = merged;
    let updates: Vec<(i64, [Option<String>; 5])> = existing
        .iter()
        .filter_map(|row| {
            let key = (
                row.scope,
                row.grain,
                row.period,
                row.inbox_id,
                row.team_id,
                row.agent_id,
                row.label_id,
            );
            Some((row.id, merged.remove(&key)?.merged_into(row)))
        })
        .collect();
    for chunk in updates.chunks(500) {
        update_texts(conn, chunk).await?;
    }
    Ok(())
}

/// Writes the text columns of several rollup rows in one statement (`WITH v AS (VALUES …)
/// UPDATE … FROM v`, which both databases run).
async fn update_texts<C: ConnectionTrait>(
    conn: &C,
    rows: &[(i64, [Option<String>; 5])],
) -> Result<(), StoreError> {
    let backend = conn.get_database_backend();
    let postgres = backend == DbBackend::Postgres;
    let mut sql = String::from(
        "WITH v(id, replied, first_wall, first_business, resolution_wall, resolution_business) \
         AS (VALUES ",
    );
    let mut values: Vec<sea_orm::Value> = Vec::with_capacity(rows.len() * 6);
    for (i, (id, texts)) in rows.iter().enumerate() {
        sql.push_str(if i == 0 { "(" } else { ", (" });
        for j in 0..6 {
            let n = values.len() + 1;
            let param = if postgres {
                format!("${n}")
            } else {
                "?".to_owned()
            };
            let ty = if j == 0 { "BIGINT" } else { "TEXT" };
            if j > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("CAST({param} AS {ty})"));
            values.push(if j == 0 {
                (*id).into()
            } else {
                texts[j - 1].clone().into()
            });
        }
        sql.push(')');
    }
    sql.push_str(
        ") UPDATE metric_rollups SET replied = v.replied, first_wall = v.first_wall, \
         first_business = v.first_business, resolution_wall = v.resolution_wall, \
         resolution_business = v.resolution_business FROM v WHERE metric_rollups.id = v.id",
    );
    conn.execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    Ok(())
}

async fn insert<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<metric_rollup::ActiveModel>,
) -> Result<(), StoreError> {
    for chunk in rows.chunks(500) {
        metric_rollup::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// Sums the rollups again from every metric event, in one transaction, a UTC day at a time.
/// Returns the rows written. Meant for a gateway that is starting (see
/// [`rebuild_if_missing`]) or stopped: a batch recorded while it runs could count twice.
pub async fn rebuild(db: &Db) -> Result<u64, StoreError> {
    let tx = db.begin_write().await?;
    metric_rollup::Entity::delete_many().exec(&*tx).await?;
    let bound = |asc: bool| {
        let q = metric_event::Entity::find();
        let q = if asc {
            q.order_by_asc(metric_event::Column::At)
        } else {
            q.order_by_desc(metric_event::Column::At)
        };
        q.limit(1).one(&*tx)
    };
    let (Some(first), Some(last)) = (bound(true).await?, bound(false).await?) else {
        tx.commit().await?;
        return Ok(0);
    };
    // A day's events at a time; a month's rows are written once its last day is read.
    let within_day = &GRAINS[..GRAINS.len() - 1];
    let (mut written, mut months) = (0u64, BTreeMap::new());
    let mut day = floor(first.at, DAY);
    while day <= last.at {
        let next_day = next(day, DAY);
        let rows = metric_event::Entity::find()
            .filter(metric_event::Column::At.gte(day))
            .filter(metric_event::Column::At.lt(next_day))
            .all(&*tx)
            .await?;
        let mut deltas = BTreeMap::new();
        for r in &rows {
            add(&mut deltas, r, within_day);
            add(&mut months, r, &[MONTH]);
        }
        if next_day > last.at || floor(next_day, MONTH) == next_day {
            deltas.append(&mut months);
        }
        written += deltas.len() as u64;
        let rows = deltas.into_iter().map(|(key, d)| d.into_row(key)).collect();
        insert(&*tx, rows).await?;
        day = next_day;
    }
    tx.commit().await?;
    Ok(written)
}

/// Rebuilds the rollups when there are none but there are metric events: the first start
/// after the migration that added them.
pub async fn rebuild_if_missing(db: &Db) -> Result<Option<u64>, StoreError> {
    let rollups = metric_rollup::Entity::find()
        .limit(1)
        .count(db.conn())
        .await?;
    let events = metric_event::Entity::find()
        .limit(1)
        .count(db.conn())
        .await?;
    if rollups == 0 && events > 0 {
        return Ok(Some(rebuild(db).await?));
    }
    Ok(None)
}
