//! Queued conversations and the order they are served in.

use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use kefu_normalizer::schedules::Hours;
use serde::{Deserialize, Serialize};

use super::config::{OverflowPolicy, RoutingConfig};
use super::rules::RuleHit;

/// A conversation waiting in `queued`, as the dispatcher loads it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedConversation {
    /// The conversation id.
    pub id: i64,
    /// Its inbox, which selects the [`QueuePolicy`].
    pub inbox_id: i64,
    /// Its priority (from the routing decision, or set by a transfer).
    pub priority: i32,
    /// When it entered the queue; waiting time, aging and overflow count from here.
    pub enqueued_at: DateTime<Utc>,
    /// Required skills and their minimum levels.
    pub required_skills: BTreeMap<String, u8>,
    /// The team that must handle it, if any.
    pub team_id: Option<i64>,
    /// The agent who last handled this contact, for stickiness.
    pub previous_agent: Option<PreviousAgent>,
    /// Whether the customer already got the `max_wait` message.
    pub max_wait_notified: bool,
    /// The rule hits stored when it was routed, repeated in the explanation.
    pub rule_hits: Vec<RuleHit>,
}

impl QueuedConversation {
    /// How long it has waited at `now` (zero if `now` is before `enqueued_at`, e.g. clock skew
    /// between nodes).
    pub fn waited(&self, now: DateTime<Utc>) -> Duration {
        (now - self.enqueued_at).to_std().unwrap_or(Duration::ZERO)
    }
}

/// The agent who last handled a returning contact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviousAgent {
    /// The agent's id.
    pub agent_id: i64,
    /// When that conversation last had activity (its resolution, or its last message).
    pub last_contact_at: DateTime<Utc>,
}

/// How waiting raises priority. One setting for the whole queue, because agents serve
/// several inboxes and effective priorities must compare across them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Aging {
    /// Effective priority grows by one for each full interval waited; `None` turns aging off.
    pub every: Option<Duration>,
}

impl Default for Aging {
    /// One point per minute: a conversation 10 points below another overtakes it after waiting
    /// 10 minutes longer.
    fn default() -> Self {
        Self {
            every: Some(Duration::from_secs(60)),
        }
    }
}

/// The per-inbox settings the queue needs at assignment time.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuePolicy {
    /// Overflow stages and the `max_wait` message.
    pub overflow: OverflowPolicy,
    /// Stickiness window for returning contacts; `None` turns it off.
    pub sticky_window: Option<Duration>,
    /// The business hours the inbox keeps; `None` (no schedule) is always open. Overflow and
    /// `max_wait` count only its open time (see [`QueuePolicy::waited`]).
    #[serde(skip)]
    pub hours: Option<Hours>,
}

impl QueuePolicy {
    /// How long `conv` has waited at `now` as overflow and `max_wait` count it: the open time
    /// of the inbox's hours since it queued, or the plain [`QueuedConversation::waited`] when
    /// the inbox keeps no schedule. A conversation queued on Friday evening has waited one
    /// second at 09:00:01 on Monday, not a weekend.
    pub fn waited(&self, conv: &QueuedConversation, now: DateTime<Utc>) -> Duration {
        match &self.hours {
            Some(h) => h.open_between(conv.enqueued_at, now),
            None => conv.waited(now),
        }
    }

    /// The instant at which `conv` will have waited `wait` by [`QueuePolicy::waited`]; `None`
    /// when that never comes (a schedule that no longer opens, or an instant out of range).
    pub fn waited_until(&self, conv: &QueuedConversation, wait: Duration) -> Option<DateTime<Utc>> {
        match &self.hours {
            Some(h) => h.open_after(conv.enqueued_at, wait),
            None => chrono::Duration::from_std(wait)
                .ok()
                .and_then(|d| conv.enqueued_at.checked_add_signed(d)),
        }
    }
}

impl RoutingConfig {
    /// The part of the configuration used after the conversation is queued.
    pub fn queue_policy(&self) -> QueuePolicy {
        QueuePolicy {
            overflow: self.overflow.clone(),
            sticky_window: self.sticky_window,
            hours: None,
        }
    }
}

/// `priority + floor(waited / aging.every)`.
///
/// Waiting is measured from `enqueued_at` in wall-clock time, also for inboxes that keep
/// business hours: aging compares conversations of every inbox, which a per-inbox clock would
/// skew. With aging off, or a zero interval, it is the plain
/// priority. Computed in `i64`, so it cannot overflow.
pub fn effective_priority(conv: &QueuedConversation, now: DateTime<Utc>, aging: Aging) -> i64 {
    let bonus = match aging.every {
        Some(every) if !every.is_zero() => conv.waited(now).as_millis() / every.as_millis().max(1),
        _ => 0,
    };
    i64::from(conv.priority).saturating_add(i64::try_from(bonus).unwrap_or(i64::MAX))
}

/// The sort key: higher effective priority, then earlier `enqueued_at`, then lower id.
pub(crate) fn queue_key(
    conv: &QueuedConversation,
    now: DateTime<Utc>,
    aging: Aging,
) -> (Reverse<i64>, DateTime<Utc>, i64) {
    (
        Reverse(effective_priority(conv, now, aging)),
        conv.enqueued_at,
        conv.id,
    )
}

/// Sorts the queue into serving order at `now` (see [`effective_priority`]).
///
/// Within one priority the order is FIFO, because equal priorities age at the same rate.
pub fn order_queue(queue: &mut [QueuedConversation], now: DateTime<Utc>, aging: Aging) {
    queue.sort_by_cached_key(|c| queue_key(c, now, aging));
}
