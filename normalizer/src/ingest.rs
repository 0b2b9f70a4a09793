//! The ingest pipeline: one [`InboundEnvelope`] → one transaction that resolves the contact,
//! threads the message into a conversation, assigns the next `seq`, stores it, skips
//! duplicates and appends outbox events.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Utc;
use kefu_channel::{Accepted, InboundEnvelope, InboundSink, IngestError};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;
use std::hash::{Hash, Hasher};
use tokio::sync::{mpsc, oneshot};

use crate::activities::{self, NewActivity};
use crate::conversations::{self, NewMessage};
use crate::db::{Db, WriteTx};
use crate::entity::conversation_activity::ActivityKind;
use crate::entity::message::{DeliveryStatus, Direction, SenderType};
use crate::entity::{contact, contact_identity, conversation, inbox, message};
use crate::error::StoreError;
use crate::events::{EventData, NewConversation};
use crate::files::Files;
use crate::sanitize::{self, Limits};
use crate::screen::InboundScreen;
use crate::status::{Status, Transition};
use crate::views::ConversationView;

mod identity;

/// How many times a transaction that lost a race to another writer is retried. After a unique
/// index race the retry finds the winner's row (identity, dedupe key); after a deadlock the
/// other transaction has gone ahead. So one retry normally suffices.
const MAX_ATTEMPTS: usize = 4;

/// Stores inbound envelopes. Implements [`InboundSink`] for channel adapters.
///
/// Envelopes are committed in groups: each ingest worker takes every envelope waiting in its
/// queue (up to [`MAX_BATCH`]) and stores them in one transaction, so one commit (one fsync)
/// covers the group; if any envelope fails, the group is stored one by one instead. Envelopes are
/// sharded to workers by sender, so one customer's messages keep their order and two workers
/// never wait on each other's row locks. Callers get their answer only after the commit.
#[derive(Clone)]
pub struct Normalizer {
    core: Arc<Core>,
    queues: Arc<Vec<mpsc::Sender<Job>>>,
    screen: Option<Arc<dyn InboundScreen>>,
}

struct Core {
    db: Db,
    limits: Limits,
}

struct Job {
    envelope: InboundEnvelope,
    /// The screen's sentiment score of its text, stored on the conversation with the message.
    sentiment: Option<f32>,
    reply: oneshot::Sender<Result<Accepted, StoreError>>,
}

/// Most envelopes committed together.
pub const MAX_BATCH: usize = 32;

impl Normalizer {
    /// A normalizer writing to `db`. Starts its ingest workers on the current Tokio runtime; they stop when the last clone is
    /// dropped.
    pub fn new(db: Db, limits: Limits) -> Self {
        // SQLite has one writer anyway; PostgreSQL gains from a few concurrent groups.
        let workers = if db.is_postgres() { 4 } else { 1 };
        let core = Arc::new(Core { db, limits });
        let queues = (0..workers)
            .map(|_| {
                let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
                tokio::spawn(worker(core.clone(), rx));
                tx
            })
            .collect();
        Self {
            core,
            queues: Arc::new(queues),
            screen: None,
        }
    }

    /// Screens every envelope with `screen` (sensitive words, personal data) before storing it.
    pub fn with_screen(mut self, screen: Arc<dyn InboundScreen>) -> Self {
        self.screen = Some(screen);
        self
    }

    /// Stores one envelope; returns the stored message (or the one stored before under the same
    /// dedupe key) once it is committed.
    #[tracing::instrument(skip_all, fields(inbox = envelope.inbox_id))]
    pub async fn ingest(&self, envelope: InboundEnvelope) -> Result<Accepted, StoreError> {
        let started = std::time::Instant::now();
        let mut envelope = sanitize::envelope(envelope, &self.core.limits)?;
        let screened = match &self.screen {
            Some(screen) => Some(screen.before_store(&mut envelope).await),
            None => None,
        };
        // A tap on a satisfaction menu answers the survey; it is not a new message.
        if envelope.content.extra.get("menu_id").is_some()
            && let Some(answered) =
                crate::csat::menu_answer(&self.core.db, &envelope, Utc::now()).await?
        {
            return Ok(answered);
        }
        if envelope.content.attachments.iter().any(|a| a.id.is_none()) {
            // Files are stored before the message, outside its group transaction; a retried
            // delivery of an envelope stored before must not store its files again.
            if let Some(stored) = stored_under_key(self.core.db.conn(), &envelope).await? {
                return Ok(stored);
            }
            Files::new(self.core.db.clone())
                .store_inbound(&mut envelope)
                .await?;
        }
        let sentiment = screened.as_ref().and_then(|s| s.sentiment);
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (envelope.inbox_id, &envelope.sender.external_id).hash(&mut h);
        let shard = (h.finish() % self.queues.len() as u64) as usize;
        let (reply, answer) = oneshot::channel();
        let stopped = || StoreError::Unavailable("the ingest pipeline is shutting down".into());
        self.queues[shard]
            .send(Job {
                envelope,
                sentiment,
                reply,
            })
            .await
            .map_err(|_| stopped())?;
        let result = answer.await.map_err(|_| stopped())?;
        if let (Ok(a), Some(found), Some(screen)) = (&result, screened, &self.screen) {
            screen.after_store(a, found).await;
        }
        if let Ok(a) = &result {
            metrics::counter!("kefu_ingest_messages_total", "duplicate" => a.duplicate.to_string())
                .increment(1);
            metrics::histogram!("kefu_ingest_duration_seconds")
                .record(started.elapsed().as_secs_f64());
        }
        result
    }
}

/// The message stored earlier (read through `conn`) under the envelope's dedupe key, if any,
/// as a duplicate's answer.
async fn stored_under_key<C: ConnectionTrait>(
    conn: &C,
    env: &InboundEnvelope,
) -> Result<Option<Accepted>, StoreError> {
    let Some(key) = &env.dedupe_key else {
        return Ok(None);
    };
    let prev = message::Entity::find()
        .filter(message::Column::InboxId.eq(env.inbox_id))
        .filter(message::Column::DedupeKey.eq(key.as_str()))
        .one(conn)
        .await?;
    Ok(prev.map(|m| Accepted {
        message_id: m.id,
        conversation_id: m.conversation_id,
        seq: m.seq,
        duplicate: true,
    }))
}

async fn worker(core: Arc<Core>, mut rx: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        metrics::histogram!("kefu_ingest_batch_size").record(batch.len() as f64);
        core.store_batch(std::mem::take(&mut batch)).await;
    }
}

impl Core {
    /// Stores a group in one transaction. Should any envelope fail (a bad envelope, or a race
    /// on a unique index lost to another node), the group is rolled back and every envelope is
    /// stored alone, so one failure never takes the others down with it.
    async fn store_batch(&self, jobs: Vec<Job>) {
        if jobs.len() > 1 {
            let mut stored = Vec::with_capacity(jobs.len());
            let outcome: Result<(), StoreError> = async {
                let tx = self.db.begin_write().await?;
                let envs: Vec<&InboundEnvelope> = jobs.iter().map(|j| &j.envelope).collect();
                let sentiments: Vec<Option<f32>> = jobs.iter().map(|j| j.sentiment).collect();
                stored = crate::ingest_group::store_group(&tx, &envs, &sentiments, |i| {
                    self.ingest_in(&tx, envs[i], sentiments[i])
                })
                .await?;
                tx.commit().await?;
                Ok(())
            }
            .await;
            match outcome {
                Ok(()) => {
                    for (job, a) in jobs.into_iter().zip(stored) {
                        let _ = job.reply.send(Ok(a));
                    }
                    return;
                }
                Err(e) => {
                    tracing::debug!(error = %e, "Ingest group failed; storing its envelopes one by one.")
                }
            }
        }
        for job in jobs {
            let result = self.store_one(&job.envelope, job.sentiment).await;
            let _ = job.reply.send(result);
        }
    }

    async fn store_one(
        &self,
        envelope: &InboundEnvelope,
        sentiment: Option<f32>,
    ) -> Result<Accepted, StoreError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let tx = self.db.begin_write().await?;
            match self.ingest_in(&tx, envelope, sentiment).await {
                Ok(accepted) => {
                    tx.commit().await?;
                    return Ok(accepted);
                }
                Err(e) if e.is_retryable() && attempt < MAX_ATTEMPTS => {
                    tx.rollback().await?;
                    tracing::debug!(attempt, error = %e, "Ingest lost a race with another writer; retrying.");
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn ingest_in(
        &self,
        tx: &WriteTx,
        env: &InboundEnvelope,
        sentiment: Option<f32>,
    ) -> Result<Accepted, StoreError> {
        if let Some(stored) = stored_under_key(&**tx, env).await? {
            return Ok(stored);
        }
        let now = Utc::now();
        let (identity, contact) = self.resolve_identity(tx, env).await?;
        let conv = match self.find_conversation(tx, env, &identity).await? {
            Some(c) => self.continue_conversation(tx, c, &contact).await?,
            None => self.open_conversation(tx, env, &identity, &contact).await?,
        };
        let mut stored_content = env.content.clone();
        stored_content.text.clear();
        let msg = conversations::append_message(
            tx,
            &conv,
            NewMessage {
                direction: Direction::Inbound,
                private: false,
                sender_type: SenderType::Contact,
                sender_id: Some(contact.id),
                sender_name: contact
                    .name
                    .clone()
                    .or_else(|| identity.display_name.clone()),
                text: env.content.text.clone(),
                content: serde_json::to_value(&stored_content).unwrap_or_default(),
                dedupe_key: env.dedupe_key.clone(),
                message_ref: env.thread.message_ref.clone(),
                delivery_status: DeliveryStatus::Delivered,
                fallback: None,
                sentiment,
            },
            now,
        )
        .await?;
        Ok(Accepted {
            message_id: msg.id,
            conversation_id: msg.conversation_id,
            seq: msg.seq,
            duplicate: false,
        })
    }

    async fn find_conversation(
        &self,
        tx: &WriteTx,
        env: &InboundEnvelope,
        identity: &contact_identity::Model,
    ) -> Result<Option<conversation::Model>, StoreError> {
        let hints = &env.thread;
        if let Some(token) = &hints.conversation_token {
            let found = conversation::Entity::find()
                .filter(conversation::Column::Token.eq(token.as_str()))
                .filter(conversation::Column::InboxId.eq(env.inbox_id))
                .one(tx)
                .await?;
            if let Some(c) = found.filter(|c| c.status != Status::Closed) {
                return Ok(Some(c));
            }
        }
        if !hints.references.is_empty() {
            let hits = message::Entity::find()
                .filter(message::Column::InboxId.eq(env.inbox_id))
                .filter(
                    message::Column::MessageRef.is_in(hints.references.iter().map(String::as_str)),
                )
                .all(tx)
                .await?;
            // References come most recent first; the most recent known one decides.
            let best = hints.references.iter().find_map(|r| {
                hits.iter()
                    .find(|m| m.message_ref.as_deref() == Some(r.as_str()))
            });
            if let Some(m) = best {
                let c = conversation::Entity::find_by_id(m.conversation_id)
                    .one(tx)
                    .await?;
                if let Some(c) = c.filter(|c| c.status != Status::Closed) {
                    return Ok(Some(c));
                }
            }
        }
        if hints.new_conversation {
            return Ok(None);
        }
        Ok(conversation::Entity::find()
            .filter(conversation::Column::IdentityId.eq(identity.id))
            .filter(conversation::Column::Status.is_not_in([Status::Resolved, Status::Closed]))
            .order_by_desc(conversation::Column::Id)
            .one(tx)
            .await?)
    }

    async fn continue_conversation(
        &self,
        tx: &WriteTx,
        conv: conversation::Model,
        contact: &contact::Model,
    ) -> Result<conversation::Model, StoreError> {
        let status = conv.status;
        let transition = if status == Status::Resolved {
            Transition::Reopen
        } else {
            Transition::CustomerReplied
        };
        let next = status.apply(transition)?;
        if next == status {
            return Ok(conv);
        }
        let conv = conversations::set_status(tx, conv, next, transition, Some(contact)).await?;
        if transition == Transition::Reopen {
            let line = NewActivity::new(conv.id, ActivityKind::Reopened, None)
                .details(json!({"by": "contact"}));
            activities::record(&**tx, [line], conv.updated_at).await?;
        }
        Ok(conv)
    }

    async fn open_conversation(
        &self,
        tx: &WriteTx,
        env: &InboundEnvelope,
        identity: &contact_identity::Model,
        contact: &contact::Model,
    ) -> Result<conversation::Model, StoreError> {
        let inbox = inbox::Entity::find_by_id(env.inbox_id)
            .one(tx)
            .await?
            .ok_or_else(|| StoreError::Invalid(format!("inbox {} does not exist", env.inbox_id)))?;
        let routing = &inbox.routing;
        let now = Utc::now();
        let conv = conversation::ActiveModel {
            inbox_id: Set(env.inbox_id),
            contact_id: Set(contact.id),
            identity_id: Set(identity.id),
            status: Set(Status::Queued),
            priority: Set(routing
                .get("priority")
                .and_then(|p| p.as_i64())
                .unwrap_or(0) as i32),
            skills: Set(routing.get("skills").cloned().unwrap_or_else(|| json!({}))),
            assignee_id: Set(None),
            team_id: Set(None),
            last_seq: Set(0),
            subject: Set(env.thread.subject.clone()),
            token: Set(crate::token::random(20)),
            created_at: Set(now),
            updated_at: Set(now),
            last_message_at: Set(now),
            last_inbound_at: Set(Some(now)),
            queued_at: Set(Some(now)),
            resolved_at: Set(None),
            ..Default::default()
        }
        .insert(tx)
        .await?;
        let view = ConversationView::new(&conv, Some(contact));
        let created = EventData::ConversationCreated(NewConversation {
            conversation: view.clone(),
            external_id: Some(identity.external_id.clone()),
        });
        crate::events::emit_all(tx, [created, EventData::ConversationQueued(view)], now).await?;
        Ok(conv)
    }
}

#[async_trait]
impl InboundSink for Normalizer {
    async fn accept(&self, envelope: InboundEnvelope) -> Result<Accepted, IngestError> {
        self.ingest(envelope).await.map_err(|e| match e {
            StoreError::Invalid(r) => IngestError::Rejected(r),
            StoreError::NotFound(what) => IngestError::Rejected(format!("{what} not found")),
            other => {
                tracing::error!(error = %other, "Ingest failed; the provider will retry.");
                IngestError::Unavailable(other.to_string())
            }
        })
    }
}
