//! Teams: named groups of agents that routing rules, transfers and overflow can target.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use kefu_normalizer::entity::{agent, team, team_member};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
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
    pub agent_ids: Vec<i64>,
}

/// A list of teams.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamList {
    /// Teams.
    pub items: Vec<TeamView>,
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

/// A team's complete member list.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Members {
    /// The members; replaces the current list.
    pub agent_ids: Vec<i64>,
}

async fn members(st: &AppState, team_id: i64) -> Result<Vec<i64>, ApiError> {
    Ok(team_member::Entity::find()
        .filter(team_member::Column::TeamId.eq(team_id))
        .order_by_asc(team_member::Column::AgentId)
        .all(st.db.conn())
        .await?
        .into_iter()
        .map(|m| m.agent_id)
        .collect())
}

async fn set_members(st: &AppState, team_id: i64, ids: &[i64]) -> Result<(), ApiError> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let found = agent::Entity::find()
        .filter(agent::Column::Id.is_in(ids.clone()))
        .filter(agent::Column::DeletedAt.is_null())
        .all(st.db.conn())
        .await?
        .len();
    if found != ids.len() {
        return Err(ApiError::invalid(
            "agent_ids names an agent that does not exist",
        ));
    }
    let tx = st.db.begin_write().await?;
    team_member::Entity::delete_many()
        .filter(team_member::Column::TeamId.eq(team_id))
        .exec(&*tx)
        .await?;
    if !ids.is_empty() {
        team_member::Entity::insert_many(ids.iter().map(|a| team_member::ActiveModel {
            team_id: Set(team_id),
            agent_id: Set(*a),
        }))
        .exec(&*tx)
        .await?;
    }
    tx.commit().await?;
    st.dispatcher.wake();
    Ok(())
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
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::invalid("name must be 1 to 100 characters"));
    }
    let taken = team::Entity::find()
        .filter(team::Column::Name.eq(name))
        .one(st.db.conn())
        .await?;
    if taken.is_some() {
        return Err(ApiError::conflict(format!("a team named {name:?} exists")));
    }
    let row = team::ActiveModel {
        name: Set(name.to_owned()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(st.db.conn())
    .await?;
    set_members(&st, row.id, &req.agent_ids).await?;
    let agent_ids = members(&st, row.id).await?;
    Ok((
        StatusCode::CREATED,
        Json(TeamView {
            id: row.id,
            name: row.name,
            agent_ids,
        }),
    ))
}

/// Lists teams with their members.
#[utoipa::path(get, path = "/api/v1/teams", tag = "teams", responses((status = 200, body = TeamList)), security(("bearer" = [])))]
pub async fn list(State(st): State<AppState>, _me: Authed) -> ApiResult<Json<TeamList>> {
    let rows = team::Entity::find()
        .order_by_asc(team::Column::Id)
        .all(st.db.conn())
        .await?;
    let mut items = Vec::with_capacity(rows.len());
    for t in rows {
        items.push(TeamView {
            agent_ids: members(&st, t.id).await?,
            id: t.id,
            name: t.name,
        });
    }
    Ok(Json(TeamList { items }))
}

/// Replaces a team's members (supervisors).
#[utoipa::path(put, path = "/api/v1/teams/{id}/members", tag = "teams", request_body = Members,
    responses((status = 200, body = TeamView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn put_members(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<Members>,
) -> ApiResult<Json<TeamView>> {
    me.require(Role::Supervisor)?;
    let t = team::Entity::find_by_id(id)
        .one(st.db.conn())
        .await?
        .ok_or_else(|| ApiError::not_found("team"))?;
    set_members(&st, id, &req.agent_ids).await?;
    Ok(Json(TeamView {
        agent_ids: members(&st, id).await?,
        id: t.id,
        name: t.name,
    }))
}
