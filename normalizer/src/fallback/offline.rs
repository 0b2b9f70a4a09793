//! A web chat visitor writing while no agent is online: the widget offers to take an email
//! address, so the reply reaches them after they leave (through the unseen-reply fallback).
//! [`Fallbacks::offline`] says whether to offer it; [`Fallbacks::leave_email`] stores the
//! address on the conversation's contact.

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use super::unseen::EMAIL;
use super::{FallbackSettings, Fallbacks};
use crate::contacts::{ContactPatch, Contacts};
use crate::entity::agent::AgentStatus;
use crate::entity::{agent, contact, conversation, inbox};
use crate::error::StoreError;
use crate::views::ContactView;

/// Nobody is online to answer a web chat inbox right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offline {
    /// Whether to ask the visitor for an email address: the inbox has fallback on (allowing
    /// email), an email inbox exists, and the visitor's contact has no address yet.
    pub ask_email: bool,
}

impl Fallbacks {
    /// `Some` when no agent is online; whether to ask the visitor of `conversation` (if they
    /// have one yet) in `inbox_id` for an email address.
    pub async fn offline(
        &self,
        inbox_id: i64,
        conversation: Option<i64>,
    ) -> Result<Option<Offline>, StoreError> {
        let conn = self.db().conn();
        let online = agent::Entity::find()
            .filter(agent::Column::Status.eq(AgentStatus::Online))
            .filter(agent::Column::DeletedAt.is_null())
            .count(conn)
            .await?;
        if online > 0 {
            return Ok(None);
        }
        let Some(row) = inbox::Entity::find_by_id(inbox_id).one(conn).await? else {
            return Ok(None);
        };
        let settings = FallbackSettings::of(&row);
        let by_email = settings.enabled
            && (settings.order.is_empty() || settings.order.iter().any(|t| t == EMAIL))
            && inbox::Entity::find()
                .filter(inbox::Column::ChannelType.eq(EMAIL))
                .filter(inbox::Column::DeletedAt.is_null())
                .count(conn)
                .await?
                > 0;
        let known = match conversation {
            Some(id) if by_email => self.contact_of(id).await?.email.is_some(),
            _ => false,
        };
        Ok(Some(Offline {
            ask_email: by_email && !known,
        }))
    }

    /// Stores `email` (checked as the contact API checks it) on the contact of `conversation`,
    /// so its unseen replies are emailed there. Emits `contact.updated` when it changed.
    pub async fn leave_email(
        &self,
        conversation: i64,
        email: &str,
    ) -> Result<ContactView, StoreError> {
        let contact = self.contact_of(conversation).await?;
        let patch = ContactPatch {
            email: Some(Some(email.to_owned())),
            ..ContactPatch::default()
        };
        Contacts::new(self.db().clone())
            .update(contact.id, &patch)
            .await
            .map_err(|e| match e {
                crate::attributes::AttributeError::Store(s) => s,
                other => StoreError::Invalid(other.to_string()),
            })
    }

    async fn contact_of(&self, conversation: i64) -> Result<contact::Model, StoreError> {
        let conn = self.db().conn();
        let c = conversation::Entity::find_by_id(conversation)
            .one(conn)
            .await?
            .ok_or(StoreError::NotFound("conversation"))?;
        contact::Entity::find_by_id(c.contact_id)
            .one(conn)
            .await?
            .ok_or(StoreError::NotFound("contact"))
    }
}
