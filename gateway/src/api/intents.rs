//! Intents (admins): `GET/POST /api/v1/intents`, `GET/PUT/DELETE /api/v1/intents/{id}`.
//!
//! An intent is a name routing rules use (`when.intent`), a label, and example phrases the
//! detector matches customers' first messages against (`kefu_ai::IntentDetector`). An edit
//! applies to this node's index before the answer; other nodes pick it up before their next
//! detection (they compare a fingerprint of the intents when routing).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kefu_normalizer::intents::{IntentInput, IntentView};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::{Authed, Role};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

/// Every intent.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntentList {
    /// By name.
    pub items: Vec<IntentView>,
}

/// Puts a store error on the field it names.
fn field_of(e: ApiError) -> ApiError {
    let field = ["name", "label", "examples"]
        .into_iter()
        .find(|f| e.detail.starts_with(f) || e.detail.starts_with(&format!("each of {f}")));
    match (e.code, field) {
        ("invalid_request" | "conflict", Some(f)) => e.with_field(f),
        _ => e,
    }
}

/// Brings this node's index in line after an edit. The edit is committed either way; a
/// failure here is retried at the next detection.
async fn reindex(st: &AppState) {
    if let Err(e) = st.intents.refresh().await {
        tracing::warn!(error = %e, "Cannot rebuild the intent index; the next detection retries.");
    }
}

/// Lists the intents (any agent: the console shows their labels).
#[utoipa::path(get, path = "/api/v1/intents", tag = "intents",
    responses((status = 200, body = IntentList)), security(("bearer" = [])))]
pub async fn list(State(st): State<AppState>, _me: Authed) -> ApiResult<Json<IntentList>> {
    let items = st.intents.store().list().await?;
    Ok(Json(IntentList { items }))
}

/// Adds an intent (admins).
#[utoipa::path(post, path = "/api/v1/intents", tag = "intents", request_body = IntentInput,
    responses((status = 201, body = IntentView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(st): State<AppState>,
    me: Authed,
    ApiJson(req): ApiJson<IntentInput>,
) -> ApiResult<(StatusCode, Json<IntentView>)> {
    me.require(Role::Admin)?;
    let intent = st
        .intents
        .store()
        .create(req)
        .await
        .map_err(|e| field_of(e.into()))?;
    reindex(&st).await;
    Ok((StatusCode::CREATED, Json(intent)))
}

/// One intent.
#[utoipa::path(get, path = "/api/v1/intents/{id}", tag = "intents",
    responses((status = 200, body = IntentView), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get(
    State(st): State<AppState>,
    _me: Authed,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<IntentView>> {
    Ok(Json(st.intents.store().get(id).await?))
}

/// Replaces an intent's label, examples and `enabled` (admins); the name stays.
#[utoipa::path(put, path = "/api/v1/intents/{id}", tag = "intents", request_body = IntentInput,
    responses((status = 200, body = IntentView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn update(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<IntentInput>,
) -> ApiResult<Json<IntentView>> {
    me.require(Role::Admin)?;
    let intent = st
        .intents
        .store()
        .update(id, req)
        .await
        .map_err(|e| field_of(e.into()))?;
    reindex(&st).await;
    Ok(Json(intent))
}

/// Deletes an intent (admins). Conversations keep the name they were given; routing rules
/// naming it no longer match.
#[utoipa::path(delete, path = "/api/v1/intents/{id}", tag = "intents",
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn delete(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    me.require(Role::Admin)?;
    st.intents.store().delete(id).await?;
    reindex(&st).await;
    Ok(StatusCode::NO_CONTENT)
}
