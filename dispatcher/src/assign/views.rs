//! What the API shows about routing: the explanation of a conversation's assignments and its
//! place in the queue.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use kefu_normalizer::Db;
use kefu_normalizer::Status;
use kefu_normalizer::entity::conversation;
use kefu_normalizer::schedules::{ScheduleError, Schedules};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::entity::{assignment, routing_state};
use super::error::DispatchError;
use super::snapshot::skills_of;
use crate::routing::queue::queue_key;
use crate::routing::{Aging, QueuedConversation, RuleHit};

/// `GET /api/v1/conversations/{id}/routing`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RoutingView {
    /// The conversation.
    pub conversation_id: i64,
    /// Its status.
    pub status: Status,
    /// Its assignee.
    pub assignee_id: Option<i64>,
    /// Required skills as routed (or as set by a transfer).
    pub skills: BTreeMap<String, u8>,
    /// Queue priority.
    pub priority: i32,
    /// Required team.
    pub team_id: Option<i64>,
    /// When the rules last ran for it (its `queued_at` at the time); `null` before.
    pub routed_for: Option<DateTime<Utc>>,
    /// The routing rules that matched the first message and the contact.
    pub rule_hits: Vec<RuleHit>,
    /// The intent detected in the first message, with its score, margin and candidates
    /// (`null` before any intent was defined and the conversation routed).
    pub intent_match: Option<kefu_normalizer::intents::IntentMatch>,
    /// The latest assignment and why it was made.
    pub decision: Option<DecisionView>,
    /// Every assignment, newest first.
    pub history: Vec<DecisionView>,
}

/// One stored assignment.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DecisionView {
    /// The agent.
    pub agent_id: i64,
    /// `auto`, `sticky`, `manual`, `claim` or `transfer`.
    pub reason: String,
    /// For `auto` and `sticky`: overflow stage, requirements, candidates with their load,
    /// proficiency and idle time (or why they were not eligible), and the winning criterion.
    pub explanation: Value,
    /// When.
    pub decided_at: DateTime<Utc>,
}

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

/// The routing explanation of one conversation.
pub async fn explain(db: &Db, id: i64) -> Result<RoutingView, DispatchError> {
    // The routing state and the conversation's requirements change in one transaction; read
    // the state first so the conversation read after it is at least as new (no torn view).
    let state = routing_state::Entity::find_by_id(id).one(db.conn()).await?;
    let c = conversation::Entity::find_by_id(id)
        .one(db.conn())
        .await?
        .ok_or(DispatchError::NotFound("conversation"))?;
    let history: Vec<DecisionView> = assignment::Entity::find()
        .filter(assignment::Column::ConversationId.eq(id))
        .order_by_desc(assignment::Column::Id)
        .limit(50)
        .all(db.conn())
        .await?
        .into_iter()
        .map(|a| DecisionView {
            agent_id: a.agent_id,
            reason: a.reason,
            explanation: a.explanation,
            decided_at: a.created_at,
        })
        .collect();
    Ok(RoutingView {
        conversation_id: c.id,
        status: c.status,
        assignee_id: c.assignee_id,
        skills: skills_of(&c.skills),
        priority: c.priority,
        team_id: c.team_id,
        routed_for: state.as_ref().and_then(|s| s.routed_for),
        rule_hits: state
            .and_then(|s| serde_json::from_value(s.rule_hits).ok())
            .unwrap_or_default(),
        intent_match: c.intent_match.and_then(|m| serde_json::from_value(m).ok()),
        decision: history.first().cloned(),
        history,
    })
}

/// What the serving order needs of a queued conversation: id, priority, queued and created at.
type QueueRow = (i64, i32, Option<DateTime<Utc>>, DateTime<Utc>);

/// Where `id` stands in its inbox's queue; `None` when it is not queued.
pub async fn queue_status(
    db: &Db,
    id: i64,
    aging: Aging,
) -> Result<Option<QueueStatus>, DispatchError> {
    let c = conversation::Entity::find_by_id(id)
        .one(db.conn())
        .await?
        .ok_or(DispatchError::NotFound("conversation"))?;
    if c.status != Status::Queued {
        return Ok(None);
    }
    // Only what the serving order needs: this runs for every visitor's first message, and
    // decoding whole rows of a long queue made it the most expensive step of that message.
    let rows: Vec<QueueRow> = conversation::Entity::find()
        .select_only()
        .column(conversation::Column::Id)
        .column(conversation::Column::Priority)
        .column(conversation::Column::QueuedAt)
        .column(conversation::Column::CreatedAt)
        .filter(conversation::Column::Status.eq(Status::Queued))
        .filter(conversation::Column::InboxId.eq(c.inbox_id))
        .into_tuple()
        .all(db.conn())
        .await?;
    let now = Utc::now();
    let queued = |(id, priority, queued_at, created_at): QueueRow| QueuedConversation {
        id,
        inbox_id: c.inbox_id,
        priority,
        enqueued_at: queued_at.unwrap_or(created_at),
        required_skills: BTreeMap::new(),
        team_id: None,
        previous_agent: None,
        max_wait_notified: false,
        rule_hits: Vec::new(),
    };
    let me = queue_key(
        &queued((c.id, c.priority, c.queued_at, c.created_at)),
        now,
        aging,
    );
    let queue_length = rows.len().max(1);
    let position = 1 + rows
        .into_iter()
        .filter(|r| r.0 != c.id && queue_key(&queued(*r), now, aging) < me)
        .count();
    let window = chrono::Duration::minutes(15);
    let hours = match Schedules::new(db.clone()).hours_for_inbox(c.inbox_id).await {
        Ok(h) => h,
        Err(ScheduleError::Store(e)) => return Err(e.into()),
        Err(e) => {
            tracing::warn!(inbox = c.inbox_id, error = %e, "Inbox schedule does not parse; estimating in wall-clock time.");
            None
        }
    };
    let since = hours
        .as_ref()
        .and_then(|h| h.open_before(now, window.to_std().ok()?))
        .unwrap_or(now - window);
    let recent = assignment::Entity::find()
        .filter(assignment::Column::CreatedAt.gt(since))
        .filter(
            assignment::Column::ConversationId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(conversation::Column::Id)
                    .from(conversation::Entity)
                    .and_where(conversation::Column::InboxId.eq(c.inbox_id))
                    .to_owned(),
            ),
        )
        .count(db.conn())
        .await?;
    let estimated_wait_secs = (recent > 0)
        .then(|| {
            let per_sec = recent as f64 / window.num_seconds() as f64;
            let open_secs = (position as f64 / per_sec).round() as u64;
            match &hours {
                None => Some(open_secs),
                Some(h) => {
                    let until = h.open_after(now, std::time::Duration::from_secs(open_secs))?;
                    Some(u64::try_from((until - now).num_seconds()).unwrap_or(0))
                }
            }
        })
        .flatten();
    let enqueued_at = c.queued_at.unwrap_or(c.created_at);
    Ok(Some(QueueStatus {
        position,
        queue_length,
        waited_secs: (now - enqueued_at).num_seconds().max(0),
        estimated_wait_secs,
    }))
}

/// Queue length and the oldest wait, for the metrics gauges.
pub(crate) fn record_queue_metrics(queue: &[QueuedConversation], unrouted: usize) {
    let now = Utc::now();
    metrics::gauge!("kefu_routing_queue_length").set((queue.len() + unrouted) as f64);
    let oldest = queue
        .iter()
        .map(|q| q.waited(now).as_secs_f64())
        .fold(0.0, f64::max);
    metrics::gauge!("kefu_routing_oldest_wait_seconds").set(oldest);
}
