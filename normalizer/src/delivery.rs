//! Delivery state of outbound messages: what the delivery worker needs to send one, and the
//! record of each attempt (`pending` → `sent`/`delivered`/`failed`), each change emitted as
//! `message.updated` (and `message.failed` when delivery gives up).

use chrono::{DateTime, Utc};
use kefu_channel::{Content, OutboundMessage, Recipient};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::conversations::lock;
use crate::db::Db;
use crate::entity::message::{DeliveryStatus, Direction};
use crate::entity::{contact_identity, conversation, message};
use crate::error::StoreError;
use crate::events::{self, EventData};
use crate::views::MessageView;

/// How many earlier references an outbound message carries (email `References`).
const MAX_REFERENCES: u64 = 50;

/// An outbound message as stored, with what sending it needs.
#[derive(Debug, Clone)]
pub struct PendingDelivery {
    /// The stored row.
    pub message: message::Model,
    /// The message as a channel sends it.
    pub outbound: OutboundMessage,
}

/// What one delivery attempt came to.
#[derive(Debug, Clone)]
pub enum DeliveryOutcome {
    /// The provider accepted it (`delivered` when it confirmed delivery to the device).
    Sent {
        /// The provider's id for it.
        provider_ref: Option<String>,
        /// Confirmed delivered, not only accepted.
        delivered: bool,
        /// Per-recipient results.
        details: Option<serde_json::Value>,
    },
    /// It failed and will be tried again; the message stays `pending`.
    Retrying {
        /// Why this attempt failed.
        error: String,
        /// When the next attempt is due.
        due_at: DateTime<Utc>,
    },
    /// It failed for good.
    Failed {
        /// Machine-readable reason, e.g. `reply_window_closed`.
        code: String,
        /// A sentence an agent can act on.
        reason: String,
        /// Per-recipient results.
        details: Option<serde_json::Value>,
    },
}

/// Reads and records outbound deliveries.
#[derive(Clone)]
pub struct Deliveries {
    db: Db,
}

impl Deliveries {
    /// Deliveries on `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// The message if it still waits for delivery (outbound, not private, `pending`);
    /// `None` when it was delivered, failed or deleted meanwhile.
    pub async fn pending(&self, message_id: i64) -> Result<Option<PendingDelivery>, StoreError> {
        let conn = self.db.conn();
        let Some(m) = message::Entity::find_by_id(message_id).one(conn).await? else {
            return Ok(None);
        };
        if m.direction != Direction::Outbound
            || m.private
            || m.delivery_status != DeliveryStatus::Pending
        {
            return Ok(None);
        }
        let conv = conversation::Entity::find_by_id(m.conversation_id)
            .one(conn)
            .await?
            .ok_or(StoreError::NotFound("conversation"))?;
        let identity = contact_identity::Entity::find_by_id(conv.identity_id)
            .one(conn)
            .await?
            .ok_or(StoreError::NotFound("contact identity"))?;
        let mut references: Vec<String> = message::Entity::find()
            .select_only()
            .column(message::Column::MessageRef)
            .filter(message::Column::ConversationId.eq(conv.id))
            .filter(message::Column::Seq.lt(m.seq))
            .filter(message::Column::MessageRef.is_not_null())
            .order_by_desc(message::Column::Seq)
            .limit(MAX_REFERENCES)
            .into_tuple::<Option<String>>()
            .all(conn)
            .await?
            .into_iter()
            .flatten()
            .collect();
        references.reverse();
        let mut content: Content = serde_json::from_value(m.content.clone()).unwrap_or_default();
        content.text = m.text.clone();
        crate::files::Files::new(self.db.clone())
            .load_into(&mut content.attachments)
            .await?;
        let outbound = OutboundMessage {
            message_id: m.id,
            conversation_id: conv.id,
            inbox_id: m.inbox_id,
            recipient: Recipient {
                external_id: identity.external_id,
                display_name: identity.display_name,
            },
            content,
            agent_name: m.sender_name.clone(),
            references,
            subject: conv.subject.clone(),
            conversation_token: Some(conv.token.clone()),
            last_inbound_at: conv.last_inbound_at,
            system: m.sender_type == crate::SenderType::System,
        };
        Ok(Some(PendingDelivery {
            message: m,
            outbound,
        }))
    }

    /// Claims a `pending` message for one send attempt, taking the lease `now .. until`:
    /// `false` when it is no longer pending, another attempt holds it, or its next attempt is
    /// not due by `due_by` (a job that runs early or twice then sends nothing).
    /// [`Deliveries::record`] releases it. The lease rules (length, due slack) are the
    /// outbound engine's, shared with webhook deliveries.
    pub async fn claim(
        &self,
        message_id: i64,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        due_by: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        // On SQLite, in line with the other writers rather than in SQLite's busy handler.
        let _slot = self.db.write_slot().await;
        let res = message::Entity::update_many()
            .col_expr(message::Column::DeliveryClaimedUntil, Expr::value(until))
            .filter(message::Column::Id.eq(message_id))
            .filter(message::Column::DeliveryStatus.eq(DeliveryStatus::Pending))
            .filter(unclaimed(now))
            .filter(
                message::Column::DeliveryDueAt
                    .is_null()
                    .or(message::Column::DeliveryDueAt.lte(due_by)),
            )
            .exec(self.db.conn())
            .await?;
        Ok(res.rows_affected == 1)
    }

    /// Gives a claimed `pending` message back without recording an attempt: Kefu's own
    /// pacing held it, and its next attempt is due at `due_at`. The status stays `pending`, so
    /// no event is emitted. `false` when it was no longer pending.
    pub async fn postpone(
        &self,
        message_id: i64,
        due_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let _slot = self.db.write_slot().await;
        let res = message::Entity::update_many()
            .col_expr(
                message::Column::DeliveryClaimedUntil,
                Expr::value(None::<DateTime<Utc>>),
            )
            .col_expr(message::Column::DeliveryDueAt, Expr::value(due_at))
            .filter(message::Column::Id.eq(message_id))
            .filter(message::Column::DeliveryStatus.eq(DeliveryStatus::Pending))
            .exec(self.db.conn())
            .await?;
        Ok(res.rows_affected == 1)
    }

    /// Replies that wait for delivery although nothing is working on them: pending, not
    /// claimed, and due for longer than `grace` (their job was lost, or apalis gave up on it).
    /// Returns `(message, attempts made)`, oldest first.
    pub async fn overdue(
        &self,
        grace: std::time::Duration,
        limit: u64,
    ) -> Result<Vec<(i64, i32)>, StoreError> {
        let now = Utc::now();
        let before = now - chrono::Duration::from_std(grace).unwrap_or_default();
        Ok(message::Entity::find()
            .select_only()
            .column(message::Column::Id)
            .column(message::Column::DeliveryAttempts)
            .filter(message::Column::DeliveryStatus.eq(DeliveryStatus::Pending))
            .filter(message::Column::Direction.eq(Direction::Outbound))
            .filter(message::Column::Private.eq(false))
            .filter(unclaimed(now))
            .filter(
                message::Column::DeliveryDueAt
                    .lt(before)
                    .or(message::Column::DeliveryDueAt
                        .is_null()
                        .and(message::Column::CreatedAt.lt(before))),
            )
            .order_by_asc(message::Column::Id)
            .limit(limit)
            .into_tuple()
            .all(self.db.conn())
            .await?)
    }

    /// Records one attempt on a `pending` message of `conversation_id` and emits its events.
    /// Returns `None` when the message was no longer pending (another worker recorded it first).
    pub async fn record(
        &self,
        message_id: i64,
        conversation_id: i64,
        outcome: DeliveryOutcome,
    ) -> Result<Option<MessageView>, StoreError> {
        let now = Utc::now();
        let tx = self.db.begin_write().await?;
        // Under the conversation's lock, so this event's id follows the conversation's order.
        lock(&self.db, &tx, conversation_id).await?;
        let mut update = message::Entity::update_many()
            .col_expr(
                message::Column::DeliveryAttempts,
                Expr::col(message::Column::DeliveryAttempts).add(1),
            )
            .col_expr(
                message::Column::DeliveryClaimedUntil,
                Expr::value(None::<DateTime<Utc>>),
            )
            .filter(message::Column::Id.eq(message_id))
            .filter(message::Column::ConversationId.eq(conversation_id))
            .filter(message::Column::DeliveryStatus.eq(DeliveryStatus::Pending));
        let failed = matches!(outcome, DeliveryOutcome::Failed { .. });
        update = match &outcome {
            DeliveryOutcome::Sent {
                provider_ref,
                delivered,
                details,
            } => {
                let status = if *delivered {
                    DeliveryStatus::Delivered
                } else {
                    DeliveryStatus::Sent
                };
                let mut u = update
                    .col_expr(message::Column::DeliveryStatus, Expr::value(status))
                    .col_expr(message::Column::DeliveryError, Expr::value(None::<String>))
                    .col_expr(message::Column::SentAt, Expr::value(now))
                    .col_expr(
                        message::Column::DeliveryDetails,
                        Expr::value(details.clone()),
                    );
                if let Some(r) = provider_ref {
                    u = u
                        .col_expr(message::Column::ProviderRef, Expr::value(r.clone()))
                        // Replies that quote the provider's id (email In-Reply-To) thread here.
                        .col_expr(
                            message::Column::MessageRef,
                            Expr::col(message::Column::MessageRef).if_null(r.clone()),
                        );
                }
                u
            }
            DeliveryOutcome::Retrying { error, due_at } => update
                .col_expr(message::Column::DeliveryError, Expr::value(error.clone()))
                .col_expr(message::Column::DeliveryDueAt, Expr::value(*due_at)),
            DeliveryOutcome::Failed {
                code,
                reason,
                details,
            } => update
                .col_expr(
                    message::Column::DeliveryStatus,
                    Expr::value(DeliveryStatus::Failed),
                )
                .col_expr(
                    message::Column::DeliveryError,
                    Expr::value(format!("{code}: {reason}")),
                )
                .col_expr(
                    message::Column::DeliveryDetails,
                    Expr::value(details.clone()),
                ),
        };
        let rows = update.exec_with_returning(&tx).await?;
        let Some(row) = rows.into_iter().next() else {
            return Ok(None);
        };
        let view = MessageView::from(&row)
            .with_channel(&tx, row.inbox_id)
            .await?;
        let mut emitted = vec![EventData::MessageUpdated(view.clone())];
        if failed {
            emitted.push(EventData::MessageFailed(view.clone()));
        }
        events::emit_all(&tx, emitted, now).await?;
        tx.commit().await?;
        Ok(Some(view))
    }

    /// A read receipt: the customer's client displayed the conversation up to `seq`, so the
    /// replies up to there are `delivered` (one `message.updated` each) — also those whose
    /// send job has not run yet: it then finds them delivered and sends nothing. Returns how
    /// many changed.
    pub async fn mark_read(&self, conversation_id: i64, seq: i64) -> Result<usize, StoreError> {
        let tx = self.db.begin_write().await?;
        lock(&self.db, &tx, conversation_id).await?;
        let rows = message::Entity::update_many()
            .col_expr(
                message::Column::DeliveryStatus,
                Expr::value(DeliveryStatus::Delivered),
            )
            .filter(message::Column::ConversationId.eq(conversation_id))
            .filter(message::Column::Seq.lte(seq))
            .filter(message::Column::Direction.eq(Direction::Outbound))
            .filter(message::Column::Private.eq(false))
            .filter(
                message::Column::DeliveryStatus
                    .is_in([DeliveryStatus::Pending, DeliveryStatus::Sent]),
            )
            .exec_with_returning(&tx)
            .await?;
        let mut rows = rows;
        rows.sort_by_key(|m| m.seq);
        let updated = rows
            .iter()
            .map(|m| EventData::MessageUpdated(MessageView::from(m)));
        events::emit_all(&tx, updated, Utc::now()).await?;
        tx.commit().await?;
        Ok(rows.len())
    }

    /// Outbound messages whose delivery failed for good, newest first, for the dead-letter
    /// view. `before` is an id cursor.
    pub async fn failed(
        &self,
        before: Option<i64>,
        limit: u64,
    ) -> Result<Vec<MessageView>, StoreError> {
        let mut q = message::Entity::find()
            .filter(message::Column::DeliveryStatus.eq(DeliveryStatus::Failed))
            .order_by_desc(message::Column::Id)
            .limit(limit);
        if let Some(b) = before {
            q = q.filter(message::Column::Id.lt(b));
        }
        Ok(q.all(self.db.conn())
            .await?
            .iter()
            .map(MessageView::from)
            .collect())
    }

    /// The agent who wrote message `message_id`, if an agent did and it exists.
    pub async fn author(&self, message_id: i64) -> Result<Option<i64>, StoreError> {
        Ok(message::Entity::find_by_id(message_id)
            .filter(message::Column::SenderType.eq(crate::SenderType::Agent))
            .select_only()
            .column(message::Column::SenderId)
            .into_tuple::<Option<i64>>()
            .one(self.db.conn())
            .await?
            .flatten())
    }

    /// Puts a failed message back to `pending` so it is delivered again; `false` when it was
    /// not failed. The caller queues the new delivery.
    pub async fn requeue_failed(&self, message_id: i64) -> Result<bool, StoreError> {
        let res = message::Entity::update_many()
            .col_expr(
                message::Column::DeliveryStatus,
                Expr::value(DeliveryStatus::Pending),
            )
            .col_expr(message::Column::DeliveryError, Expr::value(None::<String>))
            .col_expr(
                message::Column::DeliveryDueAt,
                Expr::value(None::<DateTime<Utc>>),
            )
            .col_expr(
                message::Column::DeliveryClaimedUntil,
                Expr::value(None::<DateTime<Utc>>),
            )
            .filter(message::Column::Id.eq(message_id))
            .filter(message::Column::DeliveryStatus.eq(DeliveryStatus::Failed))
            .exec(self.db.conn())
            .await?;
        Ok(res.rows_affected == 1)
    }
}

/// No send attempt holds the message (none did, or its lease ran out).
fn unclaimed(now: DateTime<Utc>) -> sea_orm::sea_query::SimpleExpr {
    message::Column::DeliveryClaimedUntil
        .is_null()
        .or(message::Column::DeliveryClaimedUntil.lt(now))
}

impl MessageView {
    /// The same view with `delivery.channel` set to the channel type of inbox `inbox_id`
    /// (read once per inbox, see [`crate::db::ChannelTypes`]; none for messages without
    /// delivery).
    pub(crate) async fn with_channel(
        mut self,
        tx: &crate::db::WriteTx,
        inbox_id: i64,
    ) -> Result<Self, sea_orm::DbErr> {
        if let Some(d) = self.delivery.as_mut() {
            d.channel = tx.channel_type(inbox_id).await?;
        }
        Ok(self)
    }
}

/// Channel types whose replies Kefu delivers itself, through its realtime hub (web chat: the
/// visitor's open tabs get the stored reply at once, a later visit replays it). There is no
/// provider to call, so such a reply is stored `sent` instead of `pending` and skips the send
/// job, its claim, its record and the `message.updated` that record emitted; the widget's
/// read receipts still move it on to `delivered`.
const DELIVERED_BY_KEFU: &[&str] = &["web_chat"];

/// Whether replies in `channel_type` are sent once stored (see [`DELIVERED_BY_KEFU`]).
pub(crate) fn delivered_by_kefu(channel_type: Option<&str>) -> bool {
    channel_type.is_some_and(|t| DELIVERED_BY_KEFU.contains(&t))
}

/// The channel type of inbox `inbox_id`, deleted or not.
pub(crate) async fn channel_type<C: sea_orm::ConnectionTrait>(
    db: &C,
    inbox_id: i64,
) -> Result<Option<String>, sea_orm::DbErr> {
    crate::entity::inbox::Entity::find_by_id(inbox_id)
        .select_only()
        .column(crate::entity::inbox::Column::ChannelType)
        .into_tuple::<String>()
        .one(db)
        .await
}

#[cfg(test)]
#[path = "delivery_tests.rs"]
mod tests;
