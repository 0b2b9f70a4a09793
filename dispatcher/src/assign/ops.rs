//! Operations on single conversations: manual assignment, claims, transfers, and putting an
//! agent's conversations back in the queue.
//!
//! Every operation that gives an agent a conversation locks the agent's row first and the
//! conversation's second — the same order as [`commit`](super::commit) — and checks capacity
//! under that lock.

use std::collections::BTreeMap;

use chrono::Utc;
use kefu_normalizer::activities::{self, NewActivity};
use kefu_normalizer::entity::conversation_summary::Occasion;
use kefu_normalizer::entity::{agent, contact, conversation, team};
use kefu_normalizer::summaries::{self, Summarizer, SummaryView};
use kefu_normalizer::views::ConversationView;
use kefu_normalizer::{
    ActivityKind, AgentStatus, Db, Status, Transition, WriteTx, set_status, set_status_with,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::commit::lock_agents;
use super::entity::assignment;
use super::error::DispatchError;
use super::route::mark_routed;
use super::snapshot::ACTIVE_STATUSES;

/// Where a transfer sends a conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferTarget {
    /// Straight to this agent (who must have room).
    Agent(i64),
    /// Back to the queue, for members of this team (any skills).
    Team(i64),
    /// Back to the queue, for agents with these skills at these levels.
    Skills(BTreeMap<String, u8>),
}

/// How a single assignment is made.
pub(crate) struct OneAssignment {
    pub conversation_id: i64,
    pub agent_id: i64,
    pub reason: &'static str,
    /// Only from the queue (claims).
    pub require_queued: bool,
    /// Only to an online agent (claims).
    pub require_online: bool,
    pub explanation: Value,
    /// The agent who made it (the supervisor; the claimer).
    pub by: Option<i64>,
}

async fn lock_conversation<C: ConnectionTrait>(
    db: &Db,
    tx: &C,
    id: i64,
) -> Result<conversation::Model, DispatchError> {
    let mut q = conversation::Entity::find_by_id(id);
    if db.is_postgres() {
        q = q.lock_exclusive();
    }
    q.one(tx)
        .await?
        .ok_or(DispatchError::NotFound("conversation"))
}

async fn view<C: ConnectionTrait>(
    tx: &C,
    c: &conversation::Model,
) -> Result<ConversationView, DispatchError> {
    let contact = contact::Entity::find_by_id(c.contact_id).one(tx).await?;
    Ok(ConversationView::new(c, contact.as_ref()))
}

async fn live_agent<C: ConnectionTrait>(tx: &C, id: i64) -> Result<agent::Model, DispatchError> {
    agent::Entity::find_by_id(id)
        .filter(agent::Column::DeletedAt.is_null())
        .one(tx)
        .await?
        .ok_or(DispatchError::NotFound("agent"))
}

/// Gives `conv` (already locked) to the agent and records why, inside `tx`: in the assignment
/// history and, as said by `by`, on the conversation's timeline (a transfer's line pointing
/// at the `summary` written for it).
async fn hand_over(
    tx: &WriteTx,
    conv: conversation::Model,
    agent_id: i64,
    reason: &str,
    explanation: Value,
    by: Option<i64>,
    summary: Option<&SummaryView>,
) -> Result<conversation::Model, DispatchError> {
    let now = Utc::now();
    let mut am: conversation::ActiveModel = conv.into();
    am.assignee_id = Set(Some(agent_id));
    let conv = am.update(tx).await?;
    let conv = set_status_on(tx, conv, Status::Assigned, Transition::Assign).await?;
    assignment::ActiveModel {
        conversation_id: Set(conv.id),
        agent_id: Set(agent_id),
        reason: Set(reason.to_owned()),
        explanation: Set(explanation),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(tx)
    .await?;
    let line = if reason == "transfer" {
        NewActivity::new(conv.id, ActivityKind::Transferred, by)
            .details(activities::with_summary(json!({}), summary))
    } else {
        NewActivity::new(conv.id, ActivityKind::Assigned, by).details(json!({"reason": reason}))
    };
    activities::record(&**tx, [line.to_agent(agent_id)], now).await?;
    agent::Entity::update_many()
        .col_expr(agent::Column::LastAssignedAt, Expr::value(now))
        .filter(agent::Column::Id.eq(agent_id))
        .exec(tx)
        .await?;
    metrics::counter!("kefu_routing_assignments_total", "reason" => reason.to_owned()).increment(1);
    Ok(conv)
}

async fn set_status_on(
    tx: &WriteTx,
    conv: conversation::Model,
    next: Status,
    t: Transition,
) -> Result<conversation::Model, DispatchError> {
    Ok(set_status(tx, conv, next, t, None).await?)
}

/// Assigns one conversation (manual assignment by a supervisor, or a claim).
pub(crate) async fn assign_one(
    db: &Db,
    a: OneAssignment,
) -> Result<ConversationView, DispatchError> {
    let tx = db.begin_write().await?;
    let agent = live_agent(&*tx, a.agent_id).await?;
    let room = lock_agents(db, &*tx, &[a.agent_id], false).await?;
    let conv = lock_conversation(db, &*tx, a.conversation_id).await?;
    let status = conv.status;
    if conv.assignee_id == Some(a.agent_id) && ACTIVE_STATUSES.contains(&conv.status) {
        let v = view(&*tx, &conv).await?;
        tx.rollback().await?;
        return Ok(v);
    }
    if a.require_queued && status != Status::Queued {
        return Err(DispatchError::Conflict(format!(
            "only queued conversations can be claimed; this one is {status}"
        )));
    }
    status.apply(Transition::Assign)?;
    if a.require_online && agent.status != AgentStatus::Online {
        return Err(DispatchError::Conflict(format!(
            "agent {} is {}; go online to take conversations",
            agent.id, agent.status
        )));
    }
    check_room(&agent, room.get(&agent.id).copied().unwrap_or(0), &*tx).await?;
    let conv = hand_over(&tx, conv, a.agent_id, a.reason, a.explanation, a.by, None).await?;
    let v = view(&*tx, &conv).await?;
    tx.commit().await?;
    Ok(v)
}

async fn check_room<C: ConnectionTrait>(
    agent: &agent::Model,
    free: u32,
    tx: &C,
) -> Result<(), DispatchError> {
    if free > 0 {
        return Ok(());
    }
    let active = super::snapshot::active_counts(tx, Some(&[agent.id]))
        .await?
        .get(&agent.id)
        .copied()
        .unwrap_or(0);
    Err(DispatchError::AtCapacity {
        agent_id: agent.id,
        active,
        max_concurrent: u32::try_from(agent.max_concurrent).unwrap_or(0),
    })
}

/// Transfers an assigned (or pending) conversation; see [`TransferTarget`]. With a
/// `summarizer`, writes a summary that the `conversation.transferred` event and the
/// timeline line carry.
pub(crate) async fn transfer(
    db: &Db,
    summarizer: Option<&dyn Summarizer>,
    conversation_id: i64,
    target: &TransferTarget,
    by: Option<i64>,
) -> Result<ConversationView, DispatchError> {
    let tx = db.begin_write().await?;
    let room = match target {
        TransferTarget::Agent(id) => {
            let agent = live_agent(&*tx, *id).await?;
            let room = lock_agents(db, &*tx, &[*id], false).await?;
            Some((agent, room.get(id).copied().unwrap_or(0)))
        }
        TransferTarget::Team(id) => {
            team::Entity::find_by_id(*id)
                .one(&*tx)
                .await?
                .ok_or(DispatchError::NotFound("team"))?;
            None
        }
        TransferTarget::Skills(skills) => {
            if skills.is_empty() || skills.values().any(|l| !(1..=10).contains(l)) {
                return Err(DispatchError::Invalid(
                    "transfer skills must name at least one skill, with levels 1 to 10".into(),
                ));
            }
            None
        }
    };
    let conv = lock_conversation(db, &*tx, conversation_id).await?;
    let status = conv.status;
    let next = status.apply(Transition::StartTransfer)?;
    let from = conv.assignee_id;
    if let (Some((agent, _)), Some(f)) = (&room, from)
        && agent.id == f
    {
        return Err(DispatchError::Conflict(format!(
            "the conversation is already assigned to agent {f}"
        )));
    }
    if let Some((agent, free)) = &room {
        check_room(agent, *free, &*tx).await?;
    }
    let summary = match summarizer {
        Some(s) => {
            let at = Utc::now();
            Some(summaries::write(&*tx, s, &conv, Occasion::Transferred, at).await?)
        }
        None => None,
    };
    let conv = set_status_with(
        &tx,
        conv,
        next,
        Transition::StartTransfer,
        None,
        summary.as_ref(),
    )
    .await?;
    let conv = match target {
        TransferTarget::Agent(id) => {
            let why = json!({"transfer": {"from_agent_id": from, "to_agent_id": id, "by": by}});
            hand_over(&tx, conv, *id, "transfer", why, by, summary.as_ref()).await?
        }
        TransferTarget::Team(_) | TransferTarget::Skills(_) => {
            let mut am: conversation::ActiveModel = conv.into();
            match target {
                TransferTarget::Team(t) => {
                    am.team_id = Set(Some(*t));
                    am.skills = Set(json!({}));
                }
                TransferTarget::Skills(s) => {
                    am.team_id = Set(None);
                    am.skills = Set(json!(s));
                }
                TransferTarget::Agent(_) => {}
            }
            let conv = am.update(&*tx).await?;
            let conv = set_status_on(&tx, conv, Status::Queued, Transition::Requeue).await?;
            mark_routed(&*tx, &conv, Some(json!([]))).await?;
            let line = NewActivity::new(conv.id, ActivityKind::Transferred, by);
            let line = match target {
                TransferTarget::Team(t) => line.to_team(*t),
                TransferTarget::Skills(s) => line.details(json!({"skills": s})),
                TransferTarget::Agent(_) => line,
            };
            let details = activities::with_summary(line.details.clone(), summary.as_ref());
            let line = line.details(details);
            activities::record(&*tx, [line], conv.updated_at).await?;
            conv
        }
    };
    let v = view(&*tx, &conv).await?;
    tx.commit().await?;
    Ok(v)
}

/// Puts open conversations of `agent_id` back in the queue, keeping their requirements: all of
/// them, or `only` these. Returns how many. Used when an agent goes offline or is deleted.
pub(crate) async fn requeue_agent(
    db: &Db,
    agent_id: i64,
    only: Option<&[i64]>,
) -> Result<usize, DispatchError> {
    let tx = db.begin_write().await?;
    lock_agents(db, &*tx, &[agent_id], false).await?;
    let mut q = conversation::Entity::find()
        .filter(conversation::Column::AssigneeId.eq(agent_id))
        .filter(conversation::Column::Status.is_in(ACTIVE_STATUSES))
        .order_by_asc(conversation::Column::Id);
    if let Some(ids) = only {
        q = q.filter(conversation::Column::Id.is_in(ids.iter().copied()));
    }
    if db.is_postgres() {
        q = q.lock_exclusive();
    }
    let convs = q.all(&*tx).await?;
    let n = convs.len();
    for conv in convs {
        let status = conv.status;
        let next = status.apply(Transition::Requeue)?;
        let conv = set_status_on(&tx, conv, next, Transition::Requeue).await?;
        mark_routed(&*tx, &conv, None).await?;
        let line = NewActivity::new(conv.id, ActivityKind::Requeued, None)
            .details(json!({"from_agent_id": agent_id}));
        activities::record(&*tx, [line], conv.updated_at).await?;
    }
    tx.commit().await?;
    if n > 0 {
        metrics::counter!("kefu_routing_requeued_total", "reason" => "agent_offline")
            .increment(n as u64);
    }
    Ok(n)
}

/// Open conversations still held by an agent who went offline after they were assigned, or
/// who was deleted, grouped by agent. The sweep re-queues them should the re-queue on the
/// status change have been missed (a crash in between). A conversation a supervisor assigned
/// to an agent who was already offline stays: that was deliberate.
pub(crate) async fn stranded(db: &Db) -> Result<BTreeMap<i64, Vec<i64>>, DispatchError> {
    let backend = db.conn().get_database_backend();
    let held = ACTIVE_STATUSES
        .iter()
        .map(|st| format!("'{}'", st.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let offline = AgentStatus::Offline.as_str();
    let sql = format!(
        "SELECT c.id, c.assignee_id FROM conversations c JOIN agents a ON a.id = c.assignee_id \
         WHERE c.status IN ({held}) AND (a.deleted_at IS NOT NULL \
         OR (a.status = '{offline}' AND NOT EXISTS (SELECT 1 FROM assignments s \
             WHERE s.conversation_id = c.id AND s.agent_id = a.id \
             AND s.created_at >= a.status_changed_at)))"
    );
    let mut out: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for r in db
        .conn()
        .query_all_raw(sea_orm::Statement::from_string(backend, sql))
        .await?
    {
        let id: i64 = r.try_get("", "id")?;
        let agent: i64 = r.try_get("", "assignee_id")?;
        out.entry(agent).or_default().push(id);
    }
    Ok(out)
}

/// Hands a conversation to a team because of what the customer wrote (a sensitive-word
/// `route` rule named `rule`, matching `term`): a queued conversation waits for the team's
/// members from now on; an assigned or pending one is transferred to the team. Does nothing
/// (returns `false`) when it is already the team's, or resolved.
pub(crate) async fn hand_to_team(
    db: &Db,
    summarizer: Option<&dyn Summarizer>,
    conversation_id: i64,
    team_id: i64,
    rule: &str,
    term: &str,
) -> Result<bool, DispatchError> {
    let tx = db.begin_write().await?;
    team::Entity::find_by_id(team_id)
        .one(&*tx)
        .await?
        .ok_or(DispatchError::NotFound("team"))?;
    let conv = lock_conversation(db, &*tx, conversation_id).await?;
    if conv.team_id == Some(team_id) {
        tx.rollback().await?;
        return Ok(false);
    }
    let why = json!({"sensitive": {"rule": rule, "term": term}});
    match conv.status {
        Status::Queued => {
            let mut am: conversation::ActiveModel = conv.into();
            am.team_id = Set(Some(team_id));
            am.skills = Set(json!({}));
            am.updated_at = Set(Utc::now());
            let conv = am.update(&*tx).await?;
            let hit =
                json!([{"index": 0, "name": rule, "why": [format!("sensitive word {term:?}")]}]);
            mark_routed(&*tx, &conv, Some(hit)).await?;
            let line = NewActivity::new(conv.id, ActivityKind::Transferred, None)
                .to_team(team_id)
                .details(why);
            activities::record(&*tx, [line], conv.updated_at).await?;
            tx.commit().await?;
            Ok(true)
        }
        Status::Assigned | Status::Pending => {
            tx.rollback().await?;
            let team = TransferTarget::Team(team_id);
            transfer(db, summarizer, conversation_id, &team, None).await?;
            Ok(true)
        }
        _ => {
            tx.rollback().await?;
            Ok(false)
        }
    }
}
