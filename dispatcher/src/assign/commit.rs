//! Committing planned assignments so that no conversation gets two assignees and no agent goes
//! past `max_concurrent` — with several dispatcher tasks and several `kefu` processes.
//!
//! One transaction per batch:
//!
//! 1. Lock the rows of the agents involved (`SELECT … FOR UPDATE`, in id order so two batches
//!    never deadlock; on SQLite the single writer serializes instead) and re-check that each is
//!    online, not deleted, and count their open conversations. Every write that can raise an
//!    agent's load (this, manual assignment, claims, transfers) takes the same lock first, so
//!    the count cannot go stale before commit.
//! 2. Keep the planned assignments that fit.
//! 3. `UPDATE conversations … WHERE id IN (…) AND status = 'queued' AND assignee_id IS NULL
//!    AND team_id <is still the planned team> RETURNING *`: a conversation assigned meanwhile
//!    by another task or node is simply not returned, so it is never assigned twice; one
//!    handed to another team meanwhile is not either, and the next round plans it again.
//! 4. Append the outbox events, the assignment history rows and the timeline lines for what
//!    was returned, stamp the agents' `last_assigned_at`, commit.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use kefu_normalizer::Status;
use kefu_normalizer::activities::{self, NewActivity};
use kefu_normalizer::entity::{agent, contact, conversation};
use kefu_normalizer::events::emit_all;
use kefu_normalizer::views::ConversationView;
use kefu_normalizer::{ActivityKind, EventData};
use kefu_normalizer::{AgentStatus, Db};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::entity::assignment;
use super::error::DispatchError;
use super::snapshot::active_counts;

/// One assignment to commit.
#[derive(Clone, Debug)]
pub struct Pending {
    /// The conversation.
    pub conversation_id: i64,
    /// The agent.
    pub agent_id: i64,
    /// `auto`, `sticky`, `manual`, `claim` or `transfer`.
    pub reason: &'static str,
    /// The explanation to store.
    pub explanation: serde_json::Value,
    /// When the conversation entered the queue, for the wait-time metric.
    pub enqueued_at: Option<DateTime<Utc>>,
    /// The conversation's team when the assignment was planned: it is committed only while
    /// that is still the team (a sensitive-word rule may hand a queued conversation to
    /// another team between the plan and the commit).
    pub team_id: Option<i64>,
}

/// What a batch achieved.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Committed {
    /// `(conversation, agent)` pairs now assigned.
    pub assigned: Vec<(i64, i64)>,
    /// Planned assignments dropped: the agent was full, offline or gone, or the conversation
    /// was no longer queued.
    pub dropped: usize,
}

/// Commits `batch` in one transaction (see the module docs).
pub async fn commit(db: &Db, batch: &[Pending]) -> Result<Committed, DispatchError> {
    if batch.is_empty() {
        return Ok(Committed::default());
    }
    let now = Utc::now();
    let tx = db.begin_write().await?;
    let agent_ids: Vec<i64> = batch
        .iter()
        .map(|p| p.agent_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut room = lock_agents(db, &tx, &agent_ids, true).await?;

    let mut seen = BTreeSet::new();
    let mut accepted: Vec<&Pending> = Vec::new();
    for p in batch {
        if !seen.insert(p.conversation_id) {
            continue;
        }
        if let Some(free) = room.get_mut(&p.agent_id).filter(|f| **f > 0) {
            *free -= 1;
            accepted.push(p);
        }
    }
    if accepted.is_empty() {
        tx.rollback().await?;
        return Ok(Committed {
            assigned: Vec::new(),
            dropped: batch.len(),
        });
    }

    // Integers from our own rows, inlined so one statement serves both backends.
    let cases: String = accepted
        .iter()
        .map(|p| format!(" WHEN {} THEN {}", p.conversation_id, p.agent_id))
        .collect();
    let same_team: String = accepted
        .iter()
        .map(|p| match p.team_id {
            Some(t) => format!(" WHEN {} THEN team_id = {t}", p.conversation_id),
            None => format!(" WHEN {} THEN team_id IS NULL", p.conversation_id),
        })
        .collect();
    let ids = accepted
        .iter()
        .map(|p| p.conversation_id.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let mut update = conversation::Entity::update_many()
        .col_expr(conversation::Column::Status, Expr::value(Status::Assigned))
        .col_expr(
            conversation::Column::AssigneeId,
            Expr::cust(format!("CASE id{cases} END")),
        )
        .col_expr(conversation::Column::UpdatedAt, Expr::value(now))
        .filter(conversation::Column::Id.is_in(accepted.iter().map(|p| p.conversation_id)))
        .filter(conversation::Column::Status.eq(Status::Queued))
        .filter(conversation::Column::AssigneeId.is_null())
        .filter(Expr::cust(format!("CASE id{same_team} END")));
    if db.is_postgres() {
        // Rows another node is assigning right now are skipped rather than waited for: they
        // will not be queued when it commits. Locking in id order also rules out deadlocks
        // between two batches sharing conversations but no agent.
        update = update.filter(Expr::cust(format!(
            "id IN (SELECT id FROM conversations WHERE id IN ({ids}) ORDER BY id FOR UPDATE SKIP LOCKED)"
        )));
    }
    let rows = update.exec_with_returning(&*tx).await?;

    let by_conv: HashMap<i64, &Pending> =
        accepted.iter().map(|p| (p.conversation_id, *p)).collect();
    let mut rows = rows;
    rows.sort_by_key(|r| r.id);
    let contacts: HashMap<i64, contact::Model> = contact::Entity::find()
        .filter(contact::Column::Id.is_in(rows.iter().map(|r| r.contact_id)))
        .all(&*tx)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let mut events = Vec::with_capacity(rows.len());
    let mut history = Vec::with_capacity(rows.len());
    let mut lines = Vec::with_capacity(rows.len());
    let mut assigned = Vec::with_capacity(rows.len());
    for r in &rows {
        let Some(p) = by_conv.get(&r.id) else {
            continue;
        };
        events.push(EventData::ConversationAssigned(ConversationView::new(
            r,
            contacts.get(&r.contact_id),
        )));
        history.push(assignment::ActiveModel {
            conversation_id: Set(r.id),
            agent_id: Set(p.agent_id),
            reason: Set(p.reason.to_owned()),
            explanation: Set(p.explanation.clone()),
            created_at: Set(now),
            ..Default::default()
        });
        lines.push(
            NewActivity::new(r.id, ActivityKind::Assigned, None)
                .to_agent(p.agent_id)
                .details(serde_json::json!({"reason": p.reason})),
        );
        assigned.push((r.id, p.agent_id));
    }
    if !assigned.is_empty() {
        emit_all(&tx, events, now).await?;
        assignment::Entity::insert_many(history).exec(&*tx).await?;
        activities::record(&*tx, lines, now).await?;
        agent::Entity::update_many()
            .col_expr(agent::Column::LastAssignedAt, Expr::value(now))
            .filter(agent::Column::Id.is_in(assigned.iter().map(|(_, a)| *a)))
            .exec(&*tx)
            .await?;
    }
    tx.commit().await?;
    for (conv, _) in &assigned {
        if let Some(p) = by_conv.get(conv) {
            metrics::counter!("kefu_routing_assignments_total", "reason" => p.reason).increment(1);
            if let Some(t) = p.enqueued_at {
                let waited = (now - t).to_std().unwrap_or_default();
                metrics::histogram!("kefu_routing_wait_seconds").record(waited.as_secs_f64());
            }
        }
    }
    Ok(Committed {
        dropped: batch.len() - assigned.len(),
        assigned,
    })
}

/// Locks `ids` (in id order) and returns each one's free capacity. With `online_only`, agents
/// not `online` get none; deleted agents never get any.
pub async fn lock_agents<C: ConnectionTrait>(
    db: &Db,
    tx: &C,
    ids: &[i64],
    online_only: bool,
) -> Result<HashMap<i64, u32>, DispatchError> {
    let mut q = agent::Entity::find()
        .filter(agent::Column::Id.is_in(ids.iter().copied()))
        .order_by_asc(agent::Column::Id);
    if db.is_postgres() {
        q = q.lock_exclusive();
    }
    let agents = q.all(tx).await?;
    let active = active_counts(tx, Some(ids)).await?;
    Ok(agents
        .into_iter()
        .map(|a| {
            let usable =
                a.deleted_at.is_none() && (!online_only || a.status == AgentStatus::Online);
            let max = u32::try_from(a.max_concurrent).unwrap_or(0);
            let held = active.get(&a.id).copied().unwrap_or(0);
            let free = if usable { max.saturating_sub(held) } else { 0 };
            (a.id, free)
        })
        .collect())
}
