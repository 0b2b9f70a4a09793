//! Agents: CRUD, skills, teams, invites, activation and presence.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use kefu_normalizer::AgentStatus;
use kefu_normalizer::accounts::{self, AgentFlags};
use kefu_normalizer::entity::agent;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Authed, Role};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;
pub use kefu_normalizer::accounts::{AgentPatch, NewAgent};

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
    pub status: AgentStatus,
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
    /// The agent's picture (relative to Kefu's public URL); absent: show their initial.
    pub avatar_url: Option<String>,
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

/// Fails with 422 `weak_password` about `field` unless `p` has 8 to 1024 characters.
pub fn check_password(p: &str, field: &str) -> Result<(), ApiError> {
    Ok(accounts::check_password(p, field)?)
}

/// Validates a skill map: names `[a-z0-9_-]{1,64}`, levels 1–10; errors name the field.
pub fn check_skills(skills: &BTreeMap<String, u8>) -> Result<(), ApiError> {
    Ok(accounts::check_skills(skills)?)
}

/// Builds the view of an agent, with skills, teams and invite state.
pub async fn agent_view(st: &AppState, a: &agent::Model) -> Result<AgentView, ApiError> {
    Ok(view(a, st.accounts.agents.flags_of(a.id).await?))
}

fn view(a: &agent::Model, flags: AgentFlags) -> AgentView {
    AgentView {
        id: a.id,
        email: a.email.clone(),
        name: a.name.clone(),
        role: a.role.clone(),
        max_concurrent: a.max_concurrent,
        status: a.status,
        skills: flags.skills,
        created_at: a.created_at,
        active: a.active,
        invite_pending: flags.invite_pending,
        team_ids: flags.team_ids,
        avatar_url: a.avatar_url.clone(),
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
    let with_teams = req.team_ids.is_some();
    let row = st.accounts.agents.create(req).await?;
    if with_teams {
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
    let items = st
        .accounts
        .agents
        .list()
        .await?
        .into_iter()
        .map(|(a, flags)| view(&a, flags))
        .collect();
    Ok(Json(AgentList { items }))
}

async fn find(st: &AppState, id: i64) -> Result<agent::Model, ApiError> {
    Ok(st.accounts.agents.find(id).await?)
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
    if req.password.is_some() && id == me.agent.id {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "use_profile_password",
            "change your own password with POST /api/v1/profile/password, which asks for the current one",
        )
        .with_field("password"));
    }
    // An unknown role is the store's to report.
    if id == me.agent.id
        && req
            .role
            .as_deref()
            .and_then(Role::parse)
            .is_some_and(|r| r < Role::Admin)
    {
        return Err(
            ApiError::conflict("admins cannot remove their own admin role").with_field("role"),
        );
    }
    if req.active == Some(false) && id == me.agent.id {
        return Err(ApiError::conflict("admins cannot deactivate themselves").with_field("active"));
    }
    let mut a = st.accounts.agents.update_fields(id, &req).await?;
    if req.role.is_some() || req.team_ids.is_some() {
        // What they may see follows role and teams: their open consoles reload it.
        let _ = st.accounts.changed.send(id);
    }
    if req.password.is_some() {
        st.accounts.end_sessions(id, None).await?;
    }
    match req.active {
        Some(false) if a.active => a = deactivate(&st, id).await?,
        Some(true) if !a.active => a = st.accounts.agents.reactivate(id).await?,
        _ => {}
    }
    st.dispatcher.wake();
    Ok(Json(agent_view(&st, &a).await?))
}

/// Deactivates agent `id`: they go offline with the usual event, their sessions end (open
/// sockets close), and their open conversations go back to the queue.
async fn deactivate(st: &AppState, id: i64) -> Result<agent::Model, ApiError> {
    let a = st.accounts.agents.deactivate(id).await?;
    st.accounts.end_sessions(id, None).await?;
    st.dispatcher
        .agent_status_changed(id, AgentStatus::Offline)
        .await?;
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
    st.accounts.agents.delete(id).await?;
    st.accounts.end_sessions(id, None).await?;
    st.dispatcher
        .agent_status_changed(id, AgentStatus::Offline)
        .await?;
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
    let status = AgentStatus::parse(&req.status).ok_or_else(|| {
        ApiError::invalid(format!(
            "status {:?} is unknown; use online, away or offline",
            req.status
        ))
        .with_field("status")
    })?;
    let (a, changed) = st.accounts.agents.set_status(id, status).await?;
    if changed {
        st.dispatcher.agent_status_changed(a.id, a.status).await?;
    }
    Ok(Json(agent_view(&st, &a).await?))
}
