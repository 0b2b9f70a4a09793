//! Sensitive-word and personal-data rules (admins): `GET/POST /api/v1/sensitive-rules`,
//! `GET/PUT/DELETE /api/v1/sensitive-rules/{id}`.
//!
//! An edit applies to this node's screen at once and to other nodes within
//! [`crate::screen::REFRESH`].

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kefu_normalizer::sensitive::{SensitiveRuleInput, SensitiveRuleView};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::{Authed, Role};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

/// Every rule.
#[derive(Debug, Serialize, ToSchema)]
pub struct SensitiveRuleList {
    /// Oldest first.
    pub items: Vec<SensitiveRuleView>,
}

/// Puts a store error on the field it names.
fn field_of(e: ApiError) -> ApiError {
    let field = ["name", "words", "pattern", "detector", "team_id"]
        .into_iter()
        .find(|f| e.detail.starts_with(f) || e.detail.starts_with(&format!("each of {f}")));
    match (e.code, field) {
        ("invalid_request", Some(f)) => e.with_field(f),
        _ => e,
    }
}

/// Lists the rules (admins).
#[utoipa::path(get, path = "/api/v1/sensitive-rules", tag = "sensitive",
    responses((status = 200, body = SensitiveRuleList), (status = 403, body = ErrorBody)), security(("bearer" = [])))]
pub async fn list(State(st): State<AppState>, me: Authed) -> ApiResult<Json<SensitiveRuleList>> {
    me.require(Role::Admin)?;
    let items = st.screen.rules().list().await?;
    Ok(Json(SensitiveRuleList { items }))
}

/// Adds a rule (admins).
#[utoipa::path(post, path = "/api/v1/sensitive-rules", tag = "sensitive", request_body = SensitiveRuleInput,
    responses((status = 201, body = SensitiveRuleView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(st): State<AppState>,
    me: Authed,
    ApiJson(req): ApiJson<SensitiveRuleInput>,
) -> ApiResult<(StatusCode, Json<SensitiveRuleView>)> {
    me.require(Role::Admin)?;
    let rule = st
        .screen
        .rules()
        .create(req)
        .await
        .map_err(|e| field_of(e.into()))?;
    st.screen.invalidate();
    Ok((StatusCode::CREATED, Json(rule)))
}

/// One rule (admins).
#[utoipa::path(get, path = "/api/v1/sensitive-rules/{id}", tag = "sensitive",
    responses((status = 200, body = SensitiveRuleView), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<SensitiveRuleView>> {
    me.require(Role::Admin)?;
    Ok(Json(st.screen.rules().get(id).await?))
}

/// Replaces a rule (admins).
#[utoipa::path(put, path = "/api/v1/sensitive-rules/{id}", tag = "sensitive", request_body = SensitiveRuleInput,
    responses((status = 200, body = SensitiveRuleView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn update(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<SensitiveRuleInput>,
) -> ApiResult<Json<SensitiveRuleView>> {
    me.require(Role::Admin)?;
    let rule = st
        .screen
        .rules()
        .update(id, req)
        .await
        .map_err(|e| field_of(e.into()))?;
    st.screen.invalidate();
    Ok(Json(rule))
}

/// Deletes a rule (admins).
#[utoipa::path(delete, path = "/api/v1/sensitive-rules/{id}", tag = "sensitive",
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn delete(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    me.require(Role::Admin)?;
    st.screen.rules().delete(id).await?;
    st.screen.invalidate();
    Ok(StatusCode::NO_CONTENT)
}
