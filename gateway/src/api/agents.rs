//! Agents: CRUD, skills and presence.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use kefu_normalizer::entity::{agent, agent_skill};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::auth::{self, Authed, Role};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

/// An agent as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AgentView {
    /// Agent id.
    pub id: i64,
    /// Login email.
    pub email: String,
    /// Display name.
    pub name: String,
    /// `admin`, `supervisor` or `agent`.
    pub role: String,
    /// How many conversations the agent handles at once.
    pub max_concurrent: i32,
    /// `online`, `away` or `offline`.
    pub status: String,
    /// Skills and levels (1–10).
    pub skills: BTreeMap<String, u8>,
    /// When the agent was created.
    pub created_at: DateTime<Utc>,
}

/// A list of agents.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgentList {
    /// Agents.
    pub items: Vec<AgentView>,
}

/// A new agent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAgent {
    /// Login email.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Password, at least 8 characters.
    pub password: String,
    /// `admin`, `supervisor` or `agent` (default).
    pub role: Option<String>,
    /// Concurrent conversations (default 5, 1–100).
    pub max_concurrent: Option<i32>,
    /// Skills and levels (1–10).
    pub skills: Option<BTreeMap<String, u8>>,
}

/// Changes to an agent; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentPatch {
    /// Login email.
    pub email: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// New password.
    pub password: Option<String>,
    /// Role (admins only).
    pub role: Option<String>,
    /// Concurrent conversations (supervisors and admins).
    pub max_concurrent: Option<i32>,
    /// Replaces all skills (supervisors and admins).
    pub skills: Option<BTreeMap<String, u8>>,
}

/// A presence change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    /// `online`, `away` or `offline`.
    pub status: String,
}

/// Builds the view of an agent, with skills.
pub async fn agent_view(st: &AppState, a: &agent::Model) -> Result<AgentView, ApiError> {
    let skills = agent_skill::Entity::find()
        .filter(agent_skill::Column::AgentId.eq(a.id))
        .all(st.db.conn())
        .await?
        .into_iter()
        .map(|s| (s.skill, s.level as u8))
        .collect();
    Ok(view(a, skills))
}

fn view(a: &agent::Model, skills: BTreeMap<String, u8>) -> AgentView {
    AgentView {
        id: a.id,
        email: a.email.clone(),
        name: a.name.clone(),
        role: a.role.clone(),
        max_concurrent: a.max_concurrent,
        status: a.status.clone(),
        skills,
        created_at: a.created_at,
    }
}

fn check_email(email: &str) -> Result<String, ApiError> {
    let e = email.trim().to_lowercase();
    let valid = e.len() <= 254
        && e.split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && (d.contains('.') || d == "localhost"));
    if valid {
        Ok(e)
    } else {
        Err(ApiError::invalid(format!(
            "email {email:?} is not a valid address"
        )))
    }
}

fn check_name(name: &str) -> Result<String, ApiError> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 100 {
        return Err(ApiError::invalid("name must be 1 to 100 characters"));
    }
    Ok(n.to_owned())
}

fn check_password(p: &str) -> Result<(), ApiError> {
    if p.chars().count() < 8 || p.len() > 1024 {
        return Err(ApiError::invalid("password must be at least 8 characters"));
    }
    Ok(())
}

fn check_role(r: &str) -> Result<Role, ApiError> {
    Role::parse(r).ok_or_else(|| {
        ApiError::invalid(format!(
            "role {r:?} is unknown; use admin, supervisor or agent"
        ))
    })
}

fn check_max(m: i32) -> Result<i32, ApiError> {
    if (1..=100).contains(&m) {
        Ok(m)
    } else {
        Err(ApiError::invalid(
            "max_concurrent must be between 1 and 100",
        ))
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
            )));
        }
        if !(1..=10).contains(level) {
            return Err(ApiError::invalid(format!(
                "skill {name:?} has level {level}; levels are 1 to 10"
            )));
        }
    }
    Ok(())
}

async fn write_skills<C: ConnectionTrait>(
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

/// Creates an agent record (used by the API, the CLI and the bootstrap admin).
pub async fn create_agent_record(
    st_db: &kefu_normalizer::Db,
    req: NewAgent,
) -> Result<agent::Model, ApiError> {
    let email = check_email(&req.email)?;
    let name = check_name(&req.name)?;
    check_password(&req.password)?;
    let role = check_role(req.role.as_deref().unwrap_or("agent"))?;
    let max = check_max(req.max_concurrent.unwrap_or(5))?;
    let skills = req.skills.unwrap_or_default();
    check_skills(&skills)?;
    let exists = agent::Entity::find()
        .filter(agent::Column::Email.eq(email.as_str()))
        .one(st_db.conn())
        .await?;
    if exists.is_some() {
        return Err(ApiError::conflict(format!(
            "an agent with email {email} already exists"
        )));
    }
    let hash = auth::hash_password(req.password).await?;
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

/// Creates an agent (admins).
#[utoipa::path(post, path = "/api/v1/agents", tag = "agents", request_body = NewAgent,
    responses((status = 201, body = AgentView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(st): State<AppState>,
    me: Authed,
    ApiJson(req): ApiJson<NewAgent>,
) -> ApiResult<(StatusCode, Json<AgentView>)> {
    me.require(Role::Admin)?;
    let row = create_agent_record(&st.db, req).await?;
    Ok((StatusCode::CREATED, Json(agent_view(&st, &row).await?)))
}

/// Lists agents.
#[utoipa::path(get, path = "/api/v1/agents", tag = "agents", responses((status = 200, body = AgentList)), security(("bearer" = [])))]
pub async fn list(State(st): State<AppState>, _me: Authed) -> ApiResult<Json<AgentList>> {
    let rows = agent::Entity::find()
        .filter(agent::Column::DeletedAt.is_null())
        .order_by_asc(agent::Column::Id)
        .all(st.db.conn())
        .await?;
    let mut skills: std::collections::HashMap<i64, BTreeMap<String, u8>> = Default::default();
    for s in agent_skill::Entity::find().all(st.db.conn()).await? {
        skills
            .entry(s.agent_id)
            .or_default()
            .insert(s.skill, s.level as u8);
    }
    let items = rows
        .iter()
        .map(|a| view(a, skills.remove(&a.id).unwrap_or_default()))
        .collect();
    Ok(Json(AgentList { items }))
}

async fn find(st: &AppState, id: i64) -> Result<agent::Model, ApiError> {
    agent::Entity::find_by_id(id)
        .filter(agent::Column::DeletedAt.is_null())
        .one(st.db.conn())
        .await?
        .ok_or_else(|| ApiError::not_found("agent"))
}

/// One agent.
#[utoipa::path(get, path = "/api/v1/agents/{id}", tag = "agents",
    responses((status = 200, body = AgentView), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get(
    State(st): State<AppState>,
    _me: Authed,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<AgentView>> {
    let a = find(&st, id).await?;
    Ok(Json(agent_view(&st, &a).await?))
}

/// Changes an agent. Agents may change their own name, email and password; supervisors also
/// capacity and skills; admins everything.
#[utoipa::path(patch, path = "/api/v1/agents/{id}", tag = "agents", request_body = AgentPatch,
    responses((status = 200, body = AgentView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn update(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<AgentPatch>,
) -> ApiResult<Json<AgentView>> {
    me.require_self_or(id, Role::Admin)?;
    if req.role.is_some() {
        me.require(Role::Admin)?;
    }
    if req.max_concurrent.is_some() || req.skills.is_some() {
        me.require(Role::Supervisor)?;
    }
    let a = find(&st, id).await?;
    let mut am: agent::ActiveModel = a.clone().into();
    if let Some(e) = &req.email {
        let e = check_email(e)?;
        if e != a.email {
            let taken = agent::Entity::find()
                .filter(agent::Column::Email.eq(e.as_str()))
                .one(st.db.conn())
                .await?;
            if taken.is_some() {
                return Err(ApiError::conflict(format!(
                    "an agent with email {e} already exists"
                )));
            }
        }
        am.email = Set(e);
    }
    if let Some(n) = &req.name {
        am.name = Set(check_name(n)?);
    }
    if let Some(p) = req.password {
        check_password(&p)?;
        am.password_hash = Set(auth::hash_password(p).await?);
    }
    if let Some(r) = &req.role {
        let role = check_role(r)?;
        if id == me.agent.id && role < Role::Admin {
            return Err(ApiError::conflict(
                "admins cannot remove their own admin role",
            ));
        }
        am.role = Set(role.as_str().to_owned());
    }
    if let Some(m) = req.max_concurrent {
        am.max_concurrent = Set(check_max(m)?);
    }
    if let Some(s) = &req.skills {
        check_skills(s)?;
    }
    am.updated_at = Set(Utc::now());
    let tx = st.db.begin_write().await?;
    let a = am.update(&tx).await?;
    if let Some(s) = &req.skills {
        write_skills(&tx, id, s).await?;
    }
    tx.commit().await?;
    st.dispatcher.wake();
    Ok(Json(agent_view(&st, &a).await?))
}

/// Deletes an agent (admins). Their messages stay; their open conversations keep the assignee
/// until the dispatcher re-queues them.
#[utoipa::path(delete, path = "/api/v1/agents/{id}", tag = "agents",
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)), security(("bearer" = [])))]
pub async fn delete(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    me.require(Role::Admin)?;
    if id == me.agent.id {
        return Err(ApiError::conflict("agents cannot delete themselves"));
    }
    let a = find(&st, id).await?;
    let mut am: agent::ActiveModel = a.into();
    let now = Utc::now();
    am.deleted_at = Set(Some(now));
    am.status = Set("offline".into());
    am.updated_at = Set(now);
    am.update(st.db.conn()).await?;
    st.dispatcher.agent_status_changed(id, "offline").await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sets an agent's presence (the agent, or a supervisor). Emits `agent.status_changed`.
#[utoipa::path(put, path = "/api/v1/agents/{id}/status", tag = "agents", request_body = StatusChange,
    responses((status = 200, body = AgentView), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn set_status(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<StatusChange>,
) -> ApiResult<Json<AgentView>> {
    me.require_self_or(id, Role::Supervisor)?;
    if !matches!(req.status.as_str(), "online" | "away" | "offline") {
        return Err(ApiError::invalid(format!(
            "status {:?} is unknown; use online, away or offline",
            req.status
        )));
    }
    let a = find(&st, id).await?;
    let previous = a.status.clone();
    if previous == req.status {
        return Ok(Json(agent_view(&st, &a).await?));
    }
    let tx = st.db.begin_write().await?;
    let mut am: agent::ActiveModel = a.into();
    let now = Utc::now();
    am.status = Set(req.status.clone());
    am.status_changed_at = Set(now);
    am.updated_at = Set(now);
    let a = am.update(&tx).await?;
    kefu_normalizer::events::append(
        &tx,
        "agent.status_changed",
        None,
        json!({ "agent_id": a.id, "status": a.status, "previous": previous }),
    )
    .await?;
    tx.commit().await?;
    st.wake.notify_one();
    st.dispatcher.agent_status_changed(a.id, &a.status).await?;
    Ok(Json(agent_view(&st, &a).await?))
}
