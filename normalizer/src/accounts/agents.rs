//! The account side of agents: sign-in lookups, passwords, activation, preferences and team
//! memberships.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::db::Db;
use crate::entity::{agent, invite, team, team_member};
use crate::error::StoreError;

/// What the agent view shows beyond the `agents` row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentFlags {
    /// An invite was issued and not accepted yet.
    pub invite_pending: bool,
    /// Teams the agent belongs to, ascending.
    pub team_ids: Vec<i64>,
}

/// Account reads and writes on agents.
#[derive(Debug, Clone)]
pub struct AgentAccounts {
    db: Db,
}

impl AgentAccounts {
    /// A store over `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// The agent (not deleted) with this email, compared in lower case.
    pub async fn by_email(&self, email: &str) -> Result<Option<agent::Model>, StoreError> {
        Ok(agent::Entity::find()
            .filter(agent::Column::Email.eq(email.trim().to_lowercase()))
            .filter(agent::Column::DeletedAt.is_null())
            .one(self.db.conn())
            .await?)
    }

    /// The agent `id` unless deleted.
    pub async fn get(&self, id: i64) -> Result<Option<agent::Model>, StoreError> {
        Ok(agent::Entity::find_by_id(id)
            .filter(agent::Column::DeletedAt.is_null())
            .one(self.db.conn())
            .await?)
    }

    async fn update(
        &self,
        id: i64,
        change: impl FnOnce(&mut agent::ActiveModel),
    ) -> Result<agent::Model, StoreError> {
        let a = self.get(id).await?.ok_or(StoreError::NotFound("agent"))?;
        let mut am: agent::ActiveModel = a.into();
        change(&mut am);
        am.updated_at = Set(Utc::now());
        Ok(am.update(self.db.conn()).await?)
    }

    /// Stores a new password hash.
    pub async fn set_password_hash(
        &self,
        id: i64,
        hash: String,
    ) -> Result<agent::Model, StoreError> {
        self.update(id, |am| am.password_hash = Set(hash)).await
    }

    /// Changes the profile fields that are given.
    pub async fn set_profile(
        &self,
        id: i64,
        name: Option<String>,
        language: Option<String>,
        notifications: Option<serde_json::Value>,
    ) -> Result<agent::Model, StoreError> {
        self.update(id, |am| {
            if let Some(n) = name {
                am.name = Set(n);
            }
            if let Some(l) = language {
                am.language = Set(l);
            }
            if let Some(n) = notifications {
                am.notifications = Set(Some(n));
            }
        })
        .await
    }

    /// Deactivates (`false`, also going offline) or reactivates an agent.
    pub async fn set_active(&self, id: i64, active: bool) -> Result<agent::Model, StoreError> {
        self.update(id, |am| {
            am.active = Set(active);
            if !active {
                am.status = Set("offline".into());
                am.status_changed_at = Set(Utc::now());
            }
        })
        .await
    }

    /// `team_ids` sorted and deduplicated; fails with `Invalid` naming a team that does not
    /// exist.
    pub async fn check_teams(&self, team_ids: &[i64]) -> Result<Vec<i64>, StoreError> {
        let mut ids = team_ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let found: Vec<i64> = team::Entity::find()
            .filter(team::Column::Id.is_in(ids.clone()))
            .all(self.db.conn())
            .await?
            .into_iter()
            .map(|t| t.id)
            .collect();
        if let Some(missing) = ids.iter().find(|i| !found.contains(i)) {
            return Err(StoreError::Invalid(format!(
                "team {missing} does not exist"
            )));
        }
        Ok(ids)
    }

    /// Replaces the teams of `agent_id`; fails with `Invalid` naming an unknown team.
    pub async fn set_teams(&self, agent_id: i64, team_ids: &[i64]) -> Result<(), StoreError> {
        let ids = self.check_teams(team_ids).await?;
        let tx = self.db.begin_write().await?;
        team_member::Entity::delete_many()
            .filter(team_member::Column::AgentId.eq(agent_id))
            .exec(&*tx)
            .await?;
        if !ids.is_empty() {
            team_member::Entity::insert_many(ids.iter().map(|t| team_member::ActiveModel {
                team_id: Set(*t),
                agent_id: Set(agent_id),
            }))
            .exec(&*tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Pending invites and teams of each of `agent_ids`.
    pub async fn flags(&self, agent_ids: &[i64]) -> Result<HashMap<i64, AgentFlags>, StoreError> {
        let mut out: HashMap<i64, AgentFlags> = HashMap::new();
        let members = team_member::Entity::find()
            .filter(team_member::Column::AgentId.is_in(agent_ids.to_vec()))
            .order_by_asc(team_member::Column::TeamId)
            .all(self.db.conn())
            .await?;
        for m in members {
            out.entry(m.agent_id).or_default().team_ids.push(m.team_id);
        }
        let pending = invite::Entity::find()
            .filter(invite::Column::AgentId.is_in(agent_ids.to_vec()))
            .filter(invite::Column::UsedAt.is_null())
            .all(self.db.conn())
            .await?;
        for i in pending {
            out.entry(i.agent_id).or_default().invite_pending = true;
        }
        Ok(out)
    }
}
