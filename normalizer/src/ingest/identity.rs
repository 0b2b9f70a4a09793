//! Who wrote: the contact and identity of an inbound message's sender, created on the first
//! message and kept up to date with what the channel tells about them.

use chrono::Utc;
use kefu_channel::InboundEnvelope;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QuerySelect, Set};

use super::Core;
use crate::db::WriteTx;
use crate::entity::{contact, contact_identity, inbox};
use crate::error::StoreError;
use crate::events::EventData;
use crate::views::ContactView;

impl Core {
    /// The sender's identity in the inbox and the contact it belongs to (following merges),
    /// both created on the sender's first message. On PostgreSQL the identity row is locked,
    /// which serializes ingest per customer.
    pub(super) async fn resolve_identity(
        &self,
        tx: &WriteTx,
        env: &InboundEnvelope,
    ) -> Result<(contact_identity::Model, contact::Model), StoreError> {
        let mut q = contact_identity::Entity::find()
            .filter(contact_identity::Column::InboxId.eq(env.inbox_id))
            .filter(contact_identity::Column::ExternalId.eq(env.sender.external_id.as_str()));
        if self.db.is_postgres() {
            // Serializes ingest per customer, so two first messages cannot open two conversations.
            q = q.lock_exclusive();
        }
        if let Some(identity) = q.one(tx).await? {
            let mut contact = contact::Entity::find_by_id(identity.contact_id)
                .one(tx)
                .await?
                .ok_or(StoreError::NotFound("contact"))?;
            // Follow merges: messages land on the surviving contact.
            while let Some(into) = contact.merged_into_id {
                contact = contact::Entity::find_by_id(into)
                    .one(tx)
                    .await?
                    .ok_or(StoreError::NotFound("contact"))?;
            }
            let contact = self.refresh_contact(tx, contact, env).await?;
            return Ok((identity, contact));
        }
        inbox::Entity::find_by_id(env.inbox_id)
            .filter(inbox::Column::DeletedAt.is_null())
            .one(tx)
            .await?
            .ok_or_else(|| StoreError::Invalid(format!("inbox {} does not exist", env.inbox_id)))?;
        let now = Utc::now();
        let s = &env.sender;
        let contact = contact::ActiveModel {
            name: Set(s.display_name.clone()),
            email: Set(s.email.clone()),
            phone: Set(s.phone.clone()),
            attributes: Set(serde_json::Value::Object(s.attributes.clone())),
            merged_into_id: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(tx)
        .await?;
        let identity = contact_identity::ActiveModel {
            contact_id: Set(contact.id),
            inbox_id: Set(env.inbox_id),
            external_id: Set(s.external_id.clone()),
            display_name: Set(s.display_name.clone()),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(tx)
        .await?;
        let view = ContactView::new(&contact, std::slice::from_ref(&identity));
        tx.emit(EventData::ContactCreated(view)).await?;
        Ok((identity, contact))
    }

    /// Fills in what the channel newly tells about the contact (name, email, attributes).
    pub(super) async fn refresh_contact(
        &self,
        tx: &WriteTx,
        contact: contact::Model,
        env: &InboundEnvelope,
    ) -> Result<contact::Model, StoreError> {
        let s = &env.sender;
        let mut attrs = contact.attributes.as_object().cloned().unwrap_or_default();
        let mut changed = false;
        for (k, v) in &s.attributes {
            if attrs.get(k) != Some(v) {
                attrs.insert(k.clone(), v.clone());
                changed = true;
            }
        }
        let name = contact.name.clone().or_else(|| s.display_name.clone());
        let email = contact.email.clone().or_else(|| s.email.clone());
        changed |= name != contact.name || email != contact.email;
        if !changed {
            return Ok(contact);
        }
        let mut am: contact::ActiveModel = contact.into();
        am.attributes = Set(serde_json::Value::Object(attrs));
        am.name = Set(name);
        am.email = Set(email);
        am.updated_at = Set(Utc::now());
        Ok(am.update(tx).await?)
    }
}
