//! Loading what a round decides on: the routed queue, the online agents and the inbox policies.
//!
//! Reads only, outside any transaction: a plan made from a stale snapshot can lose a race in
//! [`commit`](super::commit) but never break an invariant there.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use kefu_normalizer::Status;
use kefu_normalizer::entity::{agent, agent_skill, conversation, inbox, team_member};
use kefu_normalizer::knowledge::BotStore;
use kefu_normalizer::schedules::{Hours, Schedules};
use kefu_normalizer::{AgentStatus, Db};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Statement};

use super::entity::routing_state;
use super::error::DispatchError;
use crate::routing::{
    AgentSnapshot, PreviousAgent, QueuePolicy, QueuedConversation, RoutingConfig, RuleHit,
};

/// Statuses in which a conversation counts against its assignee's capacity.
pub const ACTIVE_STATUSES: [Status; 3] = Status::HELD;

/// An inbox as routing needs it.
#[derive(Clone, Debug)]
pub struct InboxRouting {
    /// The channel type, for `channel` conditions.
    pub channel_type: String,
    /// The parsed routing configuration (the default one if the stored JSON does not parse).
    pub config: RoutingConfig,
    /// The business hours the inbox keeps; `None` without a schedule (always open).
    pub hours: Option<Hours>,
}

/// Every inbox's routing configuration and business hours: two queries however many inboxes
/// and schedules there are, once per round.
pub async fn inboxes(db: &Db) -> Result<BTreeMap<i64, InboxRouting>, DispatchError> {
    let rows = inbox::Entity::find().all(db.conn()).await?;
    let hours = if rows.iter().any(|r| r.schedule_id.is_some()) {
        Schedules::new(db.clone()).all_hours().await?
    } else {
        HashMap::new()
    };
    Ok(rows
        .into_iter()
        .map(|r| {
            let config = serde_json::from_value(r.routing.clone()).unwrap_or_else(|e| {
                tracing::warn!(inbox = r.id, error = %e, "Stored routing configuration does not parse; using defaults.");
                RoutingConfig::default()
            });
            (
                r.id,
                InboxRouting {
                    channel_type: r.channel_type,
                    config,
                    hours: r.schedule_id.and_then(|s| hours.get(&s).cloned()),
                },
            )
        })
        .collect())
}

/// The queue split in two: conversations routed for their current wait, and those the rules
/// have not seen yet (new, reopened).
#[derive(Default)]
pub struct Queue {
    /// Ready for assignment.
    pub routed: Vec<QueuedConversation>,
    /// To route first.
    pub unrouted: Vec<conversation::Model>,
}

/// Loads every `queued` conversation with its routing state; stickiness is filled in when any
/// inbox has a sticky window.
pub async fn queue(db: &Db, inboxes: &BTreeMap<i64, InboxRouting>) -> Result<Queue, DispatchError> {
    let mut rows = conversation::Entity::find()
        .filter(conversation::Column::Status.eq(Status::Queued))
        .all(db.conn())
        .await?;
    // The FAQ bot answers these first; they join the queue when it hands them off.
    let held = BotStore::new(db.clone()).held(&rows).await?;
    rows.retain(|c| !held.contains(&c.id));
    let states: HashMap<i64, routing_state::Model> = routing_state::Entity::find()
        .filter(Expr::cust(
            "conversation_id IN (SELECT id FROM conversations WHERE status = 'queued')",
        ))
        .all(db.conn())
        .await?
        .into_iter()
        .map(|s| (s.conversation_id, s))
        .collect();
    let sticky = inboxes.values().any(|i| i.config.sticky_window.is_some());
    let previous = if sticky {
        previous_agents(db).await?
    } else {
        HashMap::new()
    };
    let mut q = Queue::default();
    for c in rows {
        let enqueued_at = c.queued_at.unwrap_or(c.created_at);
        let state = states.get(&c.id);
        let routed = state.is_some_and(|s| s.routed_for == Some(enqueued_at));
        if !routed {
            q.unrouted.push(c);
            continue;
        }
        let rule_hits: Vec<RuleHit> = state
            .and_then(|s| serde_json::from_value(s.rule_hits.clone()).ok())
            .unwrap_or_default();
        let previous_agent = previous
            .get(&c.contact_id)
            .and_then(|rows| rows.iter().find(|p| p.applies_to(&c)))
            .map(|p| PreviousAgent {
                agent_id: p.agent_id,
                last_contact_at: p.last_contact_at,
            });
        q.routed.push(QueuedConversation {
            id: c.id,
            inbox_id: c.inbox_id,
            priority: c.priority,
            enqueued_at,
            required_skills: skills_of(&c.skills),
            team_id: c.team_id,
            previous_agent,
            max_wait_notified: state.is_some_and(|s| s.notified_for == Some(enqueued_at)),
            rule_hits,
        });
    }
    Ok(q)
}

/// `{skill: level}` from a conversation's JSON column; malformed entries are skipped.
pub fn skills_of(v: &serde_json::Value) -> BTreeMap<String, u8> {
    v.as_object()
        .map(|o| {
            o.iter()
                .filter_map(|(k, l)| Some((k.clone(), u8::try_from(l.as_u64()?).ok()?)))
                .collect()
        })
        .unwrap_or_default()
}

/// A past assignment of one of a queued contact's conversations.
struct PastAssignment {
    conversation_id: i64,
    agent_id: i64,
    assigned_at: DateTime<Utc>,
    resolved_at: Option<DateTime<Utc>>,
    last_contact_at: DateTime<Utc>,
}

impl PastAssignment {
    /// An assignment counts for stickiness when it belongs to another conversation of the
    /// contact, or to this one before it was resolved (a reopened conversation). An assignment
    /// of the same, still open conversation does not: it was transferred or re-queued away.
    fn applies_to(&self, c: &conversation::Model) -> bool {
        self.conversation_id != c.id || self.resolved_at.is_some_and(|r| self.assigned_at < r)
    }
}

/// The latest assignments of every queued contact's conversations, newest first per contact.
async fn previous_agents(db: &Db) -> Result<HashMap<i64, Vec<PastAssignment>>, DispatchError> {
    let backend = db.conn().get_database_backend();
    let sql = "SELECT c.contact_id, a.conversation_id, a.agent_id, a.created_at, c.resolved_at, \
               c.last_message_at FROM assignments a JOIN conversations c ON c.id = a.conversation_id \
               WHERE c.contact_id IN (SELECT contact_id FROM conversations WHERE status = 'queued') \
               ORDER BY a.id DESC";
    let rows = db
        .conn()
        .query_all_raw(Statement::from_string(backend, sql))
        .await?;
    let mut out: HashMap<i64, Vec<PastAssignment>> = HashMap::new();
    for r in rows {
        let contact: i64 = r.try_get("", "contact_id")?;
        let list = out.entry(contact).or_default();
        // A few per contact are enough to find the latest one that applies.
        if list.len() >= 4 {
            continue;
        }
        let resolved_at: Option<DateTime<Utc>> = r.try_get("", "resolved_at")?;
        let last_message_at: DateTime<Utc> = r.try_get("", "last_message_at")?;
        list.push(PastAssignment {
            conversation_id: r.try_get("", "conversation_id")?,
            agent_id: r.try_get("", "agent_id")?,
            assigned_at: r.try_get("", "created_at")?,
            resolved_at,
            last_contact_at: resolved_at.unwrap_or(last_message_at),
        });
    }
    Ok(out)
}

/// Every online agent with skills, teams and current load.
pub async fn agents(db: &Db) -> Result<Vec<AgentSnapshot>, DispatchError> {
    let online = format!(
        "agent_id IN (SELECT id FROM agents WHERE status = '{}' AND deleted_at IS NULL)",
        AgentStatus::Online.as_str()
    );
    let rows = agent::Entity::find()
        .filter(agent::Column::Status.eq(AgentStatus::Online))
        .filter(agent::Column::DeletedAt.is_null())
        .all(db.conn())
        .await?;
    let mut skills: HashMap<i64, BTreeMap<String, u8>> = HashMap::new();
    for s in agent_skill::Entity::find()
        .filter(Expr::cust(online.clone()))
        .all(db.conn())
        .await?
    {
        let level = u8::try_from(s.level).unwrap_or(0);
        skills.entry(s.agent_id).or_default().insert(s.skill, level);
    }
    let mut teams: HashMap<i64, BTreeSet<i64>> = HashMap::new();
    for t in team_member::Entity::find()
        .filter(Expr::cust(online.clone()))
        .all(db.conn())
        .await?
    {
        teams.entry(t.agent_id).or_default().insert(t.team_id);
    }
    let active = active_counts(db.conn(), None).await?;
    Ok(rows
        .into_iter()
        .map(|a| AgentSnapshot {
            id: a.id,
            online: true,
            skills: skills.remove(&a.id).unwrap_or_default(),
            active: active.get(&a.id).copied().unwrap_or(0),
            max_concurrent: u32::try_from(a.max_concurrent).unwrap_or(0),
            last_assigned_at: a.last_assigned_at,
            teams: teams.remove(&a.id).unwrap_or_default(),
        })
        .collect())
}

/// Open conversations per assignee (of `only` these agents, or all).
pub async fn active_counts<C: ConnectionTrait>(
    db: &C,
    only: Option<&[i64]>,
) -> Result<HashMap<i64, u32>, DispatchError> {
    let mut q = conversation::Entity::find()
        .select_only()
        .column(conversation::Column::AssigneeId)
        .column_as(conversation::Column::Id.count(), "n")
        .filter(conversation::Column::Status.is_in(ACTIVE_STATUSES))
        .filter(conversation::Column::AssigneeId.is_not_null())
        .group_by(conversation::Column::AssigneeId);
    if let Some(ids) = only {
        q = q.filter(conversation::Column::AssigneeId.is_in(ids.iter().copied()));
    }
    let rows: Vec<(Option<i64>, i64)> = q.into_tuple().all(db).await?;
    Ok(rows
        .into_iter()
        .filter_map(|(a, n)| Some((a?, u32::try_from(n).unwrap_or(u32::MAX))))
        .collect())
}

/// The queue policies by inbox.
pub fn policies(inboxes: &BTreeMap<i64, InboxRouting>) -> BTreeMap<i64, QueuePolicy> {
    inboxes
        .iter()
        .map(|(id, i)| {
            let mut policy = i.config.queue_policy();
            policy.hours = i.hours.clone();
            (*id, policy)
        })
        .collect()
}
