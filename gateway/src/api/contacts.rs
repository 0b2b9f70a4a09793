//! Contacts as agents find them (`GET /contacts?q=`) and edit them (`PATCH /contacts/{id}`), and the custom attribute definitions
//! that decide what their `attributes` may hold (`/attribute-definitions`: everyone reads the list,
//! admins change it). Reading a contact and merging two stay in `conversations.rs`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kefu_normalizer::attributes::{AttributePatch, CustomAttributeView, NewAttribute};
use kefu_normalizer::contacts::ContactPatch;
use kefu_normalizer::views::ContactView;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::access::SeenContact;
use crate::auth::{Authed, Role};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

/// Every custom attribute definition.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttributeList {
    /// Definitions, oldest first.
    pub items: Vec<CustomAttributeView>,
    /// Always `null`: the list is complete.
    pub next_cursor: Option<String>,
}

/// Which contacts to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FindParams {
    /// Text to find in the name, email, phone or a channel identity (case-insensitive), or a
    /// contact id.
    pub q: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1–100 (default 25).
    pub limit: Option<u64>,
}

/// A page of contacts, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactPage {
    /// Contacts with their identities.
    pub items: Vec<ContactView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Lists the contacts the caller sees (through their conversations; admins all), newest
/// first, optionally matching `q`.
#[utoipa::path(get, path = "/api/v1/contacts", tag = "contacts", params(FindParams),
    responses((status = 200, body = ContactPage), (status = 400, body = ErrorBody)), security(("bearer" = [])))]
pub async fn find(
    State(st): State<AppState>,
    me: Authed,
    ApiQuery(p): ApiQuery<FindParams>,
) -> ApiResult<Json<ContactPage>> {
    let limit = super::page_limit(p.limit, 25, 100)?;
    let before = match p.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(c.parse::<i64>().map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                format!("cursor {c:?} is not one this API returned"),
            )
        })?),
    };
    let visibility = me.visibility(&st).await?;
    let (items, next) = st
        .contacts
        .find(&visibility, p.q.as_deref(), before, limit)
        .await?;
    Ok(Json(ContactPage {
        items,
        next_cursor: next.map(|id| id.to_string()),
    }))
}

/// Edits a contact: name, email, phone, and custom attributes (a partial map; `null` removes a
/// key). Emits `contact.updated` when anything changed.
#[utoipa::path(patch, path = "/api/v1/contacts/{id}", tag = "contacts", request_body = ContactPatch,
    responses((status = 200, body = ContactView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn update(
    State(st): State<AppState>,
    SeenContact { id, .. }: SeenContact,
    ApiJson(patch): ApiJson<ContactPatch>,
) -> ApiResult<Json<ContactView>> {
    Ok(Json(st.contacts.update(id, &patch).await?))
}

/// Defines a custom attribute (admins).
#[utoipa::path(post, path = "/api/v1/attribute-definitions", tag = "contacts", request_body = NewAttribute,
    responses((status = 201, body = CustomAttributeView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(st): State<AppState>,
    me: Authed,
    ApiJson(req): ApiJson<NewAttribute>,
) -> ApiResult<(StatusCode, Json<CustomAttributeView>)> {
    me.require(Role::Admin)?;
    Ok((StatusCode::CREATED, Json(st.attributes.create(&req).await?)))
}

/// Lists the custom attribute definitions.
#[utoipa::path(get, path = "/api/v1/attribute-definitions", tag = "contacts",
    responses((status = 200, body = AttributeList)), security(("bearer" = [])))]
pub async fn list(State(st): State<AppState>, _me: Authed) -> ApiResult<Json<AttributeList>> {
    Ok(Json(AttributeList {
        items: st.attributes.list().await?,
        next_cursor: None,
    }))
}

/// One custom attribute definition.
#[utoipa::path(get, path = "/api/v1/attribute-definitions/{id}", tag = "contacts",
    responses((status = 200, body = CustomAttributeView), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get(
    State(st): State<AppState>,
    _me: Authed,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<CustomAttributeView>> {
    Ok(Json(st.attributes.get(id).await?))
}

/// Changes a definition's label or options (admins); the key and kind stay.
#[utoipa::path(patch, path = "/api/v1/attribute-definitions/{id}", tag = "contacts", request_body = AttributePatch,
    responses((status = 200, body = CustomAttributeView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn update_definition(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<AttributePatch>,
) -> ApiResult<Json<CustomAttributeView>> {
    me.require(Role::Admin)?;
    Ok(Json(st.attributes.update(id, &req).await?))
}

/// Deletes a definition (admins). Contacts keep the values they carry under its key.
#[utoipa::path(delete, path = "/api/v1/attribute-definitions/{id}", tag = "contacts",
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn delete(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    me.require(Role::Admin)?;
    st.attributes.delete(id).await?;
    Ok(StatusCode::NO_CONTENT)
}
