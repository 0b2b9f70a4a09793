//! For the load generators: agents, teams and labels written directly in bulk.

use chrono::Utc;
use kefu_normalizer::Db;
use kefu_normalizer::entity::{agent, label, team};
use sea_orm::{EntityTrait, Set};

/// The ids of what [`staff`] wrote.
pub struct Staff {
    /// `agent0@bench.local`, `agent1@...`, online.
    pub agents: Vec<i64>,
    /// `Team 0`, `Team 1`...
    pub teams: Vec<i64>,
    /// `label-0`, `label-1`...
    pub labels: Vec<i64>,
}

/// Writes `agents` online agents of `capacity` conversations each, `teams` teams and `labels`
/// labels.
pub async fn staff(
    db: &Db,
    agents: usize,
    capacity: i32,
    teams: usize,
    labels: usize,
) -> anyhow::Result<Staff> {
    let now = Utc::now();
    let agents = agent::Entity::insert_many((0..agents).map(|i| agent::ActiveModel {
        email: Set(format!("agent{i}@bench.local")),
        name: Set(format!("Agent {i}")),
        password_hash: Set("-".into()),
        role: Set("agent".into()),
        max_concurrent: Set(capacity),
        status: Set(kefu_normalizer::AgentStatus::Online),
        status_changed_at: Set(now),
        last_assigned_at: Set(None),
        deleted_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }))
    .exec_with_returning(db.conn())
    .await?
    .into_iter()
    .map(|a| a.id)
    .collect();
    let teams = team::Entity::insert_many((0..teams).map(|i| team::ActiveModel {
        name: Set(format!("Team {i}")),
        created_at: Set(now),
        ..Default::default()
    }))
    .exec_with_returning(db.conn())
    .await?
    .into_iter()
    .map(|t| t.id)
    .collect();
    let labels = label::Entity::insert_many((0..labels).map(|i| label::ActiveModel {
        name: Set(format!("label-{i}")),
        color: Set("#4f46e5".into()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }))
    .exec_with_returning(db.conn())
    .await?
    .into_iter()
    .map(|l| l.id)
    .collect();
    Ok(Staff {
        agents,
        teams,
        labels,
    })
}
