//! `metric_rollups`: the metric events summed by UTC hour and UTC day, per inbox (scope 0),
//! per inbox, team and agent (scope 1) and per inbox and label (scope 2), so a report over a year reads a few thousand
//! rows (see [`super::plan`] for how a report picks them).
//!
//! [`apply`] adds the rows the outbox consumer has just inserted, in its transaction: only
//! rows actually inserted count, so a batch consumed twice adds nothing. [`rebuild`] sums
//! them again from `metric_events`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
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
    replied: BTreeSet<i64>,
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
                self.replied.insert(r.conversation_id);
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

    /// The row this delta makes, added to `existing` when there is one.
    fn into_row(
        self,
        key: Key,
        existing: Option<&metric_rollup::Model>,
    ) -> metric_rollup::ActiveModel {
        let (scope, grain, period, inbox_id, team_id, agent_id, label_id) = key;
        let decode = |t: &Option<String>| t.as_deref().map(Histogram::decode);
        let (mut opened, mut csat_responses, mut csat_sum) =
            (self.opened, self.csat_responses, self.csat_sum);
        let mut replied = self.replied;
        let (mut first, mut resolution) = (
            (self.first_wall, self.first_business),
            (self.resolution_wall, self.resolution_business),
        );
        if let Some(e) = existing {
            opened += e.opened;
            csat_responses += e.csat_responses;
            csat_sum += e.csat_sum;
            if let Some(t) = &e.replied {
                decode_ids(t, |id| {
                    replied.insert(id);
                });
            }
            let wall = decode(&e.first_wall).unwrap_or_default();
            first = sum_pair(first, (&wall, &decode(&e.first_business)));
            let wall = decode(&e.resolution_wall).unwrap_or_default();
            resolution = sum_pair(resolution, (&wall, &decode(&e.resolution_business)));
        }
        let mut row = metric_rollup::ActiveModel {
            scope: Set(scope),
            grain: Set(grain),
            period: Set(period),
            inbox_id: Set(inbox_id),
            channel: Set(self.channel),
            team_id: Set(team_id),
            agent_id: Set(agent_id),
            label_id: Set(label_id),
            opened: Set(opened),
            replied: Set((!replied.is_empty()).then(|| encode_ids(&replied))),
            first_wall: Set(text(&first.0)),
            first_business: Set(first.1.as_ref().and_then(text)),
            resolution_wall: Set(text(&resolution.0)),
            resolution_business: Set(resolution.1.as_ref().and_then(text)),
            csat_responses: Set(csat_responses),
            csat_sum: Set(csat_sum),
            ..Default::default()
        };
        if let Some(e) = existing {
            row.id = Set(e.id);
        }
        row
    }
}

/// The start of the UTC hour or day `at` falls in.
pub fn floor(at: DateTime<Utc>, grain: i16) -> DateTime<Utc> {
    at.duration_trunc(TimeDelta::hours(i64::from(grain)))
        .unwrap_or(at)
}

/// Adds one metric event to the deltas of the rows it counts in.
fn add(deltas: &mut BTreeMap<Key, Delta>, r: &metric_event::Model) {
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
    for grain in [HOUR, DAY] {
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
/// inserted them). On PostgreSQL the rows it updates are locked, in id order, so concurrent
/// consumers add one after the other; two creating the same row at once make one fail and
/// its batch be retried.
pub async fn apply<C: ConnectionTrait>(
    conn: &C,
    rows: &[metric_event::Model],
    postgres: bool,
) -> Result<(), StoreError> {
    let mut deltas = BTreeMap::new();
    for r in rows {
        add(&mut deltas, r);
    }
    if deltas.is_empty() {
        return Ok(());
    }
    let periods: BTreeSet<(i16, i16, DateTime<Utc>)> =
        deltas.keys().map(|k| (k.0, k.1, k.2)).collect();
    let inboxes: BTreeSet<i64> = deltas.keys().map(|k| k.3).collect();
    let mut any = Condition::any();
    for (scope, grain, period) in periods {
        any = any.add(
            Condition::all()
                .add(metric_rollup::Column::Scope.eq(scope))
                .add(metric_rollup::Column::Grain.eq(grain))
                .add(metric_rollup::Column::Period.eq(period)),
        );
    }
    let mut q = metric_rollup::Entity::find()
        .filter(any)
        .filter(metric_rollup::Column::InboxId.is_in(inboxes))
        .order_by_asc(metric_rollup::Column::Id);
    if postgres {
        q = q.lock_exclusive();
    }
    let existing: HashMap<Key, metric_rollup::Model> = q
        .all(conn)
        .await?
        .into_iter()
        .map(|m| {
            let key = (
                m.scope, m.grain, m.period, m.inbox_id, m.team_id, m.agent_id, m.label_id,
            );
            (key, m)
        })
        .collect();
    let mut new_rows = Vec::new();
    for (key, delta) in deltas {
        match existing.get(&key) {
            Some(e) => {
                metric_rollup::Entity::update(delta.into_row(key, Some(e)))
                    .exec(conn)
                    .await?;
            }
            None => new_rows.push(delta.into_row(key, None)),
        }
    }
    insert(conn, new_rows).await
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
    let mut written = 0u64;
    let mut day = floor(first.at, DAY);
    while day <= last.at {
        let next = day + TimeDelta::days(1);
        let rows = metric_event::Entity::find()
            .filter(metric_event::Column::At.gte(day))
            .filter(metric_event::Column::At.lt(next))
            .all(&*tx)
            .await?;
        let mut deltas = BTreeMap::new();
        for r in &rows {
            add(&mut deltas, r);
        }
        written += deltas.len() as u64;
        let rows = deltas
            .into_iter()
            .map(|(key, d)| d.into_row(key, None))
            .collect();
        insert(&*tx, rows).await?;
        day = next;
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
