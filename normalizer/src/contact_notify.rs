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
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use crate::access::Visibility;
use crate::conversations::{NewMessage, append_message};
use crate::db::{Db, WriteTx};
use crate::entity::message;
use crate::entity::message::{DeliveryStatus, Direction, SenderType};
use crate::error::StoreError;
use crate::reach::{conversation_for, identity_inboxes, pick, reachable, survivor};
use crate::sanitize;

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
                sentiment: None,
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
