//! Labels: the organisation's list (supervisors manage it, everyone reads it) and the labels
//! a conversation or a contact carries.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kefu_normalizer::views::{ContactLabelsView, ConversationLabelsView, LabelView};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::{ActOnConversation, SeenContact};
use crate::auth::{Authed, Role};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

/// Every label.
#[derive(Debug, Serialize, ToSchema)]
pub struct LabelList {
    /// Labels, by name.
    pub items: Vec<LabelView>,
    /// Always `null`: the list is complete.
    pub next_cursor: Option<String>,
}

/// A new label.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLabel {
    /// Unique name, 1–50 characters, no commas.
    pub name: String,
    /// `#rrggbb` (default a neutral grey).
    pub color: Option<String>,
}

/// Changes to a label.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelPatch {
    /// A new unique name.
    pub name: Option<String>,
    /// A new colour, `#rrggbb`.
    pub color: Option<String>,
}

/// The complete set of labels something carries.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelSet {
    /// Label names; replaces the current set. Each must exist.
    pub labels: Vec<String>,
}

/// A contact's labels.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactLabels {
    /// Label names, sorted.
    pub labels: Vec<String>,
}

/// Puts a store error on the field it is about.
fn field_of(e: ApiError) -> ApiError {
    let field = if e.detail.starts_with("color") {
        "color"
    } else {
        "name"
    };
    match e.code {
        "conflict" | "invalid_request" => e.with_field(field),
        _ => e,
    }
}

/// Creates a label (supervisors).
#[utoipa::path(post, path = "/api/v1/labels", tag = "labels", request_body = NewLabel,
    responses((status = 201, body = LabelView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(st): State<AppState>,
    me: Authed,
    ApiJson(req): ApiJson<NewLabel>,
) -> ApiResult<(StatusCode, Json<LabelView>)> {
    me.require(Role::Supervisor)?;
    let label = st
        .labels
        .create(&req.name, req.color.as_deref())
        .await
        .map_err(|e| field_of(e.into()))?;
    Ok((StatusCode::CREATED, Json(label)))
}

/// Lists every label.
#[utoipa::path(get, path = "/api/v1/labels", tag = "labels",
    responses((status = 200, body = LabelList)), security(("bearer" = [])))]
pub async fn list(State(st): State<AppState>, _me: Authed) -> ApiResult<Json<LabelList>> {
    Ok(Json(LabelList {
        items: st.labels.list().await?,
        next_cursor: None,
    }))
}

/// One label.
#[utoipa::path(get, path = "/api/v1/labels/{id}", tag = "labels",
    responses((status = 200, body = LabelView), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get(
    State(st): State<AppState>,
    _me: Authed,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<LabelView>> {
    Ok(Json(st.labels.get(id).await?))
}

/// Renames or recolours a label (supervisors).
#[utoipa::path(patch, path = "/api/v1/labels/{id}", tag = "labels", request_body = LabelPatch,
    responses((status = 200, body = LabelView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn update(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<LabelPatch>,
) -> ApiResult<Json<LabelView>> {
    me.require(Role::Supervisor)?;
    let label = st
        .labels
        .update(id, req.name.as_deref(), req.color.as_deref())
        .await
        .map_err(|e| field_of(e.into()))?;
    Ok(Json(label))
}

/// Deletes a label (supervisors); conversations and contacts stop carrying it.
#[utoipa::path(delete, path = "/api/v1/labels/{id}", tag = "labels",
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn delete(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    me.require(Role::Supervisor)?;
    st.labels.delete(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replaces a conversation's labels; emits `conversation.labels_changed` when they change.
#[utoipa::path(put, path = "/api/v1/conversations/{id}/labels", tag = "conversations", request_body = LabelSet,
    responses((status = 200, body = ConversationLabelsView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn set_conversation(
    State(st): State<AppState>,
    c: ActOnConversation,
    ApiJson(req): ApiJson<LabelSet>,
) -> ApiResult<Json<ConversationLabelsView>> {
    let view = st
        .labels
        .set_for_conversation(c.conversation.id, &req.labels)
        .await
        .map_err(|e| labels_field(e.into()))?;
    Ok(Json(view))
}

/// A contact's labels.
#[utoipa::path(get, path = "/api/v1/contacts/{id}/labels", tag = "contacts",
    responses((status = 200, body = ContactLabels), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn contact(
    State(st): State<AppState>,
    SeenContact { id, .. }: SeenContact,
) -> ApiResult<Json<ContactLabels>> {
    Ok(Json(ContactLabels {
        labels: st.labels.of_contact(id).await?,
    }))
}

/// Replaces a contact's labels; emits `contact.labels_changed` when they change.
#[utoipa::path(put, path = "/api/v1/contacts/{id}/labels", tag = "contacts", request_body = LabelSet,
    responses((status = 200, body = ContactLabelsView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn set_contact(
    State(st): State<AppState>,
    SeenContact { id, .. }: SeenContact,
    ApiJson(req): ApiJson<LabelSet>,
) -> ApiResult<Json<ContactLabelsView>> {
    let view = st
        .labels
        .set_for_contact(id, &req.labels)
        .await
        .map_err(|e| labels_field(e.into()))?;
    Ok(Json(view))
}

fn labels_field(e: ApiError) -> ApiError {
    match e.code {
        "invalid_request" => e.with_field("labels"),
        _ => e,
    }
}
