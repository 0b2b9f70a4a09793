//! Schedules (business hours): admins define them, everyone reads them. An inbox keeps one
//! through its `schedule_id`, and its FAQ bot may keep one as the bot's hours. A schedule an
//! inbox or its bot keeps cannot be deleted: the answer is 409 `schedule_in_use` naming the
//! inboxes, so that no inbox loses its hours (and its out-of-office reply) without an admin
//! choosing so.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kefu_normalizer::schedules::{ScheduleError, ScheduleSpec, ScheduleView};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::{Authed, Role};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

/// Every schedule.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleList {
    /// Schedules, by name.
    pub items: Vec<ScheduleView>,
    /// Always `null`: the list is complete.
    pub next_cursor: Option<String>,
}

impl From<ScheduleError> for ApiError {
    fn from(e: ScheduleError) -> Self {
        let detail = e.to_string();
        match e {
            ScheduleError::Name => Self::invalid(detail).with_field("name"),
            ScheduleError::Hours(h) => Self::invalid(detail).with_field(h.field()),
            ScheduleError::NameTaken(_) => Self::conflict(detail).with_field("name"),
            ScheduleError::InUse(_) => Self::new(StatusCode::CONFLICT, "schedule_in_use", detail),
            ScheduleError::Store(e) => e.into(),
        }
    }
}

/// Creates a schedule (admins).
#[utoipa::path(post, path = "/api/v1/schedules", tag = "schedules", request_body = ScheduleSpec,
    responses((status = 201, body = ScheduleView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn create(
    State(st): State<AppState>,
    me: Authed,
    ApiJson(req): ApiJson<ScheduleSpec>,
) -> ApiResult<(StatusCode, Json<ScheduleView>)> {
    me.require(Role::Admin)?;
    Ok((StatusCode::CREATED, Json(st.schedules.create(&req).await?)))
}

/// Lists every schedule.
#[utoipa::path(get, path = "/api/v1/schedules", tag = "schedules",
    responses((status = 200, body = ScheduleList)), security(("bearer" = [])))]
pub async fn list(State(st): State<AppState>, _me: Authed) -> ApiResult<Json<ScheduleList>> {
    Ok(Json(ScheduleList {
        items: st.schedules.list().await?,
        next_cursor: None,
    }))
}

/// One schedule.
#[utoipa::path(get, path = "/api/v1/schedules/{id}", tag = "schedules",
    responses((status = 200, body = ScheduleView), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get(
    State(st): State<AppState>,
    _me: Authed,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ScheduleView>> {
    Ok(Json(st.schedules.get(id).await?))
}

/// Replaces a schedule's definition (admins). Inboxes that keep it follow the new hours at
/// once.
#[utoipa::path(put, path = "/api/v1/schedules/{id}", tag = "schedules", request_body = ScheduleSpec,
    responses((status = 200, body = ScheduleView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn update(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<ScheduleSpec>,
) -> ApiResult<Json<ScheduleView>> {
    me.require(Role::Admin)?;
    Ok(Json(st.schedules.update(id, &req).await?))
}

/// Deletes a schedule (admins); 409 `schedule_in_use`, naming them, while inboxes keep it.
#[utoipa::path(delete, path = "/api/v1/schedules/{id}", tag = "schedules",
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)), security(("bearer" = [])))]
pub async fn delete(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    me.require(Role::Admin)?;
    st.schedules.delete(id).await?;
    Ok(StatusCode::NO_CONTENT)
}
