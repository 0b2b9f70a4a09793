//! Canned responses: saved replies agents insert from the composer with `/shortcut`. Global
//! ones are the admins', team ones their team's supervisors' (and admins'), personal ones their
//! owner's; each agent lists the global ones, their teams' and their own. The content's
//! `{{variable | fallback}}` placeholders are checked on save and filled for one conversation
//! by `render`. Who sees and manages what is decided by the store
//! ([`kefu_normalizer::canned`]).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kefu_normalizer::access::Grant;
use kefu_normalizer::canned::{CannedFile, CannedPatch, NewCanned, Values, Viewer};
use kefu_normalizer::entity::canned_response::CannedScope;
use kefu_normalizer::views::{CannedResponseView, ConversationView};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Authed;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

/// The canned responses the agent sees.
#[derive(Debug, Serialize, ToSchema)]
pub struct CannedList {
    /// By shortcut.
    pub items: Vec<CannedResponseView>,
    /// Always `null`: the list is complete.
    pub next_cursor: Option<String>,
}

/// Narrows the list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CannedParams {
    /// Only responses whose shortcut or content contains this (ignoring case; a leading `/`
    /// is ignored).
    pub q: Option<String>,
}

/// A new canned response.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCannedResponse {
    /// What is typed after `/`: 1–50 letters, digits, `-`, `_` or `.`; stored in lower case,
    /// unique within the scope.
    pub shortcut: String,
    /// The text, up to 10,000 characters, with placeholders such as
    /// `{{contact.name | there}}`; the variables are `contact.name`, `contact.email`,
    /// `agent.name`, `agent.email` and `conversation.id`.
    pub content: String,
    /// `personal` (the default: the caller's own), `team` (with `team_id`) or `global`.
    #[serde(default = "personal")]
    pub scope: CannedScope,
    /// The team of a `team` response.
    pub team_id: Option<i64>,
    /// Files sent with it, in order: ids of the caller's uploads (`POST /attachments`), at most
    /// 10.
    #[serde(default)]
    pub attachment_ids: Vec<i64>,
}

fn personal() -> CannedScope {
    CannedScope::Personal
}

/// Changes to a canned response.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CannedResponsePatch {
    /// A new shortcut.
    pub shortcut: Option<String>,
    /// New content.
    pub content: Option<String>,
    /// A new scope; `personal` makes it the caller's own.
    pub scope: Option<CannedScope>,
    /// A new team (for the `team` scope).
    pub team_id: Option<i64>,
    /// The files it sends from now on, in order: the caller's uploads or files it sends
    /// already; `[]` sends none.
    pub attachment_ids: Option<Vec<i64>>,
}

/// Where to fill a canned response in.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenderRequest {
    /// The conversation whose contact, agent and id fill the placeholders; the caller must
    /// see it.
    pub conversation_id: i64,
}

/// A canned response filled in for one conversation.
#[derive(Debug, Serialize, ToSchema)]
pub struct Rendered {
    /// The text to put in the reply box.
    pub text: String,
    /// Files to attach to the reply; a reply of the caller may name them in `attachments`.
    pub attachments: Vec<CannedFile>,
}

async fn viewer(st: &AppState, me: &Authed) -> ApiResult<Viewer> {
    Ok(st.canned.viewer(me.agent.id, me.role).await?)
}

/// Lists the canned responses the caller sees: the global ones, their teams' (every team's
/// for admins) and their own.
#[utoipa::path(get, path = "/api/v1/canned-responses", tag = "canned responses", params(CannedParams),
    responses((status = 200, body = CannedList)), security(("bearer" = [])))]
pub async fn list(
    State(st): State<AppState>,
    me: Authed,
    ApiQuery(p): ApiQuery<CannedParams>,
) -> ApiResult<Json<CannedList>> {
    let viewer = viewer(&st, &me).await?;
    Ok(Json(CannedList {
        items: st.canned.list(&viewer, p.q.as_deref()).await?,
        next_cursor: None,
    }))
}

/// Creates a canned response in a scope the caller manages. An unknown variable in the
/// content answers 422 `unknown_variable` naming it.
#[utoipa::path(post, path = "/api/v1/canned-responses", tag = "canned responses", request_body = NewCannedResponse,
    responses((status = 201, body = CannedResponseView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn create(
    State(st): State<AppState>,
    me: Authed,
    ApiJson(req): ApiJson<NewCannedResponse>,
) -> ApiResult<(StatusCode, Json<CannedResponseView>)> {
    let viewer = viewer(&st, &me).await?;
    let new = NewCanned {
        shortcut: req.shortcut,
        content: req.content,
        scope: req.scope,
        team_id: req.team_id,
        attachment_ids: req.attachment_ids,
    };
    let view = st.canned.create(&viewer, new).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// One canned response the caller sees.
#[utoipa::path(get, path = "/api/v1/canned-responses/{id}", tag = "canned responses",
    responses((status = 200, body = CannedResponseView), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<CannedResponseView>> {
    let viewer = viewer(&st, &me).await?;
    Ok(Json(st.canned.get(&viewer, id).await?))
}

/// Changes a canned response the caller manages (moving it to another scope needs that
/// scope's right too).
#[utoipa::path(patch, path = "/api/v1/canned-responses/{id}", tag = "canned responses", request_body = CannedResponsePatch,
    responses((status = 200, body = CannedResponseView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn update(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<CannedResponsePatch>,
) -> ApiResult<Json<CannedResponseView>> {
    let viewer = viewer(&st, &me).await?;
    let patch = CannedPatch {
        shortcut: req.shortcut,
        content: req.content,
        scope: req.scope,
        team_id: req.team_id,
        attachment_ids: req.attachment_ids,
    };
    Ok(Json(st.canned.update(&viewer, id, patch).await?))
}

/// Deletes a canned response the caller manages.
#[utoipa::path(delete, path = "/api/v1/canned-responses/{id}", tag = "canned responses",
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn delete(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    let viewer = viewer(&st, &me).await?;
    st.canned.delete(&viewer, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Fills a canned response in for a conversation the caller sees: each placeholder gets the
/// conversation's value, else its fallback, else nothing.
#[utoipa::path(post, path = "/api/v1/canned-responses/{id}/render", tag = "canned responses", request_body = RenderRequest,
    responses((status = 200, body = Rendered), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn render(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<RenderRequest>,
) -> ApiResult<Json<Rendered>> {
    let conversation = me
        .conversation(&st, req.conversation_id, Grant::Read)
        .await
        .map_err(|e| e.with_field("conversation_id"))?;
    let viewer = viewer(&st, &me).await?;
    let text = st
        .canned
        .render(&viewer, id, &values(&me, &conversation))
        .await?;
    let attachments = st.canned.get(&viewer, id).await?.attachments;
    Ok(Json(Rendered { text, attachments }))
}

/// What the placeholders stand for when `me` answers `conversation`.
fn values(me: &Authed, conversation: &ConversationView) -> Values {
    Values {
        contact_name: conversation.contact.name.clone(),
        contact_email: conversation.contact.email.clone(),
        agent_name: Some(me.agent.name.clone()),
        agent_email: Some(me.agent.email.clone()),
        conversation_id: Some(conversation.id),
    }
}

/// The text of a reply posted with `canned_response_id` (that response filled in for the
/// conversation) and the ids of the files it sends. `text` must be empty (422 about `text`);
/// a response the caller does not see answers 404 about `canned_response_id`.
pub(crate) async fn reply_text(
    st: &AppState,
    me: &Authed,
    conversation: &ConversationView,
    canned_response_id: i64,
    text: &str,
) -> ApiResult<(String, Vec<i64>)> {
    if !text.trim().is_empty() {
        return Err(ApiError::invalid(
            "text must be empty when canned_response_id is given: the canned response is the text",
        )
        .with_field("text"));
    }
    let viewer = viewer(st, me).await?;
    let field = |e| ApiError::from(e).with_field("canned_response_id");
    let text = st
        .canned
        .render(&viewer, canned_response_id, &values(me, conversation))
        .await
        .map_err(field)?;
    let files = st
        .canned
        .files(&viewer, canned_response_id)
        .await
        .map_err(field)?;
    Ok((text, files))
}

/// Of `ids`, the files the caller may send because a canned response they see sends them.
pub(crate) async fn usable_files(
    st: &AppState,
    me: &Authed,
    ids: &[i64],
) -> ApiResult<std::collections::BTreeSet<i64>> {
    let viewer = viewer(st, me).await?;
    Ok(st.canned.usable_files(&viewer, ids).await?)
}
