//! The database-backed dispatcher: routes queued conversations, assigns them to agents, and
//! serves the routing operations of the API (transfer, claim, manual assignment, re-queue,
//! explanations, queue position).
//!
//! # How a round works
//!
//! [`Dispatcher::run_round`] — run by each assigner task on events and timers:
//!
//! 1. Re-queue open conversations of agents that went offline after getting them, or were
//!    deleted (when [`Settings::requeue_on_offline`] is set) — normally done on the status
//!    change already; the sweep covers a crash in between.
//! 2. Route conversations queued since the last round: the inbox's rules look at the first
//!    message (its words and its detected intent) and the contact ([`route`]).
//! 3. Load the routed queue and the online agents ([`snapshot`]) and plan with the pure
//!    policy, [`routing::plan_round`](crate::routing::plan_round).
//! 4. Commit the plan in batches with agent row locks and conditional updates ([`commit`]),
//!    so no conversation gets two assignees and no agent exceeds capacity, whatever other
//!    tasks and nodes do at the same time.
//! 5. Send the `max_wait` message to customers who waited too long ([`notice`]).
//!
//! # When rounds run
//!
//! Event driven: on `conversation.queued` / `created` / `reopened` / `transferred` /
//! `resolved`, `agent.status_changed` from the event bus, on [`Dispatcher::wake`] (the API
//! calls it after it frees capacity or changes an agent), at the next overflow or `max_wait`
//! deadline of a queued conversation, and every [`Settings::sweep_interval_ms`] as a safety
//! net (which is also how a node learns about another node's changes without a shared bus).

pub mod commit;
pub mod entity;
mod error;
pub mod notice;
mod ops;
mod places;
pub mod route;
mod runner;
pub mod snapshot;
mod views;

use std::sync::Arc;
use std::time::Duration;

use kefu_normalizer::summaries::SharedSummarizer;
use kefu_normalizer::views::ConversationView;
use kefu_normalizer::{AgentStatus, Db};
use sea_orm::EntityTrait;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::Notify;

pub use error::DispatchError;
pub use ops::TransferTarget;
pub use places::QueueStatus;
pub use runner::RoundReport;
pub use views::{DecisionView, RoutingView};

use crate::routing::{Aging, RoutingConfig};

/// Dispatcher settings (the `[routing]` section of `kefu.toml`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Time between safety-net rounds, in milliseconds.
    pub sweep_interval_ms: u64,
    /// Effective priority grows by one per this many seconds waited; 0 turns aging off.
    pub aging_secs: u64,
    /// Put an agent's open conversations back in the queue when they go offline (or are
    /// deleted); otherwise they keep them.
    pub requeue_on_offline: bool,
    /// Assigner tasks in this process. More than one only adds contention; it exists to test
    /// that concurrent assigners keep the invariants.
    pub tasks: usize,
    /// Assignments committed per transaction.
    pub batch_size: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            sweep_interval_ms: 5_000,
            aging_secs: 60,
            requeue_on_offline: true,
            tasks: 1,
            batch_size: 500,
        }
    }
}

impl Settings {
    /// The queue's aging setting.
    pub fn aging(&self) -> Aging {
        Aging {
            every: (self.aging_secs > 0).then(|| Duration::from_secs(self.aging_secs)),
        }
    }

    /// Checks values that parse but make no sense.
    pub fn validate(&self) -> Result<(), String> {
        if self.sweep_interval_ms < 10 {
            return Err("routing.sweep_interval_ms must be at least 10".into());
        }
        if !(1..=16).contains(&self.tasks) {
            return Err("routing.tasks must be between 1 and 16".into());
        }
        if !(1..=5_000).contains(&self.batch_size) {
            return Err("routing.batch_size must be between 1 and 5000".into());
        }
        Ok(())
    }
}

/// The dispatcher of one process: a handle to its assigner tasks and the routing operations.
/// Cheap to clone.
#[derive(Clone)]
pub struct Dispatcher {
    inner: Arc<Inner>,
    /// Writes the summary of a transferred conversation (none without one).
    summarizer: Option<SharedSummarizer>,
    /// Detects the intent of first messages before the rules run (none without one).
    intents: Option<kefu_ai::IntentDetector>,
}

struct Inner {
    db: Db,
    settings: Settings,
    /// One per assigner task.
    wakes: Vec<Arc<Notify>>,
    places: places::Places,
}

impl Dispatcher {
    /// A dispatcher on `db`. Its commits wake the outbox relay themselves (see
    /// [`WriteTx::emit`](kefu_normalizer::WriteTx::emit)).
    pub fn new(db: Db, settings: Settings) -> Self {
        let wakes = (0..settings.tasks.max(1))
            .map(|_| Arc::new(Notify::new()))
            .collect();
        Self {
            inner: Arc::new(Inner {
                db,
                settings,
                wakes,
                places: places::Places::default(),
            }),
            summarizer: None,
            intents: None,
        }
    }

    /// Detects the intent of each conversation's first message when routing it.
    pub fn with_intents(mut self, intents: kefu_ai::IntentDetector) -> Self {
        self.intents = Some(intents);
        self
    }

    /// Writes a summary whenever a conversation is transferred.
    pub fn with_summarizer(mut self, summarizer: SharedSummarizer) -> Self {
        self.summarizer = Some(summarizer);
        self
    }

    /// The settings in use.
    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    /// Asks every assigner task of this process for a round soon.
    pub fn wake(&self) {
        for w in &self.inner.wakes {
            w.notify_one();
        }
    }

    /// After a commit that may have freed or used capacity: another round may assign more.
    fn committed(&self) {
        self.wake();
    }

    /// Validates a routing configuration for `PUT /api/v1/inboxes/{id}/routing`.
    pub fn parse_config(v: Value) -> Result<RoutingConfig, DispatchError> {
        let config: RoutingConfig = serde_json::from_value(v)
            .map_err(|e| DispatchError::Invalid(format!("routing: {e}")))?;
        config
            .validate()
            .map_err(|e| DispatchError::Invalid(e.to_string()))?;
        Ok(config)
    }

    /// Assigns a conversation to an agent on a supervisor's behalf (any open status; the agent
    /// need not be online but must have room).
    pub async fn assign(
        &self,
        conversation_id: i64,
        agent_id: i64,
        by: i64,
    ) -> Result<ConversationView, DispatchError> {
        let v = ops::assign_one(
            &self.inner.db,
            ops::OneAssignment {
                conversation_id,
                agent_id,
                reason: "manual",
                require_queued: false,
                require_online: false,
                explanation: serde_json::json!({"manual": {"by": by}}),
                by: Some(by),
            },
        )
        .await?;
        self.committed();
        Ok(v)
    }

    /// An online agent takes a queued conversation, when its inbox allows claims
    /// (`allow_claim`) or `force` (a supervisor claiming for themselves).
    pub async fn claim(
        &self,
        conversation_id: i64,
        agent_id: i64,
        force: bool,
    ) -> Result<ConversationView, DispatchError> {
        if !force {
            let inbox = kefu_normalizer::entity::conversation::Entity::find_by_id(conversation_id)
                .one(self.inner.db.conn())
                .await?
                .ok_or(DispatchError::NotFound("conversation"))?
                .inbox_id;
            let inboxes = snapshot::inboxes(&self.inner.db).await?;
            if !inboxes.get(&inbox).is_some_and(|i| i.config.allow_claim) {
                return Err(DispatchError::Forbidden(
                    "this inbox does not let agents claim conversations (routing.allow_claim)"
                        .into(),
                ));
            }
        }
        let v = ops::assign_one(
            &self.inner.db,
            ops::OneAssignment {
                conversation_id,
                agent_id,
                reason: "claim",
                require_queued: true,
                require_online: true,
                explanation: serde_json::json!({"claim": {"by": agent_id}}),
                by: Some(agent_id),
            },
        )
        .await?;
        self.committed();
        Ok(v)
    }

    /// Transfers an assigned conversation to an agent, a team or a skill set.
    pub async fn transfer(
        &self,
        conversation_id: i64,
        target: &TransferTarget,
        by: Option<i64>,
    ) -> Result<ConversationView, DispatchError> {
        let summarizer = self.summarizer.as_deref();
        let v = ops::transfer(&self.inner.db, summarizer, conversation_id, target, by).await?;
        self.committed();
        Ok(v)
    }

    /// Hands a conversation to a team for a sensitive-word `route` rule (`rule` matched
    /// `term`): queued for the team's members, or transferred there when someone holds it.
    /// `false` when it already was the team's, or is resolved.
    pub async fn hand_to_team(
        &self,
        conversation_id: i64,
        team_id: i64,
        rule: &str,
        term: &str,
    ) -> Result<bool, DispatchError> {
        let summarizer = self.summarizer.as_deref();
        let moved = ops::hand_to_team(
            &self.inner.db,
            summarizer,
            conversation_id,
            team_id,
            rule,
            term,
        )
        .await?;
        if moved {
            self.committed();
        }
        Ok(moved)
    }

    /// Reacts to a presence change: an agent coming online may take conversations now; one
    /// going offline gives theirs back to the queue (with
    /// [`requeue_on_offline`](Settings::requeue_on_offline)). Returns how many were re-queued.
    pub async fn agent_status_changed(
        &self,
        agent_id: i64,
        status: AgentStatus,
    ) -> Result<usize, DispatchError> {
        let mut n = 0;
        if status == AgentStatus::Offline && self.inner.settings.requeue_on_offline {
            n = ops::requeue_agent(&self.inner.db, agent_id, None).await?;
        }
        self.committed();
        Ok(n)
    }

    /// Why a conversation went where it went.
    pub async fn explain(&self, conversation_id: i64) -> Result<RoutingView, DispatchError> {
        views::explain(&self.inner.db, conversation_id).await
    }

    /// A queued conversation's position and wait estimate from a fresh reading of its inbox's
    /// queue (`GET /api/v1/conversations/{id}/queue`); `None` when it is not queued.
    pub async fn queue_status(
        &self,
        conversation_id: i64,
    ) -> Result<Option<QueueStatus>, DispatchError> {
        let (db, aging) = (&self.inner.db, self.inner.settings.aging());
        let fresh = std::time::Duration::ZERO;
        self.inner
            .places
            .place(db, conversation_id, aging, fresh)
            .await
    }

    /// [`Dispatcher::queue_status`] from a reading of the inbox's queue up to a second old,
    /// shared by the conversations queued meanwhile (the web chat widget's `status` frame after
    /// every visitor's first message).
    pub async fn queue_status_shared(
        &self,
        conversation_id: i64,
    ) -> Result<Option<QueueStatus>, DispatchError> {
        let (db, aging) = (&self.inner.db, self.inner.settings.aging());
        let shared = places::SHARED_FOR;
        self.inner
            .places
            .place(db, conversation_id, aging, shared)
            .await
    }
}
