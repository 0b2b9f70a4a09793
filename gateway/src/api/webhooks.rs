//! Webhook endpoints (Standard Webhooks), their delivery log and redelivery; the dead-letter
//! view of failed deliveries and failed replies; an inbox's outbound rate limit.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use kefu_dispatcher::webhook::{
    DeliveryView, EndpointPatch, EndpointView, EndpointWithSecret, NewEndpoint,
};
use kefu_normalizer::WebhookDeliveryStatus;
use kefu_normalizer::views::MessageView;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Authed, Role};
use crate::delivery::RateLimit;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

/// A list of endpoints.
#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointList {
    /// Endpoints, oldest first.
    pub items: Vec<EndpointView>,
}

/// Subscribes an endpoint (admins). The answer carries the signing secret, shown only once.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", request_body = NewEndpoint,
    responses((status = 201, body = EndpointWithSecret), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn create(
    State(st): State<AppState>,
    me: Authed,
    ApiJson(body): ApiJson<NewEndpoint>,
) -> ApiResult<(StatusCode, Json<EndpointWithSecret>)> {
    me.require(Role::Admin)?;
    Ok((StatusCode::CREATED, Json(st.webhooks.create(body).await?)))
}

/// Lists endpoints (admins).
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks",
    responses((status = 200, body = EndpointList)), security(("bearer" = [])))]
pub async fn list(State(st): State<AppState>, me: Authed) -> ApiResult<Json<EndpointList>> {
    me.require(Role::Admin)?;
    Ok(Json(EndpointList {
        items: st.webhooks.list().await?,
    }))
}

/// One endpoint (admins).
#[utoipa::path(get, path = "/api/v1/webhooks/{id}", tag = "webhooks",
    responses((status = 200, body = EndpointView), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<EndpointView>> {
    me.require(Role::Admin)?;
    Ok(Json(st.webhooks.get(id).await?))
}

/// Changes an endpoint (admins); `enabled: true` re-enables a disabled one.
#[utoipa::path(patch, path = "/api/v1/webhooks/{id}", tag = "webhooks", request_body = EndpointPatch,
    responses((status = 200, body = EndpointView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn update(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<EndpointPatch>,
) -> ApiResult<Json<EndpointView>> {
    me.require(Role::Admin)?;
    Ok(Json(st.webhooks.update(id, body).await?))
}

/// Deletes an endpoint and its delivery log (admins).
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks",
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn delete(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    me.require(Role::Admin)?;
    st.webhooks.delete(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replaces the signing secret (admins). For 24 hours deliveries carry signatures with both
/// the new and the old secret, so receivers can switch without dropping events.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/rotate-secret", tag = "webhooks",
    responses((status = 200, body = EndpointWithSecret), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn rotate_secret(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<EndpointWithSecret>> {
    me.require(Role::Admin)?;
    Ok(Json(st.webhooks.rotate_secret(id).await?))
}

/// Paging and filtering of deliveries.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DeliveryParams {
    /// `pending`, `sending`, `succeeded` or `failed`.
    pub status: Option<String>,
    /// Only deliveries with a smaller id (the last id of the previous page).
    pub before: Option<i64>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<u64>,
}

/// Deliveries, newest first, each with its attempts.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryPage {
    /// Deliveries.
    pub items: Vec<DeliveryView>,
}

/// The delivery log of an endpoint (admins): every delivery with every attempt's status code,
/// latency and response excerpt.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks", params(DeliveryParams),
    responses((status = 200, body = DeliveryPage), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn deliveries(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(p): ApiQuery<DeliveryParams>,
) -> ApiResult<Json<DeliveryPage>> {
    me.require(Role::Admin)?;
    let status = p
        .status
        .as_deref()
        .map(|s| {
            WebhookDeliveryStatus::ALL
                .into_iter()
                .find(|st| st.as_str() == s)
                .ok_or_else(|| {
                    ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "invalid_query",
                        "status must be pending, sending, succeeded or failed",
                    )
                })
        })
        .transpose()?;
    let limit = super::page_limit(p.limit, 50, 200)?;
    Ok(Json(DeliveryPage {
        items: st.webhooks.deliveries(id, status, p.before, limit).await?,
    }))
}

/// Delivers an event again (admins): one more attempt, now.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/deliveries/{delivery_id}/retry", tag = "webhooks",
    params(("id" = i64, Path), ("delivery_id" = i64, Path)),
    responses((status = 202, body = DeliveryView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)), security(("bearer" = [])))]
pub async fn retry(
    State(st): State<AppState>,
    me: Authed,
    ApiPath((id, delivery_id)): ApiPath<(i64, i64)>,
) -> ApiResult<(StatusCode, Json<DeliveryView>)> {
    me.require(Role::Admin)?;
    Ok((
        StatusCode::ACCEPTED,
        Json(st.webhooks.redeliver(id, delivery_id).await?),
    ))
}

/// Paging of the dead-letter view.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DeadLetterParams {
    /// Only entries with a smaller id.
    pub before: Option<i64>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<u64>,
}

/// What did not get through.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeadLetters {
    /// Replies whose delivery failed for good, newest first.
    pub messages: Vec<MessageView>,
    /// Webhook deliveries that failed for good, newest first.
    pub webhook_deliveries: Vec<DeliveryView>,
}

/// Failed replies and failed webhook deliveries (supervisors).
#[utoipa::path(get, path = "/api/v1/dead-letters", tag = "webhooks", params(DeadLetterParams),
    responses((status = 200, body = DeadLetters)), security(("bearer" = [])))]
pub async fn dead_letters(
    State(st): State<AppState>,
    me: Authed,
    ApiQuery(p): ApiQuery<DeadLetterParams>,
) -> ApiResult<Json<DeadLetters>> {
    me.require(Role::Supervisor)?;
    let limit = super::page_limit(p.limit, 50, 200)?;
    Ok(Json(DeadLetters {
        messages: st.deliveries.failed(p.before, limit).await?,
        webhook_deliveries: st.webhooks.failed(p.before, limit).await?,
    }))
}

/// Sends a failed reply again (supervisors, and the agent who wrote it).
#[utoipa::path(post, path = "/api/v1/messages/{id}/retry", tag = "conversations",
    responses((status = 202), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn retry_message(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    if me.require(Role::Supervisor).is_err() && st.deliveries.author(id).await? != Some(me.agent.id)
    {
        me.require(Role::Supervisor)?;
    }
    if !st.deliveries.requeue_failed(id).await? {
        return Err(ApiError::conflict(format!(
            "message {id} does not exist or its delivery has not failed"
        )));
    }
    // A fresh attempt series, keyed so that a double click queues it once.
    let nonce = Utc::now().timestamp_millis();
    st.jobs
        .push_send(vec![
            kefu_dispatcher::jobs::NewJob::now(kefu_dispatcher::jobs::SendJob {
                message_id: id,
                attempt: 0,
            })
            .key(format!("send:{id}:manual:{nonce}")),
        ])
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                e.to_string(),
            )
        })?;
    Ok(StatusCode::ACCEPTED)
}

/// An inbox's outbound rate limit (admins).
#[utoipa::path(get, path = "/api/v1/inboxes/{id}/rate-limit", tag = "inboxes",
    responses((status = 200, body = RateLimit), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get_rate_limit(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<RateLimit>> {
    me.require(Role::Admin)?;
    let row = st.inbox_store.get(id).await?;
    Ok(Json(
        row.send_limits
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default(),
    ))
}

/// Sets an inbox's outbound rate limit (admins): it overrides the quotas the channel declares.
/// Sends wait for the limiter; they never fail because of it.
#[utoipa::path(put, path = "/api/v1/inboxes/{id}/rate-limit", tag = "inboxes", request_body = RateLimit,
    responses((status = 200, body = RateLimit), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn set_rate_limit(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<RateLimit>,
) -> ApiResult<Json<RateLimit>> {
    me.require(Role::Admin)?;
    for (name, v) in [
        ("per_second", body.per_second),
        ("burst", body.burst),
        ("per_recipient_per_second", body.per_recipient_per_second),
        ("per_recipient_burst", body.per_recipient_burst),
    ] {
        if v.is_some_and(|v| !(1..=100_000).contains(&v)) {
            return Err(ApiError::invalid(format!(
                "{name} must be between 1 and 100000"
            )));
        }
    }
    st.inbox_store
        .set_send_limits(id, serde_json::json!(body))
        .await?;
    Ok(Json(body))
}
