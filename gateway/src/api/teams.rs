//! Teams: named groups of agents that routing rules, transfers and overflow can target.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kefu_normalizer::accounts::TeamRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Authed, Role};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

/// A team.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamView {
    /// Team id.
    pub id: i64,
    /// Unique name.
    pub name: String,
    /// Its members.
    pub member_ids: Vec<i64>,
    /// Its members (the same as `member_ids`; kept for older clients).
    pub agent_ids: Vec<i64>,
}

/// A list of teams.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamList {
    /// Teams.
    pub items: Vec<TeamView>,
    /// Always `null`: the list is complete.
    pub next_cursor: Option<String>,
}

/// A new team.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTeam {
    /// Unique name, 1–100 characters.
    pub name: String,
    /// Initial members.
    #[serde(default)]
    pub agent_ids: Vec<i64>,
}

/// A team's new name.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamPatch {
    /// Unique name, 1–100 characters.
    pub name: Option<String>,
}

/// A team's complete member list.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Members {
    /// The members; replaces the current list.
    pub agent_ids: Vec<i64>,
}

fn view(r: TeamRecord) -> TeamView {
    TeamView {
        id: r.team.id,
        name: r.team.name,
        agent_ids: r.member_ids.clone(),
        member_ids: r.member_ids,
    }
}

fn check_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::invalid("name must be 1 to 100 characters").with_field("name"));
    }
    Ok(name.to_owned())
}

/// Creates a team (supervisors).
#[utoipa::path(post, path = "/api/v1/teams", tag = "teams", request_body = NewTeam,
    responses((status = 201, body = TeamView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(st): State<AppState>,
    me: Authed,
    ApiJson(req): ApiJson<NewTeam>,
) -> ApiResult<(StatusCode, Json<TeamView>)> {
    me.require(Role::Supervisor)?;
    let name = check_name(&req.name)?;
    let r = st
        .accounts
        .teams
        .create(&name, &req.agent_ids)
        .await
        .map_err(|e| field_of(e.into()))?;
    st.dispatcher.wake();
    Ok((StatusCode::CREATED, Json(view(r))))
}

/// Puts a store error on the field it is about.
fn field_of(e: ApiError) -> ApiError {
    match e.code {
        "conflict" => e.with_field("name"),
        "invalid_request" => e.with_field("agent_ids"),
        _ => e,
    }
}

/// Lists teams with their members.
#[utoipa::path(get, path = "/api/v1/teams", tag = "teams", responses((status = 200, body = TeamList)), security(("bearer" = [])))]
pub async fn list(State(st): State<AppState>, _me: Authed) -> ApiResult<Json<TeamList>> {
    let items = st
        .accounts
        .teams
        .list()
        .await?
        .into_iter()
        .map(view)
        .collect();
    Ok(Json(TeamList {
        items,
        next_cursor: None,
    }))
}

/// One team.
#[utoipa::path(get, path = "/api/v1/teams/{id}", tag = "teams",
    params(("id" = i64, Path, description = "Team id")),
    responses((status = 200, body = TeamView), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get(
    State(st): State<AppState>,
    _me: Authed,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<TeamView>> {
    Ok(Json(view(st.accounts.teams.get(id).await?)))
}

/// Renames a team (supervisors).
#[utoipa::path(patch, path = "/api/v1/teams/{id}", tag = "teams", request_body = TeamPatch,
    params(("id" = i64, Path, description = "Team id")),
    responses((status = 200, body = TeamView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn update(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<TeamPatch>,
) -> ApiResult<Json<TeamView>> {
    me.require(Role::Supervisor)?;
    let r = match req.name {
        Some(name) => {
            let name = check_name(&name)?;
            st.accounts
                .teams
                .rename(id, &name)
                .await
                .map_err(|e| field_of(e.into()))?
        }
        None => st.accounts.teams.get(id).await?,
    };
    Ok(Json(view(r)))
}

/// Deletes a team (admins); its agents stay.
#[utoipa::path(delete, path = "/api/v1/teams/{id}", tag = "teams",
    params(("id" = i64, Path, description = "Team id")),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn delete(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    me.require(Role::Admin)?;
    st.accounts.teams.delete(id).await?;
    st.dispatcher.wake();
    Ok(StatusCode::NO_CONTENT)
}

/// Replaces a team's members (supervisors).
#[utoipa::path(put, path = "/api/v1/teams/{id}/members", tag = "teams", request_body = Members,
    params(("id" = i64, Path, description = "Team id")),
    responses((status = 200, body = TeamView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn put_members(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<Members>,
) -> ApiResult<Json<TeamView>> {
    me.require(Role::Supervisor)?;
    let before = st.accounts.teams.get(id).await?.member_ids;
    let r = st
        .accounts
        .teams
        .set_members(id, &req.agent_ids)
        .await
        .map_err(|e| field_of(e.into()))?;
    // Members reach the team's inboxes: whoever joined or left sees it in their console.
    for agent_id in before.iter().chain(&r.member_ids) {
        let _ = st.accounts.changed.send(*agent_id);
    }
    st.dispatcher.wake();
    Ok(Json(view(r)))
}
