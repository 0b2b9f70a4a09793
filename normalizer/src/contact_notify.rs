//! [`ContactNotifier`]: proactive notifications to a contact (`POST /contacts/{id}/notifications`).
//!
//! A notification is an outbound **system** message with delivery `pending`, stored in one of
//! the contact's conversations; the delivery pipeline (outbox → fanout → send job) then sends
//! and tracks it like any agent reply. Nothing is sent from here.
//!
//! Which identity it goes through:
//! - with `channels`, the first of the contact's identities, in the order of that list, whose
//!   inbox is of a listed channel type (among several of one type, the most recently active);
//! - otherwise the identity the customer wrote through most recently (the latest
//!   `last_inbound_at` of their conversations), or the newest identity when they never wrote.
//!
//! A contact merged into another is followed to the survivor, which owns its identities and
//! conversations since the merge. Identities of deleted inboxes are not reachable, nor, for an
//! agent or supervisor, those of inboxes they do not belong to: they reach a contact only
//! through the inboxes they work in.
//!
//! The message goes into the identity's open conversation, or a new one. The idempotency key
//! is stored as the message's `dedupe_key` (`notification:<contact_id>:<key>`): a repeated key
//! answers the first message's ids, and two requests racing with one key meet at the unique
//! index `(inbox_id, dedupe_key)`; the loser retries and finds the winner's message.

use std::collections::BTreeSet;

use chrono::Utc;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;

use crate::access::Visibility;
use crate::conversations::{NewMessage, append_message};
use crate::db::{Db, WriteTx};
use crate::entity::message::{DeliveryStatus, Direction, SenderType};
use crate::entity::{contact, contact_identity, conversation, inbox, message};
use crate::error::StoreError;
use crate::events::{EventData, NewConversation};
use crate::sanitize;
use crate::status::Status;
use crate::views::ConversationView;

/// The longest idempotency key, in characters.
pub const MAX_KEY_CHARS: usize = 200;

/// How often a transaction that lost a race (unique index, deadlock) is tried again.
const MAX_ATTEMPTS: u32 = 3;

/// A notification to send.
#[derive(Debug, Clone, Default)]
pub struct NewNotification {
    /// The text.
    pub text: String,
    /// Channel types to try, in order; `None` for the identity the customer used last.
    pub channels: Option<Vec<String>>,
    /// The caller's key: the same key for the same contact never sends twice.
    pub idempotency_key: String,
}

/// A stored notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Notified {
    /// The system message.
    pub message_id: i64,
    /// Its conversation.
    pub conversation_id: i64,
    /// `false` when the key had been used before and these are the first message's ids.
    pub created: bool,
}

/// Why a notification was refused.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// A field is missing or invalid.
    #[error("{detail}")]
    Invalid {
        /// The field (`text`, `idempotency_key`, `channels[1]`).
        field: String,
        /// Machine-readable reason.
        code: &'static str,
        /// A sentence.
        detail: String,
    },
    /// The contact has no identity in a live inbox (of a listed channel type).
    #[error("{0}")]
    NoReachableIdentity(String),
    /// The store failed, or the contact does not exist.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Stores proactive notifications.
#[derive(Debug, Clone)]
pub struct ContactNotifier {
    db: Db,
    limits: sanitize::Limits,
}

/// An identity and its inbox's channel type.
pub(crate) struct Reachable {
    pub(crate) identity: contact_identity::Model,
    pub(crate) channel_type: String,
}

impl ContactNotifier {
    /// Notifications over `db`; texts longer than `limits.max_text_bytes` are refused.
    pub fn new(db: Db, limits: sanitize::Limits) -> Self {
        Self { db, limits }
    }

    /// Checks `n` (the channel types against `known`) and stores it for contact `contact_id`
    /// through an identity in an inbox `caller` belongs to (admins: any), or returns the
    /// message an earlier call with the same key stored.
    pub async fn notify(
        &self,
        contact_id: i64,
        n: &NewNotification,
        caller: &Visibility,
        known: impl Fn(&str) -> bool,
    ) -> Result<Notified, NotifyError> {
        let within = match caller {
            Visibility::All => None,
            Visibility::Member { inboxes, .. } => Some(inboxes),
        };
        let text = self.check(n, known)?;
        let key = format!("notification:{contact_id}:{}", n.idempotency_key);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let tx = self.db.begin_write().await.map_err(StoreError::from)?;
            match self
                .notify_in(&tx, contact_id, n, within, &text, &key)
                .await
            {
                Ok(done) => {
                    if done.created {
                        tx.commit().await.map_err(StoreError::from)?;
                    } else {
                        tx.rollback().await.map_err(StoreError::from)?;
                    }
                    return Ok(done);
                }
                Err(NotifyError::Store(e)) if e.is_retryable() && attempt < MAX_ATTEMPTS => {
                    tx.rollback().await.map_err(StoreError::from)?;
                    tracing::debug!(attempt, error = %e, "A notification lost a race; retrying.");
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The sanitized text, once every field is acceptable.
    fn check(
        &self,
        n: &NewNotification,
        known: impl Fn(&str) -> bool,
    ) -> Result<String, NotifyError> {
        let invalid = |field: &str, code, detail: String| NotifyError::Invalid {
            field: field.to_owned(),
            code,
            detail,
        };
        let key_chars = n.idempotency_key.chars().count();
        if key_chars == 0 {
            return Err(invalid(
                "idempotency_key",
                "missing_idempotency_key",
                "idempotency_key is required: a key of your choice (1 to 200 characters) that \
                 makes a retried request send nothing twice"
                    .into(),
            ));
        }
        if key_chars > MAX_KEY_CHARS || n.idempotency_key.contains(char::is_control) {
            return Err(invalid(
                "idempotency_key",
                "invalid_idempotency_key",
                format!(
                    "idempotency_key must be 1 to {MAX_KEY_CHARS} characters without control \
                     characters"
                ),
            ));
        }
        let text = sanitize::text(&n.text, usize::MAX);
        if text.trim().is_empty() {
            return Err(invalid(
                "text",
                "empty_text",
                "text is required: the notification needs something to say".into(),
            ));
        }
        if text.len() > self.limits.max_text_bytes {
            return Err(invalid(
                "text",
                "text_too_long",
                format!(
                    "text is {} bytes; a message may be at most {} bytes",
                    text.len(),
                    self.limits.max_text_bytes
                ),
            ));
        }
        if let Some(channels) = &n.channels {
            if channels.is_empty() {
                return Err(invalid(
                    "channels",
                    "invalid_channels",
                    "channels must name at least one channel type, or be left out for the one \
                     the customer used last"
                        .into(),
                ));
            }
            if let Some((i, c)) = channels.iter().enumerate().find(|(_, c)| !known(c)) {
                return Err(invalid(
                    &format!("channels[{i}]"),
                    "unknown_channel_type",
                    format!("{c:?} is not a channel type of this server"),
                ));
            }
        }
        Ok(text)
    }

    async fn notify_in(
        &self,
        tx: &WriteTx,
        contact_id: i64,
        n: &NewNotification,
        within: Option<&BTreeSet<i64>>,
        text: &str,
        key: &str,
    ) -> Result<Notified, NotifyError> {
        let contact = survivor(tx, contact_id).await?;
        let mut reachable = reachable(tx, contact.id).await?;
        if let Some(inboxes) = within {
            reachable.retain(|r| inboxes.contains(&r.identity.inbox_id));
        }
        // A key used before answers the first message, whichever inbox it went through.
        let inbox_ids: Vec<i64> = identity_inboxes(tx, contact.id).await?;
        let prev = message::Entity::find()
            .filter(message::Column::InboxId.is_in(inbox_ids))
            .filter(message::Column::DedupeKey.eq(key))
            .one(&**tx)
            .await
            .map_err(StoreError::from)?;
        if let Some(m) = prev {
            return Ok(Notified {
                message_id: m.id,
                conversation_id: m.conversation_id,
                created: false,
            });
        }
        let chosen = pick(&reachable, n.channels.as_deref()).ok_or_else(|| {
            let yours = if within.is_some() {
                " you belong to"
            } else {
                ""
            };
            NotifyError::NoReachableIdentity(match &n.channels {
                Some(c) => format!(
                    "contact {contact_id} has no identity in a live inbox{yours} of type {}",
                    c.join(", ")
                ),
                None => format!("contact {contact_id} has no identity in a live inbox{yours}"),
            })
        })?;
        let conv = conversation_for(&self.db, tx, &chosen.identity, &contact).await?;
        let msg = append_message(
            tx,
            &conv,
            NewMessage {
                direction: Direction::Outbound,
                private: false,
                sender_type: SenderType::System,
                sender_id: None,
                sender_name: None,
                text: text.to_owned(),
                content: json!({}),
                dedupe_key: Some(key.to_owned()),
                message_ref: None,
                delivery_status: DeliveryStatus::Pending,
                fallback: None,
            },
            Utc::now(),
        )
        .await?;
        metrics::counter!("kefu_contact_notifications_total", "channel" => chosen.channel_type.clone())
            .increment(1);
        Ok(Notified {
            message_id: msg.id,
            conversation_id: conv.id,
            created: true,
        })
    }
}

/// The open conversation of `identity` (locked), or a new one, for a message Kefu starts.
pub(crate) async fn conversation_for(
    db: &Db,
    tx: &WriteTx,
    identity: &contact_identity::Model,
    contact: &contact::Model,
) -> Result<conversation::Model, StoreError> {
    if db.is_postgres() {
        // As ingest does: one writer per customer identity, so two notifications (or a
        // notification and the customer's message) cannot open two conversations.
        contact_identity::Entity::find_by_id(identity.id)
            .lock_exclusive()
            .one(&**tx)
            .await?;
    }
    let open = conversation::Entity::find()
        .filter(conversation::Column::IdentityId.eq(identity.id))
        .filter(conversation::Column::Status.is_not_in([Status::Resolved, Status::Closed]))
        .order_by_desc(conversation::Column::Id)
        .one(&**tx)
        .await?;
    match open {
        Some(c) => crate::conversations::lock(db, tx, c.id).await,
        None => open_conversation(tx, identity, contact).await,
    }
}

/// The contact `id`, or the one it was merged into (following merges to the end).
pub(crate) async fn survivor(tx: &WriteTx, id: i64) -> Result<contact::Model, StoreError> {
    let mut c = contact::Entity::find_by_id(id)
        .one(&**tx)
        .await?
        .ok_or(StoreError::NotFound("contact"))?;
    // Merges form a chain without cycles; the bound guards against a corrupted one.
    for _ in 0..32 {
        let Some(into) = c.merged_into_id else {
            return Ok(c);
        };
        c = contact::Entity::find_by_id(into)
            .one(&**tx)
            .await?
            .ok_or(StoreError::NotFound("contact"))?;
    }
    Err(StoreError::NotFound("contact"))
}

/// Every inbox the contact has an identity in, deleted ones included (earlier notifications
/// may have gone through them).
pub(crate) async fn identity_inboxes(
    tx: &WriteTx,
    contact_id: i64,
) -> Result<Vec<i64>, StoreError> {
    Ok(contact_identity::Entity::find()
        .select_only()
        .column(contact_identity::Column::InboxId)
        .filter(contact_identity::Column::ContactId.eq(contact_id))
        .into_tuple::<i64>()
        .all(&**tx)
        .await?)
}

/// The contact's identities in live inboxes, most recently active first: those the customer
/// wrote through, by their latest message, then the others, newest first.
pub(crate) async fn reachable(tx: &WriteTx, contact_id: i64) -> Result<Vec<Reachable>, StoreError> {
    let identities = contact_identity::Entity::find()
        .filter(contact_identity::Column::ContactId.eq(contact_id))
        .order_by_desc(contact_identity::Column::Id)
        .all(&**tx)
        .await?;
    let inbox_ids: Vec<i64> = identities.iter().map(|i| i.inbox_id).collect();
    let live: Vec<(i64, String)> = inbox::Entity::find()
        .select_only()
        .column(inbox::Column::Id)
        .column(inbox::Column::ChannelType)
        .filter(inbox::Column::Id.is_in(inbox_ids))
        .filter(inbox::Column::DeletedAt.is_null())
        .into_tuple()
        .all(&**tx)
        .await?;
    let active: Vec<i64> = conversation::Entity::find()
        .select_only()
        .column(conversation::Column::IdentityId)
        .filter(conversation::Column::ContactId.eq(contact_id))
        .filter(conversation::Column::LastInboundAt.is_not_null())
        .order_by_desc(conversation::Column::LastInboundAt)
        .order_by_desc(conversation::Column::Id)
        .into_tuple()
        .all(&**tx)
        .await?;
    let rank = |id: i64| active.iter().position(|a| *a == id).unwrap_or(usize::MAX);
    let mut out: Vec<Reachable> = identities
        .into_iter()
        .filter_map(|identity| {
            let (_, kind) = live.iter().find(|(id, _)| *id == identity.inbox_id)?;
            Some(Reachable {
                channel_type: kind.clone(),
                identity,
            })
        })
        .collect();
    // Stable: identities never written through keep newest-first order.
    out.sort_by_key(|r| rank(r.identity.id));
    Ok(out)
}

/// The identity to use: the first of `reachable` (most recently active first) of the first
/// listed channel type that has one, or simply the first without a list.
pub(crate) fn pick<'a>(
    reachable: &'a [Reachable],
    channels: Option<&[String]>,
) -> Option<&'a Reachable> {
    match channels {
        None => reachable.first(),
        Some(types) => types
            .iter()
            .find_map(|t| reachable.iter().find(|r| &r.channel_type == t)),
    }
}

/// A new conversation for a notification to `identity`.
///
/// It starts `queued`, the one status the state machine opens a conversation in: the
/// customer's reply then lands in it (ingest continues the identity's open conversation) and
/// reaches the agents through the queue, like a first message. A `resolved` conversation
/// would keep the queue clear, but a reply through a channel without threading (WeChat, the
/// app) would open another conversation, without the notification above it.
async fn open_conversation(
    tx: &WriteTx,
    identity: &contact_identity::Model,
    contact: &contact::Model,
) -> Result<conversation::Model, StoreError> {
    use sea_orm::{ActiveModelTrait, Set};
    let inbox = inbox::Entity::find_by_id(identity.inbox_id)
        .one(&**tx)
        .await?
        .ok_or(StoreError::NotFound("inbox"))?;
    let routing = &inbox.routing;
    let now = Utc::now();
    let conv = conversation::ActiveModel {
        inbox_id: Set(identity.inbox_id),
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
        subject: Set(None),
        token: Set(crate::token::random(20)),
        created_at: Set(now),
        updated_at: Set(now),
        last_message_at: Set(now),
        last_inbound_at: Set(None),
        queued_at: Set(Some(now)),
        resolved_at: Set(None),
        ..Default::default()
    }
    .insert(&**tx)
    .await?;
    let view = ConversationView::new(&conv, Some(contact));
    let created = EventData::ConversationCreated(NewConversation {
        conversation: view.clone(),
        external_id: Some(identity.external_id.clone()),
    });
    crate::events::emit_all(tx, [created, EventData::ConversationQueued(view)], now).await?;
    Ok(conv)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reach(id: i64, kind: &str) -> Reachable {
        Reachable {
            identity: contact_identity::Model {
                id,
                contact_id: 1,
                inbox_id: id * 10,
                external_id: format!("ext-{id}"),
                display_name: None,
                created_at: Utc::now(),
            },
            channel_type: kind.into(),
        }
    }

    #[test]
    fn the_list_order_decides_then_activity() {
        // Most recently active first, as `reachable` sorts them.
        let all = [
            reach(3, "web_chat"),
            reach(1, "email"),
            reach(2, "web_chat"),
        ];
        let picked = |c: Option<&[&str]>| {
            let owned: Option<Vec<String>> = c.map(|c| c.iter().map(|s| s.to_string()).collect());
            pick(&all, owned.as_deref()).map(|r| r.identity.id)
        };
        assert_eq!(picked(None), Some(3));
        assert_eq!(picked(Some(&["email", "web_chat"])), Some(1));
        assert_eq!(picked(Some(&["web_chat", "email"])), Some(3));
        assert_eq!(picked(Some(&["wechat", "email"])), Some(1));
        assert_eq!(picked(Some(&["wechat"])), None);
        assert_eq!(pick(&[], None).map(|r| r.identity.id), None);
    }
}
