//! How Kefu reaches a contact when it writes first (a notification, a fallback copy): the
//! contact a merged one lives on in, their identities in live inboxes with the most recently
//! active first, the one a list of channel types picks, and the conversation a message Kefu
//! starts goes into.

use chrono::Utc;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;

use crate::db::{Db, WriteTx};
use crate::entity::{contact, contact_identity, conversation, inbox};
use crate::error::StoreError;
use crate::events::{EventData, NewConversation};
use crate::status::Status;
use crate::views::ConversationView;

/// An identity and its inbox's channel type.
pub(crate) struct Reachable {
    pub(crate) identity: contact_identity::Model,
    pub(crate) channel_type: String,
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
