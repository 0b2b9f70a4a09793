//! Conversation operations: appending messages with the next `seq`, typed status changes,
//! agent replies, assignment, and the reads the API serves. Each write is one transaction that
//! also appends its outbox events.

use chrono::{DateTime, Utc};
use kefu_channel::{Attachment, Content};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde_json::json;

use crate::activities::{self, NewActivity};
use crate::db::{Db, WriteTx};
use crate::entity::conversation_activity::ActivityKind;
use crate::entity::conversation_summary::Occasion;
use crate::entity::message::{DeliveryStatus, Direction, SenderType};
use crate::entity::{agent, contact, contact_identity, conversation, message};
use crate::error::StoreError;
use crate::events::EventData;
use crate::sanitize;
use crate::status::{Status, Transition};
pub use crate::status_change::{set_status, set_status_with};
use crate::summaries::{self, SharedSummarizer};
use crate::views::{ContactMergedView, ContactView, ConversationView, MessageView};

/// A message about to be appended.
pub struct NewMessage {
    /// From the customer or to them.
    pub direction: Direction,
    /// A private note: never sent to the customer.
    pub private: bool,
    /// Who wrote it.
    pub sender_type: SenderType,
    /// The contact's or agent's id.
    pub sender_id: Option<i64>,
    /// The name shown with it.
    pub sender_name: Option<String>,
    /// Plain text (already sanitized).
    pub text: String,
    /// The full [`kefu_channel::Content`] as JSON.
    pub content: serde_json::Value,
    /// The provider's idempotency key for inbound messages.
    pub dedupe_key: Option<String>,
    /// The provider reference other messages may point at (email `Message-ID`).
    pub message_ref: Option<String>,
    /// Where its delivery starts.
    pub delivery_status: DeliveryStatus,
    /// `messages.fallback`: set on a copy sent through another channel
    /// ([`crate::fallback`]), `None` otherwise.
    pub fallback: Option<serde_json::Value>,
    /// The screen's sentiment score of an inbound message's text, stored on the conversation
    /// by the same statement that takes the next `seq`.
    pub sentiment: Option<f32>,
}

/// Appends a message with the conversation's next `seq`. The `UPDATE ... RETURNING` takes the
/// conversation's row lock until commit, so concurrent appends queue and `seq` has no gaps.
pub async fn append_message(
    tx: &WriteTx,
    conv: &conversation::Model,
    m: NewMessage,
    now: DateTime<Utc>,
) -> Result<message::Model, StoreError> {
    let mut bump = conversation::Entity::update_many()
        .col_expr(
            conversation::Column::LastSeq,
            Expr::col(conversation::Column::LastSeq).add(1),
        )
        .col_expr(conversation::Column::LastMessageAt, Expr::value(now))
        .col_expr(conversation::Column::UpdatedAt, Expr::value(now));
    if m.direction == Direction::Inbound {
        bump = bump.col_expr(conversation::Column::LastInboundAt, Expr::value(now));
    }
    if let Some(score) = m.sentiment {
        bump = bump.col_expr(
            conversation::Column::Sentiment,
            Expr::value(f64::from(score)),
        );
    }
    // What the view's delivery shows (outbound, not private), read once for both uses.
    let channel = if m.direction == Direction::Outbound && !m.private {
        tx.channel_type(conv.inbox_id).await?
    } else {
        None
    };
    // A reply in a channel Kefu delivers itself is sent once stored: no job, no provider.
    let sent_on_store = m.delivery_status == DeliveryStatus::Pending
        && crate::delivery::delivered_by_kefu(channel.as_deref());
    let (delivery_status, sent_at) = if sent_on_store {
        (DeliveryStatus::Sent, Some(now))
    } else {
        (m.delivery_status, None)
    };
    let updated = bump
        .filter(conversation::Column::Id.eq(conv.id))
        .exec_with_returning(tx)
        .await?
        .into_iter()
        .next()
        .ok_or(StoreError::NotFound("conversation"))?;
    let msg = message::ActiveModel {
        conversation_id: Set(conv.id),
        inbox_id: Set(conv.inbox_id),
        seq: Set(updated.last_seq),
        direction: Set(m.direction),
        private: Set(m.private),
        sender_type: Set(m.sender_type),
        sender_id: Set(m.sender_id),
        sender_name: Set(m.sender_name),
        text: Set(m.text),
        content: Set(m.content),
        dedupe_key: Set(m.dedupe_key),
        message_ref: Set(m.message_ref),
        delivery_status: Set(delivery_status),
        fallback: Set(m.fallback),
        delivery_error: Set(None),
        provider_ref: Set(None),
        sent_at: Set(sent_at),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(tx)
    .await?;
    let mut view = MessageView::from(&msg);
    if let Some(d) = view.delivery.as_mut() {
        d.channel = channel;
    }
    tx.emit(EventData::MessageCreated(view)).await?;
    Ok(msg)
}

/// Locks and loads a conversation inside a write transaction.
pub(crate) async fn lock(
    db: &Db,
    tx: &DatabaseTransaction,
    id: i64,
) -> Result<conversation::Model, StoreError> {
    let mut q = conversation::Entity::find_by_id(id);
    if db.is_postgres() {
        q = q.lock_exclusive();
    }
    q.one(tx).await?.ok_or(StoreError::NotFound("conversation"))
}

/// Who writes a reply.
#[derive(Debug, Clone)]
pub struct Author {
    /// Agent id.
    pub id: i64,
    /// Agent name.
    pub name: String,
}

/// The result of posting a reply.
#[derive(Debug, Clone)]
pub struct Posted {
    /// The stored message.
    pub message: MessageView,
    /// `false` when the same `client_id` had been posted before.
    pub created: bool,
}

/// Conversation reads and writes for the API, the dispatcher and realtime hubs.
#[derive(Clone)]
pub struct Conversations {
    pub(crate) db: Db,
    limits: sanitize::Limits,
    summarizer: Option<SharedSummarizer>,
}

impl Conversations {
    /// Operations on `db`.
    pub fn new(db: Db, limits: sanitize::Limits) -> Self {
        Self {
            db,
            limits,
            summarizer: None,
        }
    }

    /// Writes a summary whenever a conversation is resolved (without one, none is written).
    pub fn with_summarizer(mut self, summarizer: SharedSummarizer) -> Self {
        self.summarizer = Some(summarizer);
        self
    }

    /// One conversation.
    pub async fn get(&self, id: i64) -> Result<ConversationView, StoreError> {
        let conv = conversation::Entity::find_by_id(id)
            .one(self.db.conn())
            .await?
            .ok_or(StoreError::NotFound("conversation"))?;
        let contact = contact::Entity::find_by_id(conv.contact_id)
            .one(self.db.conn())
            .await?;
        Ok(ConversationView::new(&conv, contact.as_ref()))
    }

    /// The database, for the list and read-marker reads in sibling modules.
    pub(crate) fn db(&self) -> &Db {
        &self.db
    }

    /// Messages with `seq > after_seq`, in order.
    pub async fn messages(
        &self,
        id: i64,
        after_seq: i64,
        limit: u64,
    ) -> Result<Vec<MessageView>, StoreError> {
        // Also 404 for a conversation that does not exist.
        let inbox = self.inbox_of(id).await?;
        let channel = self.db.channel_type(inbox).await?;
        let rows = message::Entity::find()
            .filter(message::Column::ConversationId.eq(id))
            .filter(message::Column::Seq.gt(after_seq))
            .order_by_asc(message::Column::Seq)
            .limit(limit)
            .all(self.db.conn())
            .await?;
        Ok(rows
            .iter()
            .map(|m| {
                let mut v = MessageView::from(m);
                if let Some(d) = v.delivery.as_mut() {
                    d.channel = channel.clone();
                }
                v
            })
            .collect())
    }

    async fn inbox_of(&self, id: i64) -> Result<i64, StoreError> {
        conversation::Entity::find_by_id(id)
            .select_only()
            .column(conversation::Column::InboxId)
            .into_tuple::<i64>()
            .one(self.db.conn())
            .await?
            .ok_or(StoreError::NotFound("conversation"))
    }

    /// Posts an agent reply or private note, with stored files (see [`crate::Files`]) attached.
    /// With a `client_id`, posting the same id again returns the first message instead of
    /// storing a second one.
    pub async fn reply(
        &self,
        id: i64,
        author: &Author,
        text: &str,
        attachments: &[Attachment],
        client_id: Option<&str>,
        private: bool,
    ) -> Result<Posted, StoreError> {
        let text = sanitize::text(text, self.limits.max_text_bytes);
        if text.trim().is_empty() && attachments.is_empty() {
            return Err(StoreError::Invalid(
                "a reply needs text or an attachment".into(),
            ));
        }
        let content = if attachments.is_empty() {
            json!({})
        } else {
            let metadata: Vec<Attachment> = attachments
                .iter()
                .map(|a| Attachment {
                    data: None,
                    ..a.clone()
                })
                .collect();
            serde_json::to_value(Content {
                attachments: metadata,
                ..Content::default()
            })
            .unwrap_or_default()
        };
        if client_id.is_some_and(|c| c.is_empty() || c.len() > 128) {
            return Err(StoreError::Invalid(
                "client_id must be 1 to 128 characters".into(),
            ));
        }
        let tx = self.db.begin_write().await?;
        let conv = lock(&self.db, &tx, id).await?;
        let dedupe_key = client_id.map(|c| crate::views::reply_key(id, c));
        if let Some(key) = &dedupe_key {
            let prev = message::Entity::find()
                .filter(message::Column::InboxId.eq(conv.inbox_id))
                .filter(message::Column::DedupeKey.eq(key.as_str()))
                .one(&tx)
                .await?;
            if let Some(m) = prev {
                return Ok(Posted {
                    message: MessageView::from(&m),
                    created: false,
                });
            }
        }
        if conv.status == Status::Closed && !private {
            return Err(StoreError::Invalid(
                "this conversation is closed; replies are no longer possible".into(),
            ));
        }
        let msg = append_message(
            &tx,
            &conv,
            NewMessage {
                direction: Direction::Outbound,
                private,
                sender_type: SenderType::Agent,
                sender_id: Some(author.id),
                sender_name: Some(author.name.clone()),
                text,
                content,
                dedupe_key,
                message_ref: None,
                delivery_status: if private {
                    DeliveryStatus::Sent
                } else {
                    DeliveryStatus::Pending
                },
                fallback: None,
                sentiment: None,
            },
            Utc::now(),
        )
        .await?;
        let message = MessageView::from(&msg)
            .with_channel(&tx, msg.inbox_id)
            .await?;
        tx.commit().await?;
        Ok(Posted {
            message,
            created: true,
        })
    }

    /// Applies a status transition (resolve, reopen, requeue...) on agent `by`'s behalf;
    /// resolving and reopening add a line to the conversation's timeline. Resolving writes a
    /// summary (with a summarizer), which the event, the line and the answer carry.
    pub async fn transition(
        &self,
        id: i64,
        t: Transition,
        by: Option<i64>,
    ) -> Result<ConversationView, StoreError> {
        let tx = self.db.begin_write().await?;
        let conv = lock(&self.db, &tx, id).await?;
        let next = conv.status.apply(t)?;
        let summary = match (t, &self.summarizer) {
            (Transition::Resolve, Some(s)) => {
                let at = Utc::now();
                Some(summaries::write(&*tx, s.as_ref(), &conv, Occasion::Resolved, at).await?)
            }
            _ => None,
        };
        let conv = set_status_with(&tx, conv, next, t, None, summary.as_ref()).await?;
        let line = match t {
            Transition::Resolve => Some(
                NewActivity::new(id, ActivityKind::Resolved, by)
                    .details(activities::with_summary(json!({}), summary.as_ref())),
            ),
            Transition::Reopen => Some(
                NewActivity::new(id, ActivityKind::Reopened, by).details(json!({"by": "agent"})),
            ),
            _ => None,
        };
        activities::record(&*tx, line, conv.updated_at).await?;
        let contact = contact::Entity::find_by_id(conv.contact_id)
            .one(&tx)
            .await?;
        tx.commit().await?;
        let mut view = ConversationView::new(&conv, contact.as_ref());
        view.summary = summary;
        Ok(view)
    }

    /// Assigns the conversation to an agent.
    pub async fn assign(&self, id: i64, agent_id: i64) -> Result<ConversationView, StoreError> {
        let tx = self.db.begin_write().await?;
        let agent = agent::Entity::find_by_id(agent_id)
            .filter(agent::Column::DeletedAt.is_null())
            .one(&tx)
            .await?
            .ok_or(StoreError::NotFound("agent"))?;
        let conv = lock(&self.db, &tx, id).await?;
        let next = conv.status.apply(Transition::Assign)?;
        let now = Utc::now();
        let mut am: conversation::ActiveModel = conv.into();
        am.assignee_id = Set(Some(agent.id));
        let conv = am.update(&tx).await?;
        let conv = set_status(&tx, conv, next, Transition::Assign, None).await?;
        agent::Entity::update_many()
            .col_expr(agent::Column::LastAssignedAt, Expr::value(now))
            .filter(agent::Column::Id.eq(agent.id))
            .exec(&tx)
            .await?;
        let contact = contact::Entity::find_by_id(conv.contact_id)
            .one(&tx)
            .await?;
        tx.commit().await?;
        Ok(ConversationView::new(&conv, contact.as_ref()))
    }

    /// A contact with its identities.
    pub async fn contact(&self, id: i64) -> Result<ContactView, StoreError> {
        contact_view(self.db.conn(), id).await
    }

    /// Merges `other_id` into `id`: identities, conversations and labels move over, attributes are
    /// combined (the surviving contact's values win), and `other` points at `id` from then on.
    pub async fn merge_contacts(&self, id: i64, other_id: i64) -> Result<ContactView, StoreError> {
        if id == other_id {
            return Err(StoreError::Invalid(
                "a contact cannot be merged into itself".into(),
            ));
        }
        let tx = self.db.begin_write().await?;
        let keep = contact::Entity::find_by_id(id)
            .one(&tx)
            .await?
            .ok_or(StoreError::NotFound("contact"))?;
        let other = contact::Entity::find_by_id(other_id)
            .one(&tx)
            .await?
            .ok_or(StoreError::NotFound("contact"))?;
        if keep.merged_into_id.is_some() || other.merged_into_id.is_some() {
            return Err(StoreError::Conflict(
                "one of these contacts was already merged into another".into(),
            ));
        }
        contact_identity::Entity::update_many()
            .col_expr(contact_identity::Column::ContactId, Expr::value(id))
            .filter(contact_identity::Column::ContactId.eq(other_id))
            .exec(&tx)
            .await?;
        conversation::Entity::update_many()
            .col_expr(conversation::Column::ContactId, Expr::value(id))
            .filter(conversation::Column::ContactId.eq(other_id))
            .exec(&tx)
            .await?;
        crate::labels::merge_contacts(&tx, id, other_id).await?;
        let mut attrs = other.attributes.as_object().cloned().unwrap_or_default();
        attrs.extend(keep.attributes.as_object().cloned().unwrap_or_default());
        let now = Utc::now();
        let mut am: contact::ActiveModel = keep.clone().into();
        am.attributes = Set(serde_json::Value::Object(attrs));
        am.name = Set(keep.name.clone().or(other.name.clone()));
        am.email = Set(keep.email.clone().or(other.email.clone()));
        am.phone = Set(keep.phone.clone().or(other.phone.clone()));
        am.updated_at = Set(now);
        am.update(&tx).await?;
        let mut am: contact::ActiveModel = other.into();
        am.merged_into_id = Set(Some(id));
        am.updated_at = Set(now);
        am.update(&tx).await?;
        let view = contact_view(&tx, id).await?;
        tx.emit(EventData::ContactMerged(ContactMergedView {
            contact: view.clone(),
            merged_id: other_id,
        }))
        .await?;
        tx.commit().await?;
        Ok(view)
    }
}

/// A contact with its identities, read through `db`.
pub(crate) async fn contact_view<C: ConnectionTrait>(
    db: &C,
    id: i64,
) -> Result<ContactView, StoreError> {
    let c = contact::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound("contact"))?;
    let identities = contact_identity::Entity::find()
        .filter(contact_identity::Column::ContactId.eq(id))
        .order_by_asc(contact_identity::Column::Id)
        .all(db)
        .await?;
    Ok(ContactView::new(&c, &identities))
}
