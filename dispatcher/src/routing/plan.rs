//! Planning a whole assignment round over the queue.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::choice::{AgentSnapshot, Explanation, choose};
use super::overflow::max_wait_notice;
use super::queue::{Aging, QueuePolicy, QueuedConversation, queue_key};

/// How many eligible and how many ineligible candidates an explanation in a [`RoundPlan`]
/// keeps; the rest are counted (see [`Explanation::truncate_candidates`]).
pub const EXPLAINED_CANDIDATES: usize = 10;

/// One planned assignment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    /// The conversation.
    pub conversation_id: i64,
    /// The agent it goes to.
    pub agent_id: i64,
    /// Why; store it for `GET /api/v1/conversations/{id}/routing`.
    pub explanation: Explanation,
}

/// A customer who has waited past `max_wait` and should be told so, once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// The conversation, which stays queued.
    pub conversation_id: i64,
    /// The inbox's `max_wait_message`.
    pub message: String,
}

/// The outcome of [`plan_round`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RoundPlan {
    /// Assignments in queue order.
    pub assignments: Vec<Assignment>,
    /// Conversations left queued, in queue order (their position is their index + 1).
    pub unassigned: Vec<i64>,
    /// `max_wait` messages to send for conversations left queued.
    pub notices: Vec<Notice>,
}

/// Plans one round: takes the queue in serving order ([`order_queue`](super::order_queue)) and
/// gives each conversation the agent [`choose`] picks, counting every assignment against that
/// agent's capacity (and as their latest assignment, so equal agents take turns) for the rest of
/// the round.
///
/// A conversation nobody can take does not block the ones behind it. A conversation id listed
/// twice is planned once, and an agent listed twice counts once (the first snapshot), so the
/// plan never holds two agents for one conversation nor exceeds a capacity. `policies` maps
/// inbox ids to their [`QueuePolicy`]; an inbox missing from it gets the default (no overflow,
/// no stickiness).
pub fn plan_round(
    queue: &[QueuedConversation],
    agents: &[AgentSnapshot],
    policies: &BTreeMap<i64, QueuePolicy>,
    now: DateTime<Utc>,
    aging: Aging,
) -> RoundPlan {
    let mut ordered: Vec<&QueuedConversation> = queue.iter().collect();
    ordered.sort_by_cached_key(|c| queue_key(c, now, aging));

    let mut seen_agents = BTreeSet::new();
    let mut agents: Vec<AgentSnapshot> = agents
        .iter()
        .filter(|a| seen_agents.insert(a.id))
        .cloned()
        .collect();
    let mut free: u64 = agents
        .iter()
        .filter(|a| a.online)
        .map(|a| u64::from(a.max_concurrent.saturating_sub(a.active)))
        .sum();

    let fallback = QueuePolicy::default();
    let mut plan = RoundPlan::default();
    let mut seen = BTreeSet::new();
    for conv in ordered {
        if !seen.insert(conv.id) {
            continue;
        }
        let policy = policies.get(&conv.inbox_id).unwrap_or(&fallback);
        if free > 0 {
            let mut choice = choose(conv, &agents, now, policy);
            choice
                .reason
                .truncate_candidates(EXPLAINED_CANDIDATES, EXPLAINED_CANDIDATES);
            let winner = choice
                .agent_id
                .and_then(|id| agents.iter_mut().find(|a| a.id == id));
            if let Some(agent) = winner {
                agent.active += 1;
                agent.last_assigned_at = Some(now);
                free = free.saturating_sub(1);
                plan.assignments.push(Assignment {
                    conversation_id: conv.id,
                    agent_id: agent.id,
                    explanation: choice.reason,
                });
                continue;
            }
        }
        plan.unassigned.push(conv.id);
        if let Some(message) = max_wait_notice(conv, policy.waited(conv, now), &policy.overflow) {
            plan.notices.push(Notice {
                conversation_id: conv.id,
                message: message.to_owned(),
            });
        }
    }
    plan
}
