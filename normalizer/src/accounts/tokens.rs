//! Long-lived API tokens: created by an agent, acting as that agent within their scopes.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::{new_secret, token_hash};
use crate::db::Db;
use crate::entity::api_token;
use crate::error::StoreError;

/// `last_used_at` is written at most this often.
const TOUCH_EVERY: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

/// A token to create.
#[derive(Debug, Clone)]
pub struct NewApiToken {
    /// Its owner.
    pub agent_id: i64,
    /// What it is for.
    pub name: String,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// Scope names, already validated.
    pub scopes: Vec<String>,
}

/// The API token store.
#[derive(Debug, Clone)]
pub struct ApiTokens {
    db: Db,
}

impl ApiTokens {
    /// A store over `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Creates a token; returns the secret (shown once) and the row.
    pub async fn create(&self, new: NewApiToken) -> Result<(String, api_token::Model), StoreError> {
        let token = new_secret("kefu_");
        let row = api_token::ActiveModel {
            agent_id: Set(new.agent_id),
            name: Set(new.name),
            token_hash: Set(token_hash(&token)),
            created_at: Set(Utc::now()),
            last_used_at: Set(None),
            expires_at: Set(new.expires_at),
            scopes: Set(new.scopes.join(",")),
            ..Default::default()
        }
        .insert(self.db.conn())
        .await?;
        Ok((token, row))
    }

    /// Tokens of `agent_id`, or everyone's with `None`, oldest first.
    pub async fn list(&self, agent_id: Option<i64>) -> Result<Vec<api_token::Model>, StoreError> {
        let mut q = api_token::Entity::find().order_by_asc(api_token::Column::Id);
        if let Some(a) = agent_id {
            q = q.filter(api_token::Column::AgentId.eq(a));
        }
        Ok(q.all(self.db.conn()).await?)
    }

    /// One token by id.
    pub async fn get(&self, id: i64) -> Result<Option<api_token::Model>, StoreError> {
        Ok(api_token::Entity::find_by_id(id)
            .one(self.db.conn())
            .await?)
    }

    /// Deletes a token.
    pub async fn delete(&self, id: i64) -> Result<(), StoreError> {
        api_token::Entity::delete_by_id(id)
            .exec(self.db.conn())
            .await?;
        Ok(())
    }

    /// The unexpired token behind `secret`, recording its use (at most once a minute).
    pub async fn verify(&self, secret: &str) -> Result<Option<api_token::Model>, StoreError> {
        let Some(row) = api_token::Entity::find()
            .filter(api_token::Column::TokenHash.eq(token_hash(secret)))
            .one(self.db.conn())
            .await?
        else {
            return Ok(None);
        };
        let now = Utc::now();
        if row.expires_at.is_some_and(|e| e <= now) {
            return Ok(None);
        }
        if row.last_used_at.is_some_and(|t| now - t < TOUCH_EVERY) {
            return Ok(Some(row));
        }
        api_token::Entity::update_many()
            .col_expr(api_token::Column::LastUsedAt, Expr::value(Some(now)))
            .filter(api_token::Column::Id.eq(row.id))
            .exec(self.db.conn())
            .await?;
        Ok(Some(api_token::Model {
            last_used_at: Some(now),
            ..row
        }))
    }
}
