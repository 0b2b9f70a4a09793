//! What the API shows about routing: the explanation of a conversation's assignments (its
//! place in the queue is in [`super::places`]).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use kefu_normalizer::Db;
use kefu_normalizer::Status;
use kefu_normalizer::entity::conversation;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::entity::{assignment, routing_state};
use super::error::DispatchError;
use super::snapshot::skills_of;
use crate::routing::{QueuedConversation, RuleHit};

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
