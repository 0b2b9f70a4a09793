//! The [`Agents`] store, sole writer of the `agents` table in the gateway: sign-in lookups,
//! the administration reads, passwords, preferences, skills and team memberships. Creating,
//! changing, presence and removal are in `agent_writes`.

use std::collections::{BTreeMap, HashMap};

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};

use crate::db::Db;
use crate::entity::{agent, agent_skill, invite, team, team_member};
use crate::error::StoreError;

/// What the agent view shows beyond the `agents` row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentFlags {
    /// An invite was issued and not accepted yet.
    pub invite_pending: bool,
    /// Teams the agent belongs to, ascending.
    pub team_ids: Vec<i64>,
    /// Skills and their levels (1–10).
    pub skills: BTreeMap<String, u8>,
}

/// The agent store.
#[derive(Debug, Clone)]
pub struct Agents {
    pub(super) db: Db,
}

impl Agents {
    /// A store over `db`; events it emits wake the outbox relay on commit.
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

    /// Whether any agent, deleted ones included, has this (lower-case) email.
    pub async fn email_taken(&self, email: &str) -> Result<bool, StoreError> {
        Ok(agent::Entity::find()
            .filter(agent::Column::Email.eq(email))
            .one(self.db.conn())
            .await?
            .is_some())
    }

    /// Whether the database holds any agent at all, deleted ones included.
    pub async fn any(&self) -> Result<bool, StoreError> {
        Ok(agent::Entity::find().count(self.db.conn()).await? > 0)
    }

    /// The agent `id` unless deleted.
    pub async fn get(&self, id: i64) -> Result<Option<agent::Model>, StoreError> {
        Ok(agent::Entity::find_by_id(id)
            .filter(agent::Column::DeletedAt.is_null())
            .one(self.db.conn())
            .await?)
    }

    /// The agent `id` unless deleted, or `NotFound("agent")`.
    pub async fn find(&self, id: i64) -> Result<agent::Model, StoreError> {
        self.get(id).await?.ok_or(StoreError::NotFound("agent"))
    }

    /// Every agent not deleted, by id, with their flags.
    pub async fn list(&self) -> Result<Vec<(agent::Model, AgentFlags)>, StoreError> {
        let rows = agent::Entity::find()
            .filter(agent::Column::DeletedAt.is_null())
            .order_by_asc(agent::Column::Id)
            .all(self.db.conn())
            .await?;
        let ids: Vec<i64> = rows.iter().map(|a| a.id).collect();
        let mut flags = self.flags(&ids).await?;
        Ok(rows
            .into_iter()
            .map(|a| {
                let f = flags.remove(&a.id).unwrap_or_default();
                (a, f)
            })
            .collect())
    }

    /// The flags of one agent.
    pub async fn flags_of(&self, id: i64) -> Result<AgentFlags, StoreError> {
        Ok(self.flags(&[id]).await?.remove(&id).unwrap_or_default())
    }

    pub(super) async fn update(
        &self,
        id: i64,
        change: impl FnOnce(&mut agent::ActiveModel),
    ) -> Result<agent::Model, StoreError> {
        let a = self.find(id).await?;
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
        away_after_minutes: Option<i32>,
    ) -> Result<agent::Model, StoreError> {
        self.update(id, |am| {
            if let Some(m) = away_after_minutes {
                am.away_after_minutes = Set(m);
            }
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

    /// Sets (or, with `None`, removes) the agent's picture: the download path of an image.
    pub async fn set_avatar(
        &self,
        id: i64,
        avatar_url: Option<String>,
    ) -> Result<agent::Model, StoreError> {
        self.update(id, |am| am.avatar_url = Set(avatar_url)).await
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

    /// Pending invites, teams and skills of each of `agent_ids`.
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
        let skills = agent_skill::Entity::find()
            .filter(agent_skill::Column::AgentId.is_in(agent_ids.to_vec()))
            .all(self.db.conn())
            .await?;
        for s in skills {
            // Levels are stored as 1–10 (checked on the way in).
            let level = u8::try_from(s.level).unwrap_or(u8::MAX);
            out.entry(s.agent_id)
                .or_default()
                .skills
                .insert(s.skill, level);
        }
        Ok(out)
    }
}

/// Replaces the skills of `agent_id` inside the caller's transaction.
pub(super) async fn write_skills<C: ConnectionTrait>(
    db: &C,
    agent_id: i64,
    skills: &BTreeMap<String, u8>,
) -> Result<(), StoreError> {
    agent_skill::Entity::delete_many()
        .filter(agent_skill::Column::AgentId.eq(agent_id))
        .exec(db)
        .await?;
    if skills.is_empty() {
        return Ok(());
    }
    let rows = skills
        .iter()
        .map(|(skill, level)| agent_skill::ActiveModel {
            agent_id: Set(agent_id),
            skill: Set(skill.clone()),
            level: Set(i16::from(*level)),
        });
    agent_skill::Entity::insert_many(rows).exec(db).await?;
    Ok(())
}
