//! A queued conversation's place in line, for the agent console and the web chat widget.
//!
//! Working a place out reads the whole queue of the conversation's inbox and the inbox's
//! recent assignments. Every web chat visitor's first message asks for its place, so under a
//! stream of new visitors that read ran once per arrival over a queue growing with them:
//! 20,000 arrivals read about 200 million rows. For the widget an inbox is read at most once
//! per [`SHARED_FOR`], and the visitors who arrive meanwhile are placed against that reading,
//! behind everything in it that would be served before them. A place is an estimate (the
//! assigner may serve anyone at any moment); this one is also up to [`SHARED_FOR`] old. The
//! API always reads afresh.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use kefu_normalizer::entity::conversation;
use kefu_normalizer::schedules::{Hours, ScheduleError, Schedules};
use kefu_normalizer::{Db, Status};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};
use serde::{Deserialize, Serialize};

use super::entity::assignment;
use super::error::DispatchError;
use crate::routing::queue::queue_key;
use crate::routing::{Aging, QueuedConversation};

/// How long one reading of an inbox's queue serves the widget's places.
pub const SHARED_FOR: Duration = Duration::from_secs(1);

/// The assignments of this much (open) time before now give an inbox's serving rate.
const RATE_WINDOW: chrono::Duration = chrono::Duration::minutes(15);

/// A queued conversation's place in line, for the agent console and the web chat widget.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueueStatus {
    /// 1 for the next conversation of its inbox to be served.
    pub position: usize,
    /// Conversations waiting in its inbox.
    pub queue_length: usize,
    /// How long it has waited so far.
    pub waited_secs: i64,
    /// A rough estimate from the inbox's assignment rate over the last 15 minutes; `null` when
    /// nothing was assigned then. When the inbox keeps business hours both count open time
    /// only: the rate is taken over its last 15 open minutes, and the estimate is when that much
    /// open time will have passed, so while it is closed it includes the wait until it opens.
    pub estimated_wait_secs: Option<u64>,
}

/// What the serving order needs of a queued conversation: id, priority, queued and created at.
type QueueRow = (i64, i32, Option<DateTime<Utc>>, DateTime<Utc>);

/// One reading of an inbox's queue and serving rate.
struct Reading {
    taken: Instant,
    queue: Vec<QueueRow>,
    /// Assignments of the inbox's conversations in the rate window.
    recent: u64,
    hours: Option<Hours>,
}

/// The latest reading of each inbox, shared by the places asked for within [`SHARED_FOR`].
#[derive(Default)]
pub(super) struct Places {
    readings: tokio::sync::Mutex<HashMap<i64, Arc<Reading>>>,
}

impl Places {
    /// The place of `id` from a reading of its inbox at most `max_age` old (`ZERO`: a fresh
    /// one); `None` when it is not queued.
    pub(super) async fn place(
        &self,
        db: &Db,
        id: i64,
        aging: Aging,
        max_age: Duration,
    ) -> Result<Option<QueueStatus>, DispatchError> {
        let c = conversation::Entity::find_by_id(id)
            .one(db.conn())
            .await?
            .ok_or(DispatchError::NotFound("conversation"))?;
        if c.status != Status::Queued {
            return Ok(None);
        }
        let reading = {
            // Held while reading, so visitors arriving together wait for one reading.
            let mut readings = self.readings.lock().await;
            match readings.get(&c.inbox_id) {
                Some(r) if r.taken.elapsed() < max_age => r.clone(),
                _ => {
                    let r = Arc::new(read(db, c.inbox_id).await?);
                    readings.insert(c.inbox_id, r.clone());
                    r
                }
            }
        };
        Ok(Some(reading.place_of(
            (c.id, c.priority, c.queued_at, c.created_at),
            c.inbox_id,
            aging,
            Utc::now(),
        )))
    }
}

impl Reading {
    /// The place of `me` (queued in `inbox_id`) at `now`. A conversation queued after the
    /// reading is not in it; it counts itself in the queue's length.
    fn place_of(
        &self,
        me: QueueRow,
        inbox_id: i64,
        aging: Aging,
        now: DateTime<Utc>,
    ) -> QueueStatus {
        let queued = |(id, priority, queued_at, created_at): QueueRow| QueuedConversation {
            id,
            inbox_id,
            priority,
            enqueued_at: queued_at.unwrap_or(created_at),
            required_skills: Default::default(),
            team_id: None,
            previous_agent: None,
            max_wait_notified: false,
            rule_hits: Vec::new(),
        };
        let key = queue_key(&queued(me), now, aging);
        let listed = self.queue.iter().any(|r| r.0 == me.0);
        let position = 1 + self
            .queue
            .iter()
            .filter(|r| r.0 != me.0 && queue_key(&queued(**r), now, aging) < key)
            .count();
        let estimated_wait_secs = (self.recent > 0)
            .then(|| {
                let per_sec = self.recent as f64 / RATE_WINDOW.num_seconds() as f64;
                let open_secs = (position as f64 / per_sec).round() as u64;
                match &self.hours {
                    None => Some(open_secs),
                    Some(h) => {
                        let until = h.open_after(now, Duration::from_secs(open_secs))?;
                        Some(u64::try_from((until - now).num_seconds()).unwrap_or(0))
                    }
                }
            })
            .flatten();
        let enqueued_at = me.2.unwrap_or(me.3);
        QueueStatus {
            position,
            queue_length: self.queue.len() + usize::from(!listed),
            waited_secs: (now - enqueued_at).num_seconds().max(0),
            estimated_wait_secs,
        }
    }
}

/// Reads the queue of `inbox_id`, its business hours and its assignments in the rate window.
async fn read(db: &Db, inbox_id: i64) -> Result<Reading, DispatchError> {
    // Only what the serving order needs: decoding whole rows of a long queue was the most
    // expensive step of a visitor's first message.
    let queue: Vec<QueueRow> = conversation::Entity::find()
        .select_only()
        .column(conversation::Column::Id)
        .column(conversation::Column::Priority)
        .column(conversation::Column::QueuedAt)
        .column(conversation::Column::CreatedAt)
        .filter(conversation::Column::Status.eq(Status::Queued))
        .filter(conversation::Column::InboxId.eq(inbox_id))
        .into_tuple()
        .all(db.conn())
        .await?;
    let hours = match Schedules::new(db.clone()).hours_for_inbox(inbox_id).await {
        Ok(h) => h,
        Err(ScheduleError::Store(e)) => return Err(e.into()),
        Err(e) => {
            tracing::warn!(inbox = inbox_id, error = %e, "Inbox schedule does not parse; estimating in wall-clock time.");
            None
        }
    };
    let now = Utc::now();
    let since = hours
        .as_ref()
        .and_then(|h| h.open_before(now, RATE_WINDOW.to_std().ok()?))
        .unwrap_or(now - RATE_WINDOW);
    let recent = assignment::Entity::find()
        .filter(assignment::Column::CreatedAt.gt(since))
        .filter(
            assignment::Column::ConversationId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(conversation::Column::Id)
                    .from(conversation::Entity)
                    .and_where(conversation::Column::InboxId.eq(inbox_id))
                    .to_owned(),
            ),
        )
        .count(db.conn())
        .await?;
    Ok(Reading {
        taken: Instant::now(),
        queue,
        recent,
        hours,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("an instant")
    }

    fn reading(queue: Vec<QueueRow>, recent: u64) -> Reading {
        Reading {
            taken: Instant::now(),
            queue,
            recent,
            hours: None,
        }
    }

    #[test]
    fn a_visitor_queued_after_the_reading_is_placed_behind_those_served_first() {
        let t = at("2026-12-07T10:00:00Z");
        let s = |n: i64| t + chrono::Duration::seconds(n);
        // Two waiting at priority 0, one urgent.
        let queue = vec![
            (1, 0, Some(s(0)), s(0)),
            (2, 5, Some(s(1)), s(1)),
            (3, 0, Some(s(2)), s(2)),
        ];
        let r = reading(queue, 15 * 60);
        let off = Aging { every: None };
        // Listed: its place among the others; the length is the reading's.
        let second = r.place_of((1, 0, Some(s(0)), s(0)), 1, off, s(10));
        assert_eq!((second.position, second.queue_length), (2, 3));
        assert_eq!(second.waited_secs, 10);
        // Queued since the reading at priority 0: behind all three, and counted in the length.
        let late = r.place_of((4, 0, Some(s(5)), s(5)), 1, off, s(5));
        assert_eq!((late.position, late.queue_length), (4, 4));
        // One a second is served: four places ahead is about four seconds.
        assert_eq!(late.estimated_wait_secs, Some(4));
        // Urgent and newer: behind the other urgent one only.
        let urgent = r.place_of((5, 5, Some(s(6)), s(6)), 1, off, s(6));
        assert_eq!((urgent.position, urgent.queue_length), (2, 4));
        // No assignment in the window: no estimate.
        let none = reading(Vec::new(), 0).place_of((6, 0, None, s(0)), 1, off, s(0));
        assert_eq!(
            (none.position, none.queue_length, none.estimated_wait_secs),
            (1, 1, None)
        );
    }
}
