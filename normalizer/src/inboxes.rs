//! The [`Inboxes`] store: inbox rows (one configured channel account each) and the parts of
//! them other screens change — routing and outbound rate limits. Validating a channel's
//! settings and encrypting its secrets belongs to the channel registry in the gateway; the
//! rows come here ready to store.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::{Value, json};

use crate::access::OthersAccess;
use crate::db::Db;
use crate::entity::inbox;
use crate::error::StoreError;
use crate::schedules::OutOfOffice;

/// A new inbox, its channel settings already validated and its secrets encrypted.
#[derive(Debug, Clone)]
pub struct NewInbox {
    /// Display name (1 to 100 characters once trimmed).
    pub name: String,
    /// The channel type, e.g. `web_chat`.
    pub channel_type: String,
    /// Channel settings without secrets.
    pub settings: Value,
    /// The secret settings, encrypted.
    pub secrets_ciphertext: Option<String>,
    /// `{skills, priority}` and any routing rules.
    pub routing: Value,
    /// How far agents reach into others' conversations.
    pub others_access: OthersAccess,
}

/// Changes to an inbox; `None` leaves a part as it is.
#[derive(Debug, Clone, Default)]
pub struct InboxChange {
    /// A new display name (1 to 100 characters once trimmed).
    pub name: Option<String>,
    /// New default `skills` and `priority`; routing rules set through the routing
    /// configuration stay.
    pub routing_defaults: Option<Value>,
    /// New settings and encrypted secrets, replacing both.
    pub channel: Option<(Value, Option<String>)>,
    /// How far agents reach into others' conversations.
    pub others_access: Option<OthersAccess>,
    /// The schedule the inbox keeps (`Some(None)` lets go of it); the caller checks it exists.
    pub schedule_id: Option<Option<i64>>,
    /// The out-of-office reply.
    pub out_of_office: Option<OutOfOffice>,
    /// The satisfaction survey.
    pub csat: Option<crate::csat::CsatSettings>,
    /// Channel fallback, already checked against the server's channel types.
    pub fallback: Option<crate::fallback::FallbackSettings>,
}

/// The inbox store.
#[derive(Debug, Clone)]
pub struct Inboxes {
    db: Db,
}

impl Inboxes {
    /// A store over `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// The inbox `id` unless deleted, or `NotFound("inbox")`.
    pub async fn get(&self, id: i64) -> Result<inbox::Model, StoreError> {
        inbox::Entity::find_by_id(id)
            .filter(inbox::Column::DeletedAt.is_null())
            .one(self.db.conn())
            .await?
            .ok_or(StoreError::NotFound("inbox"))
    }

    /// Every inbox not deleted, by id.
    pub async fn list(&self) -> Result<Vec<inbox::Model>, StoreError> {
        Ok(inbox::Entity::find()
            .filter(inbox::Column::DeletedAt.is_null())
            .order_by_asc(inbox::Column::Id)
            .all(self.db.conn())
            .await?)
    }

    /// Whether the database holds any inbox at all, deleted ones included.
    pub async fn any(&self) -> Result<bool, StoreError> {
        Ok(inbox::Entity::find().count(self.db.conn()).await? > 0)
    }

    /// The public token of the first live inbox of `channel_type` (the demo page's web chat).
    pub async fn first_public_token(
        &self,
        channel_type: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(inbox::Entity::find()
            .filter(inbox::Column::ChannelType.eq(channel_type))
            .filter(inbox::Column::DeletedAt.is_null())
            .order_by_asc(inbox::Column::Id)
            .one(self.db.conn())
            .await?
            .map(|i| i.public_token))
    }

    /// Stores a new inbox with a fresh public token.
    pub async fn create(&self, new: NewInbox) -> Result<inbox::Model, StoreError> {
        let now = Utc::now();
        Ok(inbox::ActiveModel {
            name: Set(check_name(&new.name)?),
            channel_type: Set(new.channel_type),
            settings: Set(new.settings),
            secrets_ciphertext: Set(new.secrets_ciphertext),
            public_token: Set(crate::token::random(24)),
            routing: Set(new.routing),
            others_access: Set(new.others_access),
            schedule_id: Set(None),
            out_of_office: Set(None),
            csat: Set(None),
            fallback: Set(None),
            deleted_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(self.db.conn())
        .await?)
    }

    /// Applies `change` to `row` (as read with [`get`](Self::get)).
    pub async fn update(
        &self,
        row: inbox::Model,
        change: InboxChange,
    ) -> Result<inbox::Model, StoreError> {
        let name = change.name.as_deref().map(check_name).transpose()?;
        let mut routing = row.routing.clone();
        let mut am: inbox::ActiveModel = row.into();
        if let Some(n) = name {
            am.name = Set(n);
        }
        if let Some(defaults) = change.routing_defaults {
            match (routing.as_object_mut(), defaults.as_object()) {
                (Some(o), Some(d)) => {
                    for key in ["skills", "priority"] {
                        o.insert(key.into(), d.get(key).cloned().unwrap_or(Value::Null));
                    }
                }
                _ => routing = defaults,
            }
            am.routing = Set(routing);
        }
        if let Some((settings, secrets)) = change.channel {
            am.settings = Set(settings);
            am.secrets_ciphertext = Set(secrets);
        }
        if let Some(o) = change.others_access {
            am.others_access = Set(o);
        }
        if let Some(id) = change.schedule_id {
            am.schedule_id = Set(id);
        }
        if let Some(o) = change.out_of_office {
            am.out_of_office = Set(Some(serde_json::to_value(o.checked()?).unwrap_or_default()));
        }
        if let Some(c) = change.csat {
            am.csat = Set(Some(serde_json::to_value(c.checked()?).unwrap_or_default()));
        }
        if let Some(f) = change.fallback {
            am.fallback = Set(Some(serde_json::to_value(f).unwrap_or_default()));
        }
        am.updated_at = Set(Utc::now());
        Ok(am.update(self.db.conn()).await?)
    }

    /// Replaces the routing configuration of inbox `id`.
    pub async fn set_routing(&self, id: i64, routing: Value) -> Result<inbox::Model, StoreError> {
        let mut am: inbox::ActiveModel = self.get(id).await?.into();
        am.routing = Set(routing);
        am.updated_at = Set(Utc::now());
        Ok(am.update(self.db.conn()).await?)
    }

    /// Replaces the outbound rate limit of inbox `id`.
    pub async fn set_send_limits(&self, id: i64, limits: Value) -> Result<(), StoreError> {
        let mut am: inbox::ActiveModel = self.get(id).await?.into();
        am.send_limits = Set(Some(limits));
        am.updated_at = Set(Utc::now());
        am.update(self.db.conn()).await?;
        Ok(())
    }

    /// Marks inbox `id` deleted. Its conversations and messages stay readable.
    pub async fn delete(&self, id: i64) -> Result<(), StoreError> {
        let mut am: inbox::ActiveModel = self.get(id).await?.into();
        let now = Utc::now();
        am.deleted_at = Set(Some(now));
        am.updated_at = Set(now);
        am.update(self.db.conn()).await?;
        Ok(())
    }

    /// On a database without inboxes, creates the "Website" inbox of `web_chat_type` that the
    /// demo page uses, so a first run leads to a working chat.
    pub async fn create_default_web_chat(
        &self,
        web_chat_type: &str,
    ) -> Result<Option<inbox::Model>, StoreError> {
        if self.any().await? {
            return Ok(None);
        }
        self.create(NewInbox {
            name: "Website".into(),
            channel_type: web_chat_type.into(),
            settings: json!({"allowed_origins": []}),
            secrets_ciphertext: None,
            routing: json!({"skills": {}, "priority": 0}),
            others_access: OthersAccess::None,
        })
        .await
        .map(Some)
    }
}

/// The trimmed name, or `Invalid` unless it has 1 to 100 characters.
fn check_name(name: &str) -> Result<String, StoreError> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 100 {
        return Err(StoreError::Invalid(
            "name must be 1 to 100 characters".into(),
        ));
    }
    Ok(n.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn changing_the_defaults_keeps_the_routing_rules() -> anyhow::Result<()> {
        let db = Db::connect("sqlite::memory:", 1).await?;
        db.migrate().await?;
        let store = Inboxes::new(db);
        assert!(store.create_default_web_chat("web_chat").await?.is_some());
        assert!(store.create_default_web_chat("web_chat").await?.is_none());
        let row = store
            .create(NewInbox {
                name: "  Support  ".into(),
                channel_type: "email".into(),
                settings: json!({}),
                secrets_ciphertext: None,
                routing: json!({"skills": {}, "priority": 0}),
                others_access: OthersAccess::Read,
            })
            .await?;
        assert_eq!(row.name, "Support");
        assert_eq!(row.others_access, OthersAccess::Read);
        let row = store
            .set_routing(
                row.id,
                json!({"skills": {}, "priority": 0, "rules": [{"x": 1}]}),
            )
            .await?;
        let change = InboxChange {
            routing_defaults: Some(json!({"skills": {"billing": 2}, "priority": 5})),
            ..Default::default()
        };
        let row = store.update(row, change).await?;
        assert_eq!(
            row.routing,
            json!({"skills": {"billing": 2}, "priority": 5, "rules": [{"x": 1}]})
        );
        let blank = InboxChange {
            name: Some(" ".into()),
            ..Default::default()
        };
        assert!(matches!(
            store.update(row.clone(), blank).await,
            Err(StoreError::Invalid(_))
        ));
        assert_eq!(
            store.first_public_token("web_chat").await?.map(|t| t.len()),
            Some(24)
        );
        store.delete(row.id).await?;
        assert!(matches!(
            store.get(row.id).await,
            Err(StoreError::NotFound("inbox"))
        ));
        assert_eq!(store.list().await?.len(), 1);
        Ok(())
    }
}
