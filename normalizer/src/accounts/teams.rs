//! Teams: named groups of agents that routing rules, transfers and overflow can target.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::db::Db;
use crate::entity::{agent, team, team_member};
use crate::error::StoreError;

/// A team with its members.
#[derive(Debug, Clone, PartialEq)]
pub struct TeamRecord {
    /// The row.
    pub team: team::Model,
    /// Member agent ids, ascending.
    pub member_ids: Vec<i64>,
}

/// The team store.
#[derive(Debug, Clone)]
pub struct Teams {
    db: Db,
}

impl Teams {
    /// A store over `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    async fn name_taken(&self, name: &str, except: Option<i64>) -> Result<bool, StoreError> {
        let mut q = team::Entity::find().filter(team::Column::Name.eq(name));
        if let Some(id) = except {
            q = q.filter(team::Column::Id.ne(id));
        }
        Ok(q.one(self.db.conn()).await?.is_some())
    }

    /// Creates a team with `members`; `Conflict` when the name is taken, `Invalid` when a
    /// member does not exist.
    pub async fn create(&self, name: &str, members: &[i64]) -> Result<TeamRecord, StoreError> {
        if self.name_taken(name, None).await? {
            return Err(StoreError::Conflict(format!(
                "a team named {name:?} exists"
            )));
        }
        let members = self.check_agents(members).await?;
        let tx = self.db.begin_write().await?;
        let row = team::ActiveModel {
            name: Set(name.to_owned()),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&*tx)
        .await?;
        write_members(&tx, row.id, &members).await?;
        tx.commit().await?;
        Ok(TeamRecord {
            team: row,
            member_ids: members,
        })
    }

    /// Every team with its members, by id.
    pub async fn list(&self) -> Result<Vec<TeamRecord>, StoreError> {
        let teams = team::Entity::find()
            .order_by_asc(team::Column::Id)
            .all(self.db.conn())
            .await?;
        let mut members: HashMap<i64, Vec<i64>> = HashMap::new();
        for m in team_member::Entity::find()
            .order_by_asc(team_member::Column::AgentId)
            .all(self.db.conn())
            .await?
        {
            members.entry(m.team_id).or_default().push(m.agent_id);
        }
        Ok(teams
            .into_iter()
            .map(|t| TeamRecord {
                member_ids: members.remove(&t.id).unwrap_or_default(),
                team: t,
            })
            .collect())
    }

    /// One team.
    pub async fn get(&self, id: i64) -> Result<TeamRecord, StoreError> {
        let team = team::Entity::find_by_id(id)
            .one(self.db.conn())
            .await?
            .ok_or(StoreError::NotFound("team"))?;
        let member_ids = team_member::Entity::find()
            .filter(team_member::Column::TeamId.eq(id))
            .order_by_asc(team_member::Column::AgentId)
            .all(self.db.conn())
            .await?
            .into_iter()
            .map(|m| m.agent_id)
            .collect();
        Ok(TeamRecord { team, member_ids })
    }

    /// Renames a team.
    pub async fn rename(&self, id: i64, name: &str) -> Result<TeamRecord, StoreError> {
        let t = self.get(id).await?;
        if self.name_taken(name, Some(id)).await? {
            return Err(StoreError::Conflict(format!(
                "a team named {name:?} exists"
            )));
        }
        let mut am: team::ActiveModel = t.team.into();
        am.name = Set(name.to_owned());
        am.update(self.db.conn()).await?;
        self.get(id).await
    }

    /// Deletes a team and its memberships.
    pub async fn delete(&self, id: i64) -> Result<(), StoreError> {
        self.get(id).await?;
        let tx = self.db.begin_write().await?;
        team_member::Entity::delete_many()
            .filter(team_member::Column::TeamId.eq(id))
            .exec(&*tx)
            .await?;
        team::Entity::delete_by_id(id).exec(&*tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Replaces a team's members.
    pub async fn set_members(&self, id: i64, members: &[i64]) -> Result<TeamRecord, StoreError> {
        self.get(id).await?;
        let members = self.check_agents(members).await?;
        let tx = self.db.begin_write().await?;
        write_members(&tx, id, &members).await?;
        tx.commit().await?;
        self.get(id).await
    }

    /// `ids` sorted and deduplicated; fails with `Invalid` (about `agent_ids`) when one names
    /// no agent or a deleted one.
    pub(crate) async fn check_agents(&self, ids: &[i64]) -> Result<Vec<i64>, StoreError> {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let found = agent::Entity::find()
            .filter(agent::Column::Id.is_in(ids.clone()))
            .filter(agent::Column::DeletedAt.is_null())
            .all(self.db.conn())
            .await?
            .len();
        if found != ids.len() {
            return Err(StoreError::Invalid(
                "agent_ids names an agent that does not exist".into(),
            ));
        }
        Ok(ids)
    }
}

async fn write_members(
    tx: &crate::db::WriteTx,
    team_id: i64,
    members: &[i64],
) -> Result<(), StoreError> {
    team_member::Entity::delete_many()
        .filter(team_member::Column::TeamId.eq(team_id))
        .exec(&**tx)
        .await?;
    if !members.is_empty() {
        team_member::Entity::insert_many(members.iter().map(|a| team_member::ActiveModel {
            team_id: Set(team_id),
            agent_id: Set(*a),
        }))
        .exec(&**tx)
        .await?;
    }
    Ok(())
}
