//! The ingest pipeline: one [`InboundEnvelope`] → one transaction that resolves the contact,
//! threads the message into a conversation, assigns the next `seq`, stores it, skips
//! duplicates and appends outbox events.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Utc;
use kefu_channel::{Accepted, InboundEnvelope, InboundSink, IngestError};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde_json::json;
use tokio::sync::Notify;

use crate::conversations::{self, NewMessage};
use crate::db::Db;
use crate::entity::{contact, contact_identity, conversation, inbox, message};
use crate::error::StoreError;
use crate::events;
use crate::sanitize::{self, Limits};
use crate::status::{Status, Transition};
use crate::views::{ContactView, ConversationView};

/// How many times a transaction that lost a race on a unique index is retried. The retry finds
/// the winner's row (identity, dedupe key), so one retry normally suffices.
const MAX_ATTEMPTS: usize = 4;

/// Stores inbound envelopes. Implements [`InboundSink`] for channel adapters.
#[derive(Clone)]
pub struct Normalizer {
    db: Db,
    wake: Arc<Notify>,
    limits: Limits,
}

impl Normalizer {
    /// A normalizer writing to `db` and waking the outbox relay through `wake` after commits.
    pub fn new(db: Db, wake: Arc<Notify>, limits: Limits) -> Self {
        Self { db, wake, limits }
    }

    /// Stores one envelope; returns the stored message (or the one stored before under the same
    /// dedupe key).
    #[tracing::instrument(skip_all, fields(inbox = envelope.inbox_id))]
    pub async fn ingest(&self, envelope: InboundEnvelope) -> Result<Accepted, StoreError> {
        let started = std::time::Instant::now();
        let envelope = sanitize::envelope(envelope, &self.limits)?;
        let mut attempt = 0;
        let result = loop {
            attempt += 1;
            let tx = self.db.begin_write().await?;
            match self.ingest_in(&tx, &envelope).await {
                Ok(accepted) => {
                    tx.commit().await?;
                    break Ok(accepted);
                }
                Err(e) if e.is_unique_violation() && attempt < MAX_ATTEMPTS => {
                    tx.rollback().await?;
                    tracing::debug!(attempt, "Ingest lost a race on a unique index; retrying.");
                }
                Err(e) => break Err(e),
            }
        };
        if let Ok(a) = &result {
            if !a.duplicate {
                self.wake.notify_one();
            }
            metrics::counter!("kefu_ingest_messages_total", "duplicate" => a.duplicate.to_string())
                .increment(1);
            metrics::histogram!("kefu_ingest_duration_seconds")
                .record(started.elapsed().as_secs_f64());
        }
        result
    }

    async fn ingest_in(
        &self,
        tx: &DatabaseTransaction,
        env: &InboundEnvelope,
    ) -> Result<Accepted, StoreError> {
        if let Some(key) = &env.dedupe_key {
            let prev = message::Entity::find()
                .filter(message::Column::InboxId.eq(env.inbox_id))
                .filter(message::Column::DedupeKey.eq(key.as_str()))
                .one(tx)
                .await?;
            if let Some(m) = prev {
                return Ok(Accepted {
                    message_id: m.id,
                    conversation_id: m.conversation_id,
                    seq: m.seq,
                    duplicate: true,
                });
            }
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
                direction: "inbound",
                private: false,
                sender_type: "contact",
                sender_id: Some(contact.id),
                sender_name: contact
                    .name
                    .clone()
                    .or_else(|| identity.display_name.clone()),
                text: env.content.text.clone(),
                content: serde_json::to_value(&stored_content).unwrap_or_default(),
                dedupe_key: env.dedupe_key.clone(),
                message_ref: env.thread.message_ref.clone(),
                delivery_status: "delivered",
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

    async fn resolve_identity(
        &self,
        tx: &DatabaseTransaction,
        env: &InboundEnvelope,
    ) -> Result<(contact_identity::Model, contact::Model), StoreError> {
        let mut q = contact_identity::Entity::find()
            .filter(contact_identity::Column::InboxId.eq(env.inbox_id))
            .filter(contact_identity::Column::ExternalId.eq(env.sender.external_id.as_str()));
        if self.db.is_postgres() {
            // Serializes ingest per customer, so two first messages cannot open two conversations.
            q = q.lock_exclusive();
        }
        if let Some(identity) = q.one(tx).await? {
            let mut contact = contact::Entity::find_by_id(identity.contact_id)
                .one(tx)
                .await?
                .ok_or(StoreError::NotFound("contact"))?;
            // Follow merges: messages land on the surviving contact.
            while let Some(into) = contact.merged_into_id {
                contact = contact::Entity::find_by_id(into)
                    .one(tx)
                    .await?
                    .ok_or(StoreError::NotFound("contact"))?;
            }
            let contact = self.refresh_contact(tx, contact, env).await?;
            return Ok((identity, contact));
        }
        inbox::Entity::find_by_id(env.inbox_id)
            .filter(inbox::Column::DeletedAt.is_null())
            .one(tx)
            .await?
            .ok_or_else(|| StoreError::Invalid(format!("inbox {} does not exist", env.inbox_id)))?;
        let now = Utc::now();
        let s = &env.sender;
        let contact = contact::ActiveModel {
            name: Set(s.display_name.clone()),
            email: Set(s.email.clone()),
            phone: Set(s.phone.clone()),
            attributes: Set(serde_json::Value::Object(s.attributes.clone())),
            merged_into_id: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(tx)
        .await?;
        let identity = contact_identity::ActiveModel {
            contact_id: Set(contact.id),
            inbox_id: Set(env.inbox_id),
            external_id: Set(s.external_id.clone()),
            display_name: Set(s.display_name.clone()),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(tx)
        .await?;
        let view = ContactView::new(&contact, std::slice::from_ref(&identity));
        events::append(tx, "contact.created", None, json!(view)).await?;
        Ok((identity, contact))
    }

    /// Fills in what the channel newly tells about the contact (name, email, attributes).
    async fn refresh_contact(
        &self,
        tx: &DatabaseTransaction,
        contact: contact::Model,
        env: &InboundEnvelope,
    ) -> Result<contact::Model, StoreError> {
        let s = &env.sender;
        let mut attrs = contact.attributes.as_object().cloned().unwrap_or_default();
        let mut changed = false;
        for (k, v) in &s.attributes {
            if attrs.get(k) != Some(v) {
                attrs.insert(k.clone(), v.clone());
                changed = true;
            }
        }
        let name = contact.name.clone().or_else(|| s.display_name.clone());
        let email = contact.email.clone().or_else(|| s.email.clone());
        changed |= name != contact.name || email != contact.email;
        if !changed {
            return Ok(contact);
        }
        let mut am: contact::ActiveModel = contact.into();
        am.attributes = Set(serde_json::Value::Object(attrs));
        am.name = Set(name);
        am.email = Set(email);
        am.updated_at = Set(Utc::now());
        Ok(am.update(tx).await?)
    }

    async fn find_conversation(
        &self,
        tx: &DatabaseTransaction,
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
            if let Some(c) = found.filter(|c| c.status != Status::Closed.as_str()) {
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
                if let Some(c) = c.filter(|c| c.status != Status::Closed.as_str()) {
                    return Ok(Some(c));
                }
            }
        }
        if hints.new_conversation {
            return Ok(None);
        }
        Ok(conversation::Entity::find()
            .filter(conversation::Column::IdentityId.eq(identity.id))
            .filter(
                conversation::Column::Status
                    .is_not_in([Status::Resolved.as_str(), Status::Closed.as_str()]),
            )
            .order_by_desc(conversation::Column::Id)
            .one(tx)
            .await?)
    }

    async fn continue_conversation(
        &self,
        tx: &DatabaseTransaction,
        conv: conversation::Model,
        contact: &contact::Model,
    ) -> Result<conversation::Model, StoreError> {
        let status: Status = conv.status.parse().map_err(StoreError::Invalid)?;
        let transition = if status == Status::Resolved {
            Transition::Reopen
        } else {
            Transition::CustomerReplied
        };
        let next = status.apply(transition)?;
        if next == status {
            return Ok(conv);
        }
        conversations::set_status(tx, conv, next, transition, Some(contact)).await
    }

    async fn open_conversation(
        &self,
        tx: &DatabaseTransaction,
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
            status: Set(Status::Queued.as_str().to_owned()),
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
        let view = json!(ConversationView::new(&conv, Some(contact)));
        events::append(tx, "conversation.created", Some(conv.id), view.clone()).await?;
        events::append(tx, "conversation.queued", Some(conv.id), view).await?;
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
