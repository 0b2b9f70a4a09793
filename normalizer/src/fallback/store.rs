//! [`Fallbacks`]: sends a failed reply's copy through the contact's next channel.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use super::unseen::{EMAIL, UNSEEN, UNSEEN_REASON, email_identity};
use super::{FallbackLink, FallbackSettings, Stored, fallback_code};
use crate::conversations::{NewMessage, append_message, lock};
use crate::db::Db;
use crate::entity::message::{DeliveryStatus, Direction};
use crate::entity::{conversation, inbox, message};
use crate::error::StoreError;
use crate::events::EventData;
use crate::reach::{conversation_for, identity_inboxes, pick, reachable, survivor};
use crate::views::MessageView;

/// How often a transaction that lost a race (unique index, deadlock) is tried again.
const MAX_ATTEMPTS: u32 = 3;

/// Why a reply is sent another way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cause {
    /// Its delivery failed for a reason another channel can overcome.
    Failed,
    /// It was delivered to a web chat the visitor had left, and stayed unseen.
    Unseen,
}

/// A copy sent another way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FellBack {
    /// The failed message.
    pub failed_id: i64,
    /// The copy, waiting for delivery.
    pub message_id: i64,
    /// The copy's conversation.
    pub conversation_id: i64,
    /// The copy's channel type.
    pub channel: String,
}

/// Channel fallback over one database.
#[derive(Debug, Clone)]
pub struct Fallbacks {
    db: Db,
}

impl Fallbacks {
    /// Fallbacks on `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    pub(super) fn db(&self) -> &Db {
        &self.db
    }

    /// Sends a copy of failed message `message_id` through the contact's next channel, when
    /// its failure is one another channel can overcome and its inbox has fallback on. `None`
    /// when nothing was to be done (or no other channel reaches the contact). Calling it again
    /// for the same message finds the first copy and sends nothing more.
    pub async fn fall_back(&self, message_id: i64) -> Result<Option<FellBack>, StoreError> {
        self.fall_back_for(message_id, Cause::Failed).await
    }

    /// [`Fallbacks::fall_back`] for a reply that failed, or one the visitor never saw.
    pub(super) async fn fall_back_for(
        &self,
        message_id: i64,
        cause: Cause,
    ) -> Result<Option<FellBack>, StoreError> {
        let mut attempt = 0;
        let copy = loop {
            attempt += 1;
            match self.copy(message_id, cause).await {
                Err(e) if e.is_retryable() && attempt < MAX_ATTEMPTS => {
                    tracing::debug!(attempt, error = %e, "A fallback lost a race; retrying.");
                }
                other => break other?,
            }
        };
        let Some(copy) = copy else {
            return Ok(None);
        };
        self.link(&copy).await?;
        metrics::counter!("kefu_delivery_fallbacks_total", "channel" => copy.channel.clone())
            .increment(1);
        Ok(Some(copy))
    }

    /// Stores the copy (or finds the one stored before), in one transaction.
    async fn copy(&self, message_id: i64, cause: Cause) -> Result<Option<FellBack>, StoreError> {
        let conn = self.db.conn();
        let Some(m) = message::Entity::find_by_id(message_id).one(conn).await? else {
            return Ok(None);
        };
        let status = match cause {
            Cause::Failed => DeliveryStatus::Failed,
            Cause::Unseen => DeliveryStatus::Sent,
        };
        if m.direction != Direction::Outbound || m.private || m.delivery_status != status {
            return Ok(None);
        }
        let (code, reason) = match cause {
            Cause::Failed => match fallback_code(m.delivery_error.as_deref()) {
                Some(c) => c,
                None => return Ok(None),
            },
            Cause::Unseen => (UNSEEN, UNSEEN_REASON),
        };
        let stored = Stored::of(m.fallback.as_ref());
        let origin = stored.origin_inbox_id.unwrap_or(m.inbox_id);
        let Some(origin_row) = inbox::Entity::find_by_id(origin).one(conn).await? else {
            return Ok(None);
        };
        let settings = FallbackSettings::of(&origin_row);
        if !settings.enabled {
            return Ok(None);
        }
        let Some(conv) = conversation::Entity::find_by_id(m.conversation_id)
            .one(conn)
            .await?
        else {
            return Ok(None);
        };
        let failed_channel = crate::delivery::channel_type(conn, m.inbox_id)
            .await?
            .unwrap_or_default();
        let mut tried = stored.tried.clone();
        tried.push(m.inbox_id);
        let key = format!("fallback:{}", m.id);

        let tx = self.db.begin_write().await?;
        let contact = survivor(&tx, conv.contact_id).await?;
        // A copy stored before: its ids, nothing sent twice.
        let inboxes = identity_inboxes(&tx, contact.id).await?;
        let prev = message::Entity::find()
            .filter(message::Column::InboxId.is_in(inboxes))
            .filter(message::Column::DedupeKey.eq(key.as_str()))
            .filter(message::Column::Direction.eq(Direction::Outbound))
            .one(&*tx)
            .await?;
        if let Some(p) = prev {
            tx.rollback().await?;
            let channel = crate::delivery::channel_type(conn, p.inbox_id)
                .await?
                .unwrap_or_default();
            return Ok(Some(FellBack {
                failed_id: m.id,
                message_id: p.id,
                conversation_id: p.conversation_id,
                channel,
            }));
        }
        let mut candidates = reachable(&tx, contact.id).await?;
        candidates.retain(|r| !tried.contains(&r.identity.inbox_id));
        let order = (!settings.order.is_empty()).then_some(settings.order.as_slice());
        if pick(&candidates, order).is_none_or(|r| r.channel_type != EMAIL)
            && let Some(by_mail) = email_identity(&tx, &contact, &settings, &tried).await?
        {
            candidates.push(by_mail);
        }
        let Some(next) = pick(&candidates, order) else {
            if cause == Cause::Unseen {
                // Looked at once: the sweep does not come back to it.
                let none = Stored {
                    origin_inbox_id: Some(origin),
                    tried,
                    ..stored
                };
                let mut am: message::ActiveModel = m.clone().into();
                am.fallback = Set(Some(serde_json::to_value(&none).unwrap_or_default()));
                am.update(&*tx).await?;
                tx.commit().await?;
            } else {
                tx.rollback().await?;
            }
            tracing::info!(
                message = m.id,
                code,
                "No other channel reaches the contact; the reply stays where it was."
            );
            return Ok(None);
        };
        let target = conversation_for(&self.db, &tx, &next.identity, &contact).await?;
        let from = Stored {
            from: Some(FallbackLink {
                message_id: m.id,
                conversation_id: m.conversation_id,
                channel: failed_channel,
                code: Some(code.to_owned()),
                reason: Some(reason.to_owned()),
            }),
            to: None,
            origin_inbox_id: Some(origin),
            tried,
        };
        let copy = append_message(
            &tx,
            &target,
            NewMessage {
                direction: Direction::Outbound,
                private: false,
                sender_type: m.sender_type,
                sender_id: m.sender_id,
                sender_name: m.sender_name.clone(),
                text: m.text.clone(),
                content: m.content.clone(),
                dedupe_key: Some(key),
                message_ref: None,
                delivery_status: DeliveryStatus::Pending,
                fallback: Some(serde_json::to_value(&from).unwrap_or_default()),
                sentiment: None,
            },
            Utc::now(),
        )
        .await?;
        tx.commit().await?;
        Ok(Some(FellBack {
            failed_id: m.id,
            message_id: copy.id,
            conversation_id: target.id,
            channel: next.channel_type.clone(),
        }))
    }

    /// Points the failed message at its copy (once) and tells its thread, under its
    /// conversation's lock like every change of a message.
    async fn link(&self, copy: &FellBack) -> Result<(), StoreError> {
        let tx = self.db.begin_write().await?;
        let Some(m) = message::Entity::find_by_id(copy.failed_id)
            .one(&*tx)
            .await?
        else {
            return Ok(());
        };
        lock(&self.db, &tx, m.conversation_id).await?;
        // Read again under the lock: a concurrent link may have won.
        let Some(m) = message::Entity::find_by_id(copy.failed_id)
            .one(&*tx)
            .await?
        else {
            return Ok(());
        };
        let mut stored = Stored::of(m.fallback.as_ref());
        if stored.to.is_some() {
            return Ok(());
        }
        stored.to = Some(FallbackLink {
            message_id: copy.message_id,
            conversation_id: copy.conversation_id,
            channel: copy.channel.clone(),
            code: None,
            reason: None,
        });
        let mut am: message::ActiveModel = m.into();
        am.fallback = Set(Some(serde_json::to_value(&stored).unwrap_or_default()));
        let row = am.update(&*tx).await?;
        let view = MessageView::from(&row)
            .with_channel(&tx, row.inbox_id)
            .await?;
        tx.emit(EventData::MessageUpdated(view)).await?;
        tx.commit().await?;
        Ok(())
    }
}
