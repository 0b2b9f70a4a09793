//! Agents: CRUD, skills, teams, invites, activation and presence.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use kefu_normalizer::accounts::AgentFlags;
use kefu_normalizer::EventData;
use kefu_normalizer::entity::{agent, agent_skill};
use kefu_normalizer::views::AgentStatusView;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use super::agent_input::{
    AgentPatch, NewAgent, check_password, check_skills, create_agent_record,
};
use super::agent_input::{check_email, check_max, check_name, check_role, write_skills};
use crate::auth::{self, Authed, Role};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

/// How long an invite link works.
const INVITE_TTL: chrono::TimeDelta = chrono::TimeDelta::days(7);

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
    /// `false` when deactivated.
    pub active: bool,
    /// An invite link was issued and not used yet.
    pub invite_pending: bool,
    /// Teams the agent belongs to.
    pub team_ids: Vec<i64>,
    /// The one-time link where the agent sets their password (only in the responses that
    /// issue one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invite_url: Option<String>,
    /// When `invite_url` stops working.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invite_expires_at: Option<DateTime<Utc>>,
}

/// A list of agents.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgentList {
    /// Agents.
    pub items: Vec<AgentView>,
}

/// A presence change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    /// `online`, `away` or `offline`.
    pub status: String,
}

/// Builds the view of an agent, with skills, teams and invite state.
pub async fn agent_view(st: &AppState, a: &agent::Model) -> Result<AgentView, ApiError> {
    let skills = agent_skill::Entity::find()
        .filter(agent_skill::Column::AgentId.eq(a.id))
        .all(st.db.conn())
        .await?
        .into_iter()
        .map(|s| (s.skill, s.level as u8))
        .collect();
    let flags = st
        .accounts
        .agents
        .flags(&[a.id])
        .await?
        .remove(&a.id)
        .unwrap_or_default();
    Ok(view(a, skills, flags))
}

fn view(a: &agent::Model, skills: BTreeMap<String, u8>, flags: AgentFlags) -> AgentView {
    AgentView {
        id: a.id,
        email: a.email.clone(),
        name: a.name.clone(),
        role: a.role.clone(),
        max_concurrent: a.max_concurrent,
        status: a.status.clone(),
        skills,
        created_at: a.created_at,
        active: a.active,
        invite_pending: flags.invite_pending,
        team_ids: flags.team_ids,
        invite_url: None,
        invite_expires_at: None,
    }
}

/// Issues a fresh invite link for `a` and returns the view carrying it.
async fn with_invite(st: &AppState, a: &agent::Model) -> Result<AgentView, ApiError> {
    let (token, expires_at) = st.accounts.invites.issue(a.id, INVITE_TTL).await?;
    let mut v = agent_view(st, a).await?;
    v.invite_url = Some(format!(
        "{}/console/#/invite/{token}",
        st.config.public_url()
    ));
    v.invite_expires_at = Some(expires_at);
    Ok(v)
}

/// Creates an agent (admins). Without `password`, the response carries `invite_url`.
#[utoipa::path(post, path = "/api/v1/agents", tag = "agents", request_body = NewAgent,
    responses((status = 201, body = AgentView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(st): State<AppState>,
    me: Authed,
    ApiJson(req): ApiJson<NewAgent>,
) -> ApiResult<(StatusCode, Json<AgentView>)> {
    me.require(Role::Admin)?;
    let invite = req.password.is_none();
    let team_ids = req.team_ids.clone();
    if let Some(teams) = &team_ids {
        st.accounts
            .agents
            .check_teams(teams)
            .await
            .map_err(|e| ApiError::from(e).with_field("team_ids"))?;
    }
    let row = create_agent_record(&st.db, req).await?;
    if let Some(teams) = team_ids {
        st.accounts.agents.set_teams(row.id, &teams).await?;
        st.dispatcher.wake();
    }
    let view = if invite {
        with_invite(&st, &row).await?
    } else {
        agent_view(&st, &row).await?
    };
    Ok((StatusCode::CREATED, Json(view)))
}

/// Issues a new invite link for an agent (admins); the previous link stops working.
#[utoipa::path(post, path = "/api/v1/agents/{id}/invite", tag = "agents",
    params(("id" = i64, Path, description = "Agent id")),
    responses((status = 200, body = AgentView), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn invite(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<AgentView>> {
    me.require(Role::Admin)?;
    let a = find(&st, id).await?;
    Ok(Json(with_invite(&st, &a).await?))
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
    let ids: Vec<i64> = rows.iter().map(|a| a.id).collect();
    let mut flags = st.accounts.agents.flags(&ids).await?;
    let items = rows
        .iter()
        .map(|a| {
            view(
                a,
                skills.remove(&a.id).unwrap_or_default(),
                flags.remove(&a.id).unwrap_or_default(),
            )
        })
        .collect();
    Ok(Json(AgentList { items }))
}

async fn find(st: &AppState, id: i64) -> Result<agent::Model, ApiError> {
    st.accounts
        .agents
        .get(id)
        .await?
        .ok_or_else(|| ApiError::not_found("agent"))
}

/// One agent.
#[utoipa::path(get, path = "/api/v1/agents/{id}", tag = "agents",
    params(("id" = i64, Path, description = "Agent id")),
    responses((status = 200, body = AgentView), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get(
    State(st): State<AppState>,
    _me: Authed,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<AgentView>> {
    let a = find(&st, id).await?;
    Ok(Json(agent_view(&st, &a).await?))
}

/// Changes an agent. Agents may change their own name and email (their password through
/// `POST /api/v1/profile/password`); supervisors also capacity and skills; admins everything,
/// including others' passwords (which ends their sessions), teams and `active`.
#[utoipa::path(patch, path = "/api/v1/agents/{id}", tag = "agents", request_body = AgentPatch,
    params(("id" = i64, Path, description = "Agent id")),
    responses((status = 200, body = AgentView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn update(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<AgentPatch>,
) -> ApiResult<Json<AgentView>> {
    me.require_self_or(id, Role::Admin)?;
    if req.role.is_some() || req.team_ids.is_some() || req.active.is_some() {
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
                return Err(
                    ApiError::conflict(format!("an agent with email {e} already exists"))
                        .with_field("email"),
                );
            }
        }
        am.email = Set(e);
    }
    if let Some(n) = &req.name {
        am.name = Set(check_name(n)?);
    }
    let new_password = req.password.is_some();
    if new_password && id == me.agent.id {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "use_profile_password",
            "change your own password with POST /api/v1/profile/password, which asks for the current one",
        )
        .with_field("password"));
    }
    if let Some(p) = req.password {
        check_password(&p, "password")?;
        am.password_hash = Set(auth::hash_password(p).await?);
    }
    if let Some(r) = &req.role {
        let role = check_role(r)?;
        if id == me.agent.id && role < Role::Admin {
            return Err(
                ApiError::conflict("admins cannot remove their own admin role").with_field("role"),
            );
        }
        am.role = Set(role.as_str().to_owned());
    }
    if let Some(m) = req.max_concurrent {
        am.max_concurrent = Set(check_max(m)?);
    }
    if let Some(s) = &req.skills {
        check_skills(s)?;
    }
    if req.active == Some(false) && id == me.agent.id {
        return Err(ApiError::conflict("admins cannot deactivate themselves").with_field("active"));
    }
    if let Some(teams) = &req.team_ids {
        // Checked first, so a refused team leaves the agent unchanged.
        st.accounts
            .agents
            .set_teams(id, teams)
            .await
            .map_err(|e| ApiError::from(e).with_field("team_ids"))?;
    }
    am.updated_at = Set(Utc::now());
    let tx = st.db.begin_write().await?;
    let mut a = am.update(&tx).await?;
    if let Some(s) = &req.skills {
        write_skills(&tx, id, s).await?;
    }
    tx.commit().await?;
    if new_password {
        st.accounts.end_sessions(id, None).await?;
    }
    match req.active {
        Some(false) if a.active => a = deactivate(&st, a).await?,
        Some(true) if !a.active => a = st.accounts.agents.set_active(id, true).await?,
        _ => {}
    }
    st.dispatcher.wake();
    Ok(Json(agent_view(&st, &a).await?))
}

/// Deactivates `a`: sessions end (open sockets close), they go offline with the usual event,
/// and their open conversations go back to the queue.
async fn deactivate(st: &AppState, a: agent::Model) -> Result<agent::Model, ApiError> {
    let previous = a.status.clone();
    let a = st.accounts.agents.set_active(a.id, false).await?;
    st.accounts.end_sessions(a.id, None).await?;
    if previous != "offline" {
        let tx = st.db.begin_write().await?;
        tx.emit(EventData::AgentStatusChanged(AgentStatusView {
            agent_id: a.id,
            status: "offline".into(),
            previous,
        }))
        .await?;
        tx.commit().await?;
    }
    st.dispatcher.agent_status_changed(a.id, "offline").await?;
    Ok(a)
}

/// Deletes an agent (admins). Their messages stay; their open conversations keep the assignee
/// until the dispatcher re-queues them.
#[utoipa::path(delete, path = "/api/v1/agents/{id}", tag = "agents",
    params(("id" = i64, Path, description = "Agent id")),
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
    st.accounts.end_sessions(id, None).await?;
    st.dispatcher.agent_status_changed(id, "offline").await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sets an agent's presence (the agent, or a supervisor). Emits `agent.status_changed`.
#[utoipa::path(put, path = "/api/v1/agents/{id}/status", tag = "agents", request_body = StatusChange,
    params(("id" = i64, Path, description = "Agent id")),
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
        ))
        .with_field("status"));
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
    tx.emit(EventData::AgentStatusChanged(AgentStatusView {
        agent_id: a.id,
        status: a.status.clone(),
        previous,
    }))
    .await?;
    tx.commit().await?;
    st.dispatcher.agent_status_changed(a.id, &a.status).await?;
    Ok(Json(agent_view(&st, &a).await?))
}
