//! What admins send to create and change agents, its validation (each error names its
//! `field`), and creating the agent record (shared by the API, the CLI and the bootstrap
//! admin).

use std::collections::BTreeMap;

use chrono::Utc;
use kefu_normalizer::entity::{agent, agent_skill};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::{self, Role};
use crate::error::ApiError;

/// A new agent. Without `password` the agent is invited: the response carries a one-time link
/// where they set their own.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAgent {
    /// Login email.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Password, at least 8 characters; leave it out to send an invite link instead.
    pub password: Option<String>,
    /// `admin`, `supervisor` or `agent` (default).
    pub role: Option<String>,
    /// Concurrent conversations (default 5, 1–100).
    pub max_concurrent: Option<i32>,
    /// Skills and levels (1–10).
    pub skills: Option<BTreeMap<String, u8>>,
    /// Teams the agent joins.
    pub team_ids: Option<Vec<i64>>,
}

/// Changes to an agent; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentPatch {
    /// Login email.
    pub email: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// New password; ends all the agent's sessions.
    pub password: Option<String>,
    /// Role (admins only).
    pub role: Option<String>,
    /// Concurrent conversations (supervisors and admins).
    pub max_concurrent: Option<i32>,
    /// Replaces all skills (supervisors and admins).
    pub skills: Option<BTreeMap<String, u8>>,
    /// Replaces the agent's teams (admins).
    pub team_ids: Option<Vec<i64>>,
    /// `false` deactivates (admins): sessions and tokens stop working, the agent cannot sign
    /// in, their open conversations go back to the queue. `true` reactivates.
    pub active: Option<bool>,
}

pub(crate) fn check_email(email: &str) -> Result<String, ApiError> {
    let e = email.trim().to_lowercase();
    let valid = e.len() <= 254
        && e.split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && (d.contains('.') || d == "localhost"));
    if valid {
        Ok(e)
    } else {
        Err(
            ApiError::invalid(format!("email {email:?} is not a valid address"))
                .with_field("email"),
        )
    }
}

pub(crate) fn check_name(name: &str) -> Result<String, ApiError> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 100 {
        return Err(ApiError::invalid("name must be 1 to 100 characters").with_field("name"));
    }
    Ok(n.to_owned())
}

/// Fails with 422 `weak_password` about `field` unless `p` has 8 to 1024 characters.
pub fn check_password(p: &str, field: &str) -> Result<(), ApiError> {
    if p.chars().count() < 8 || p.len() > 1024 {
        return Err(ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "weak_password",
            "the password must be at least 8 characters",
        )
        .with_field(field));
    }
    Ok(())
}

pub(crate) fn check_role(r: &str) -> Result<Role, ApiError> {
    Role::parse(r).ok_or_else(|| {
        ApiError::invalid(format!(
            "role {r:?} is unknown; use admin, supervisor or agent"
        ))
        .with_field("role")
    })
}

pub(crate) fn check_max(m: i32) -> Result<i32, ApiError> {
    if (1..=100).contains(&m) {
        Ok(m)
    } else {
        Err(
            ApiError::invalid("max_concurrent must be between 1 and 100")
                .with_field("max_concurrent"),
        )
    }
}

/// Validates a skill map: names `[a-z0-9_-]{1,64}`, levels 1–10.
pub fn check_skills(skills: &BTreeMap<String, u8>) -> Result<(), ApiError> {
    for (name, level) in skills {
        let ok_name = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        if !ok_name {
            return Err(ApiError::invalid(format!(
                "skill {name:?} must be 1 to 64 characters of a-z, 0-9, _ and -"
            ))
            .with_field("skills"));
        }
        if !(1..=10).contains(level) {
            return Err(ApiError::invalid(format!(
                "skill {name:?} has level {level}; levels are 1 to 10"
            ))
            .with_field(format!("skills.{name}")));
        }
    }
    Ok(())
}

pub(crate) async fn write_skills<C: ConnectionTrait>(
    db: &C,
    agent_id: i64,
    skills: &BTreeMap<String, u8>,
) -> Result<(), ApiError> {
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

/// Creates an agent record (used by the API, the CLI and the bootstrap admin). Without a
/// password the agent cannot sign in until they accept an invite. Teams are not set here.
pub async fn create_agent_record(
    st_db: &kefu_normalizer::Db,
    req: NewAgent,
) -> Result<agent::Model, ApiError> {
    let email = check_email(&req.email)?;
    let name = check_name(&req.name)?;
    if let Some(p) = &req.password {
        check_password(p, "password")?;
    }
    let role = check_role(req.role.as_deref().unwrap_or("agent"))?;
    let max = check_max(req.max_concurrent.unwrap_or(5))?;
    let skills = req.skills.unwrap_or_default();
    check_skills(&skills)?;
    let exists = agent::Entity::find()
        .filter(agent::Column::Email.eq(email.as_str()))
        .one(st_db.conn())
        .await?;
    if exists.is_some() {
        return Err(
            ApiError::conflict(format!("an agent with email {email} already exists"))
                .with_field("email"),
        );
    }
    let hash = match req.password {
        Some(p) => auth::hash_password(p).await?,
        None => String::new(),
    };
    let now = Utc::now();
    let tx = st_db.begin_write().await?;
    let row = agent::ActiveModel {
        email: Set(email),
        name: Set(name),
        password_hash: Set(hash),
        role: Set(role.as_str().to_owned()),
        max_concurrent: Set(max),
        status: Set("offline".into()),
        status_changed_at: Set(now),
        last_assigned_at: Set(None),
        deleted_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&tx)
    .await?;
    write_skills(&tx, row.id, &skills).await?;
    tx.commit().await?;
    Ok(row)
}
