//! Status changes inside a write transaction: the row, and the events the transition emits
//! (a resolve's or transfer's with the summary written for it).

use chrono::Utc;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};

use crate::db::WriteTx;
use crate::entity::{contact, conversation};
use crate::error::StoreError;
use crate::events::{EventData, EventType};
use crate::status::{Status, Transition};
use crate::summaries::SummaryView;
use crate::views::ConversationView;

/// Moves a conversation to `next` (already checked with [`Status::apply`]) and appends the
/// matching events.
pub async fn set_status(
    tx: &WriteTx,
    conv: conversation::Model,
    next: Status,
    transition: Transition,
    contact: Option<&contact::Model>,
) -> Result<conversation::Model, StoreError> {
    set_status_with(tx, conv, next, transition, contact, None).await
}

/// [`set_status`], with the summary written for it (see [`crate::summaries`]), which its
/// `conversation.resolved` or `conversation.transferred` event carries.
pub async fn set_status_with(
    tx: &WriteTx,
    conv: conversation::Model,
    next: Status,
    transition: Transition,
    contact: Option<&contact::Model>,
    summary: Option<&SummaryView>,
) -> Result<conversation::Model, StoreError> {
    let now = Utc::now();
    let mut am: conversation::ActiveModel = conv.into();
    am.status = Set(next);
    am.updated_at = Set(now);
    match next {
        Status::Queued => {
            am.assignee_id = Set(None);
            am.queued_at = Set(Some(now));
        }
        Status::Resolved => am.resolved_at = Set(Some(now)),
        _ => {}
    }
    let conv = am.update(tx).await?;
    let contact = match contact {
        Some(c) => Some(c.clone()),
        None => contact::Entity::find_by_id(conv.contact_id).one(tx).await?,
    };
    let view = ConversationView::new(&conv, contact.as_ref());
    use EventType as T;
    let kinds: &[EventType] = match transition {
        Transition::Assign => &[T::ConversationAssigned],
        Transition::StartTransfer => &[T::ConversationTransferred],
        Transition::Requeue => &[T::ConversationQueued],
        Transition::Resolve => &[T::ConversationResolved],
        Transition::Reopen => &[T::ConversationReopened, T::ConversationQueued],
        Transition::Close => &[T::ConversationClosed],
        Transition::AwaitCustomer | Transition::CustomerReplied => &[T::ConversationUpdated],
    };
    let events = kinds.iter().filter_map(|k| {
        let mut view = view.clone();
        if matches!(k, T::ConversationResolved | T::ConversationTransferred) {
            view.summary = summary.cloned();
        }
        EventData::conversation(*k, view)
    });
    crate::events::emit_all(tx, events, now).await?;
    Ok(conv)
}
