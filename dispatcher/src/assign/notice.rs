//! The `max_wait` message: a customer still waiting after the inbox's `max_wait` is told so,
//! once per wait, by an outbound system message in their conversation. It is stored with
//! delivery `pending`, so the delivery pipeline sends it on the customer's channel like any
//! reply; the conversation stays queued.

use chrono::Utc;
use kefu_normalizer::entity::conversation;
use kefu_normalizer::{Db, NewMessage, append_message};
use kefu_normalizer::{DeliveryStatus, Direction, SenderType, Status};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, Set};
use serde_json::json;

use super::entity::routing_state;
use super::error::DispatchError;

/// Sends `text` to the customer of `conversation_id` unless they were already told during this
/// wait or the conversation left the queue; returns whether a message was stored. Two nodes
/// racing here serialize on the conversation's row lock, and the second sees `notified_for`.
pub async fn send_once(db: &Db, conversation_id: i64, text: &str) -> Result<bool, DispatchError> {
    let tx = db.begin_write().await?;
    let mut q = conversation::Entity::find_by_id(conversation_id)
        .filter(conversation::Column::Status.eq(Status::Queued));
    if db.is_postgres() {
        q = q.lock_exclusive();
    }
    let Some(conv) = q.one(&*tx).await? else {
        tx.rollback().await?;
        return Ok(false);
    };
    let enqueued_at = conv.queued_at.unwrap_or(conv.created_at);
    let notified = routing_state::Entity::find_by_id(conversation_id)
        .select_only()
        .column(routing_state::Column::NotifiedFor)
        .into_tuple::<Option<chrono::DateTime<Utc>>>()
        .one(&*tx)
        .await?
        .flatten();
    if notified == Some(enqueued_at) {
        tx.rollback().await?;
        return Ok(false);
    }
    append_message(
        &tx,
        &conv,
        NewMessage {
            direction: Direction::Outbound,
            private: false,
            sender_type: SenderType::System,
            sender_id: None,
            sender_name: None,
            text: text.to_owned(),
            content: json!({}),
            dedupe_key: Some(format!(
                "max_wait:{}:{}",
                conv.id,
                enqueued_at.timestamp_micros()
            )),
            message_ref: None,
            delivery_status: DeliveryStatus::Pending,
            fallback: None,
            sentiment: None,
        },
        Utc::now(),
    )
    .await?;
    routing_state::Entity::insert(routing_state::ActiveModel {
        conversation_id: Set(conv.id),
        routed_for: Set(None),
        rule_hits: Set(json!([])),
        notified_for: Set(Some(enqueued_at)),
        updated_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::column(routing_state::Column::ConversationId)
            .update_columns([
                routing_state::Column::NotifiedFor,
                routing_state::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec(&*tx)
    .await?;
    tx.commit().await?;
    metrics::counter!("kefu_routing_max_wait_notices_total").increment(1);
    Ok(true)
}
