//! [`Activities`]: the thread's timeline — assigned, transferred, resolved, reopened, routed by
//! a rule, priority changed. Each line is a `conversation_activities` row written by
//! [`record`] inside the transaction that makes the change, so the timeline never shows a
//! change that was rolled back and never misses one that was committed. (The outbox cannot be
//! the store: it is pruned an hour after relay.)
//!
//! Rows keep ids; names are looked up when the timeline is read, so a line shows the agent's
//! or team's current name.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::{Value, json};

use crate::db::Db;
use crate::entity::conversation_activity::{self, ActivityKind};
use crate::entity::{agent, team};
use crate::error::StoreError;
use crate::summaries::SummaryView;
use crate::views::{ActivityView, AgentRef, TeamRef};

/// Most lines one conversation's timeline returns (the newest are kept).
pub const MAX_LINES: u64 = 500;

/// One line to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewActivity {
    /// The conversation.
    pub conversation_id: i64,
    /// What happened.
    pub kind: ActivityKind,
    /// The agent who did it; `None` for Kefu itself or the customer.
    pub actor_id: Option<i64>,
    /// The agent it went to.
    pub agent_id: Option<i64>,
    /// The team it went to.
    pub team_id: Option<i64>,
    /// The rest (a JSON object).
    pub details: Value,
}

impl NewActivity {
    /// A line of `kind` about `conversation_id` by `actor_id`, with nothing else yet.
    pub fn new(conversation_id: i64, kind: ActivityKind, actor_id: Option<i64>) -> Self {
        Self {
            conversation_id,
            kind,
            actor_id,
            agent_id: None,
            team_id: None,
            details: json!({}),
        }
    }

    /// The agent it went to.
    pub fn to_agent(mut self, agent_id: i64) -> Self {
        self.agent_id = Some(agent_id);
        self
    }

    /// The team it went to.
    pub fn to_team(mut self, team_id: i64) -> Self {
        self.team_id = Some(team_id);
        self
    }

    /// The details (a JSON object).
    pub fn details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }
}

/// The details of a resolved or transferred line that points at its summary.
pub fn with_summary(mut details: Value, summary: Option<&SummaryView>) -> Value {
    if let (Some(s), Value::Object(map)) = (summary, &mut details) {
        map.insert("summary_id".into(), json!(s.id));
    }
    details
}

/// Appends `lines`, all stamped `at`, inside the caller's transaction, and tells the agents
/// they hand conversations to ([`crate::notifications`]).
pub async fn record<C: ConnectionTrait>(
    tx: &C,
    lines: impl IntoIterator<Item = NewActivity>,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let lines: Vec<NewActivity> = lines.into_iter().collect();
    crate::notifications::assignments(tx, &lines, at).await?;
    let rows: Vec<_> = lines
        .into_iter()
        .map(|a| conversation_activity::ActiveModel {
            conversation_id: Set(a.conversation_id),
            kind: Set(a.kind),
            actor_id: Set(a.actor_id),
            agent_id: Set(a.agent_id),
            team_id: Set(a.team_id),
            details: Set(a.details),
            created_at: Set(at),
            ..Default::default()
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    conversation_activity::Entity::insert_many(rows)
        .exec(tx)
        .await?;
    Ok(())
}

/// Reads conversations' timelines.
#[derive(Clone)]
pub struct Activities {
    db: Db,
}

impl Activities {
    /// Reads from `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// The conversation's timeline, oldest first (at most [`MAX_LINES`], the newest).
    pub async fn list(&self, conversation_id: i64) -> Result<Vec<ActivityView>, StoreError> {
        let conn = self.db.conn();
        let mut rows = conversation_activity::Entity::find()
            .filter(conversation_activity::Column::ConversationId.eq(conversation_id))
            .order_by_desc(conversation_activity::Column::Id)
            .limit(MAX_LINES)
            .all(conn)
            .await?;
        rows.reverse();
        let agent_ids: BTreeSet<i64> = rows
            .iter()
            .flat_map(|r| [r.actor_id, r.agent_id])
            .flatten()
            .collect();
        let team_ids: BTreeSet<i64> = rows.iter().filter_map(|r| r.team_id).collect();
        let agents: HashMap<i64, String> = if agent_ids.is_empty() {
            HashMap::new()
        } else {
            agent::Entity::find()
                .filter(agent::Column::Id.is_in(agent_ids))
                .all(conn)
                .await?
                .into_iter()
                .map(|a| (a.id, a.name))
                .collect()
        };
        let teams: HashMap<i64, String> = if team_ids.is_empty() {
            HashMap::new()
        } else {
            team::Entity::find()
                .filter(team::Column::Id.is_in(team_ids))
                .all(conn)
                .await?
                .into_iter()
                .map(|t| (t.id, t.name))
                .collect()
        };
        let summary_ids: BTreeSet<i64> = rows
            .iter()
            .filter_map(|r| r.details.get("summary_id").and_then(Value::as_i64))
            .collect();
        let mut summaries = crate::summaries::by_id(conn, &summary_ids).await?;
        let agent_ref = |id: Option<i64>| {
            id.map(|id| AgentRef {
                id,
                name: agents.get(&id).cloned().unwrap_or_default(),
            })
        };
        Ok(rows
            .into_iter()
            .map(|r| ActivityView {
                id: r.id,
                conversation_id: r.conversation_id,
                kind: r.kind,
                actor: agent_ref(r.actor_id),
                agent: agent_ref(r.agent_id),
                team: r.team_id.map(|id| TeamRef {
                    id,
                    name: teams.get(&id).cloned().unwrap_or_default(),
                }),
                summary: r
                    .details
                    .get("summary_id")
                    .and_then(Value::as_i64)
                    .and_then(|id| summaries.remove(&id)),
                details: r.details,
                created_at: r.created_at,
            })
            .collect())
    }

    /// The summaries written when the conversation was resolved or transferred, oldest first
    /// (at most [`MAX_LINES`], the newest).
    pub async fn summaries(&self, conversation_id: i64) -> Result<Vec<SummaryView>, StoreError> {
        crate::summaries::of_conversation(self.db.conn(), conversation_id, MAX_LINES).await
    }
}
