//! One-time invite links: an admin creates an agent without a password, the agent opens the
//! link and sets their own.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use super::{new_secret, token_hash};
use crate::db::Db;
use crate::entity::{agent, invite};
use crate::error::StoreError;

/// What an invite token leads to.
#[derive(Debug, Clone)]
pub enum InviteLookup {
    /// A usable invite for this agent.
    Valid(Box<(invite::Model, agent::Model)>),
    /// The link was issued but has expired.
    Expired,
    /// No such link, or it was used or replaced.
    NotFound,
}

/// The invite store.
#[derive(Debug, Clone)]
pub struct Invites {
    db: Db,
}

impl Invites {
    /// A store over `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Issues a new link for `agent_id`, valid for `ttl`; any earlier unused link of the agent
    /// stops working. Returns the token (shown once) and its expiry.
    pub async fn issue(
        &self,
        agent_id: i64,
        ttl: chrono::TimeDelta,
    ) -> Result<(String, DateTime<Utc>), StoreError> {
        let token = new_secret("");
        let now = Utc::now();
        let expires_at = now + ttl;
        let tx = self.db.begin_write().await?;
        invite::Entity::delete_many()
            .filter(invite::Column::AgentId.eq(agent_id))
            .filter(invite::Column::UsedAt.is_null())
            .exec(&*tx)
            .await?;
        invite::ActiveModel {
            agent_id: Set(agent_id),
            token_hash: Set(token_hash(&token)),
            created_at: Set(now),
            expires_at: Set(expires_at),
            used_at: Set(None),
            ..Default::default()
        }
        .insert(&*tx)
        .await?;
        tx.commit().await?;
        Ok((token, expires_at))
    }

    /// Looks a link up.
    pub async fn lookup(&self, token: &str) -> Result<InviteLookup, StoreError> {
        let Some(inv) = invite::Entity::find()
            .filter(invite::Column::TokenHash.eq(token_hash(token)))
            .filter(invite::Column::UsedAt.is_null())
            .one(self.db.conn())
            .await?
        else {
            return Ok(InviteLookup::NotFound);
        };
        let Some(agent) = agent::Entity::find_by_id(inv.agent_id)
            .filter(agent::Column::DeletedAt.is_null())
            .one(self.db.conn())
            .await?
        else {
            return Ok(InviteLookup::NotFound);
        };
        if inv.expires_at <= Utc::now() {
            return Ok(InviteLookup::Expired);
        }
        Ok(InviteLookup::Valid(Box::new((inv, agent))))
    }

    /// Uses the invite `invite_id` to set the agent's password hash, once: a second use (even a
    /// concurrent one) fails with `NotFound`.
    pub async fn accept(
        &self,
        invite_id: i64,
        password_hash: String,
    ) -> Result<agent::Model, StoreError> {
        let now = Utc::now();
        let tx = self.db.begin_write().await?;
        let inv = invite::Entity::find_by_id(invite_id)
            .one(&*tx)
            .await?
            .ok_or(StoreError::NotFound("invite"))?;
        let used = invite::Entity::update_many()
            .col_expr(invite::Column::UsedAt, Expr::value(Some(now)))
            .filter(invite::Column::Id.eq(invite_id))
            .filter(invite::Column::UsedAt.is_null())
            .exec(&*tx)
            .await?;
        if used.rows_affected != 1 {
            return Err(StoreError::NotFound("invite"));
        }
        let agent = agent::Entity::find_by_id(inv.agent_id)
            .filter(agent::Column::DeletedAt.is_null())
            .one(&*tx)
            .await?
            .ok_or(StoreError::NotFound("agent"))?;
        let mut am: agent::ActiveModel = agent.into();
        am.password_hash = Set(password_hash);
        am.updated_at = Set(now);
        let agent = am.update(&*tx).await?;
        tx.commit().await?;
        Ok(agent)
    }
}
