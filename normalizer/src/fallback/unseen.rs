//! Web chat replies the visitor never saw: the visitor left the page before the agent
//! answered. Where the web chat inbox has fallback on, a reply still unseen (no read receipt)
//! a while after it was sent goes out by email too, to the address the visitor left in the
//! pre-chat form, through the first email inbox (or the contact's email identity, if they have
//! written by email). The housekeeping sweep calls [`Fallbacks::unseen_web_replies`].

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::store::Cause;
use super::{FallbackSettings, Fallbacks};
use crate::db::WriteTx;
use crate::entity::message::{DeliveryStatus, Direction};
use crate::entity::{contact, contact_identity, inbox, message};
use crate::error::StoreError;
use crate::reach::Reachable;

/// The email channel type.
pub(super) const EMAIL: &str = "email";
/// The web chat channel type.
const WEB_CHAT: &str = "web_chat";
/// The cause recorded on the copy of an unseen reply.
pub(super) const UNSEEN: &str = "visitor_offline";
/// Its sentence.
pub(super) const UNSEEN_REASON: &str = "The visitor left the chat before seeing the reply.";
/// Replies older than this are not sent again: the conversation has moved on.
const HORIZON_HOURS: i64 = 24;
/// Replies looked at per sweep.
const BATCH: u64 = 200;

impl Fallbacks {
    /// Sends a copy of each web chat reply still unseen `after` it was sent, where its inbox
    /// has fallback on. Each reply is looked at once. Returns how many copies were stored.
    pub async fn unseen_web_replies(
        &self,
        after: std::time::Duration,
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let conn = self.db().conn();
        let inboxes: Vec<i64> = inbox::Entity::find()
            .filter(inbox::Column::ChannelType.eq(WEB_CHAT))
            .filter(inbox::Column::DeletedAt.is_null())
            .filter(inbox::Column::Fallback.is_not_null())
            .all(conn)
            .await?
            .iter()
            .filter(|r| FallbackSettings::of(r).enabled)
            .map(|r| r.id)
            .collect();
        if inboxes.is_empty() {
            return Ok(0);
        }
        let after = chrono::Duration::from_std(after).unwrap_or_default();
        let ids: Vec<i64> = message::Entity::find()
            .select_only()
            .column(message::Column::Id)
            .filter(message::Column::InboxId.is_in(inboxes))
            .filter(message::Column::Direction.eq(Direction::Outbound))
            .filter(message::Column::Private.eq(false))
            .filter(message::Column::DeliveryStatus.eq(DeliveryStatus::Sent))
            .filter(message::Column::Fallback.is_null())
            .filter(message::Column::SentAt.lte(now - after))
            .filter(message::Column::SentAt.gte(now - chrono::Duration::hours(HORIZON_HOURS)))
            .order_by_asc(message::Column::Id)
            .limit(BATCH)
            .into_tuple()
            .all(conn)
            .await?;
        let mut copies = 0;
        for id in ids {
            if self.fall_back_for(id, Cause::Unseen).await?.is_some() {
                copies += 1;
            }
        }
        Ok(copies)
    }
}

/// The contact's identity in the first live email inbox not yet tried, made from the email
/// address on the contact (the pre-chat form's), when `settings` allow email and the address
/// is not another contact's there. `None` otherwise.
pub(super) async fn email_identity(
    tx: &WriteTx,
    contact: &contact::Model,
    settings: &FallbackSettings,
    tried: &[i64],
) -> Result<Option<Reachable>, StoreError> {
    if !settings.order.is_empty() && !settings.order.iter().any(|t| t == EMAIL) {
        return Ok(None);
    }
    let Some(address) = contact
        .email
        .as_deref()
        .map(|e| e.trim().to_lowercase())
        .filter(|e| e.contains('@'))
    else {
        return Ok(None);
    };
    let Some(mailbox) = inbox::Entity::find()
        .filter(inbox::Column::ChannelType.eq(EMAIL))
        .filter(inbox::Column::DeletedAt.is_null())
        .filter(inbox::Column::Id.is_not_in(tried.iter().copied()))
        .order_by_asc(inbox::Column::Id)
        .one(&**tx)
        .await?
    else {
        return Ok(None);
    };
    let existing = contact_identity::Entity::find()
        .filter(contact_identity::Column::InboxId.eq(mailbox.id))
        .filter(contact_identity::Column::ExternalId.eq(address.as_str()))
        .one(&**tx)
        .await?;
    let identity = match existing {
        Some(i) if i.contact_id == contact.id => i,
        // Someone else writes from that address: never send them this customer's replies.
        Some(_) => return Ok(None),
        None => {
            contact_identity::ActiveModel {
                contact_id: Set(contact.id),
                inbox_id: Set(mailbox.id),
                external_id: Set(address),
                display_name: Set(contact.name.clone()),
                created_at: Set(Utc::now()),
                ..Default::default()
            }
            .insert(&**tx)
            .await?
        }
    };
    Ok(Some(Reachable {
        identity,
        channel_type: EMAIL.to_owned(),
    }))
}
