//! Conversations, their messages, replies and state changes; contacts.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kefu_normalizer::search::{Match, SearchError};
use kefu_normalizer::views::{ContactView, ConversationView, MessageView};
use kefu_normalizer::{Author, ListFilter, Status, Transition};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Authed, Role};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, MessageJson};
use crate::state::AppState;

/// Filters and paging for the conversation list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Comma-separated statuses, e.g. `queued,assigned`.
    pub status: Option<String>,
    /// Only this inbox.
    pub inbox_id: Option<i64>,
    /// Only this assignee.
    pub assignee_id: Option<i64>,
    /// Only this contact.
    pub contact_id: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1–100 (default 25).
    pub limit: Option<u64>,
    /// Full-text search over message texts (private notes included), contact names, emails
    /// and channel identities, and email subjects; Chinese and English. Results come best
    /// match first, each with `match`, and the other filters still apply.
    pub q: Option<String>,
}

/// A page of conversations: newest first, or best match first with `q`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationPage {
    /// Conversations.
    pub items: Vec<ConversationItem>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// A conversation in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationItem {
    /// The conversation.
    #[serde(flatten)]
    pub conversation: ConversationView,
    /// With `q`: where the conversation matched, highlighted.
    #[serde(rename = "match", skip_serializing_if = "Option::is_none")]
    pub found: Option<Match>,
}

impl From<ConversationView> for ConversationItem {
    fn from(conversation: ConversationView) -> Self {
        Self {
            conversation,
            found: None,
        }
    }
}

/// Lists conversations.
#[utoipa::path(get, path = "/api/v1/conversations", tag = "conversations", params(ListParams),
    responses((status = 200, body = ConversationPage), (status = 400, body = ErrorBody)), security(("bearer" = [])))]
pub async fn list(
    State(st): State<AppState>,
    _me: Authed,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<ConversationPage>> {
    let statuses = match p.status.as_deref().filter(|s| !s.is_empty()) {
        None => Vec::new(),
        Some(s) => s
            .split(',')
            .map(|x| x.trim().parse::<Status>())
            .collect::<Result<_, _>>()
            .map_err(bad_query)?,
    };
    if let Some(q) = &p.q {
        return search(&st, q, &p, statuses).await.map(Json);
    }
    let cursor = p
        .cursor
        .as_deref()
        .map(|c| {
            c.parse::<i64>()
                .map_err(|_| bad_query(format!("cursor {c:?} is not one this API returned")))
        })
        .transpose()?;
    let limit = super::page_limit(p.limit, 25, 100)?;
    let filter = ListFilter {
        statuses,
        inbox_id: p.inbox_id,
        assignee_id: p.assignee_id,
        contact_id: p.contact_id,
    };
    let (items, next) = st.conversations.list(&filter, cursor, limit).await?;
    Ok(Json(ConversationPage {
        items: items.into_iter().map(ConversationItem::from).collect(),
        next_cursor: next.map(|n| n.to_string()),
    }))
}

/// The list with `q`: ranked by relevance, paged by offset (cursors `r<offset>`).
async fn search(
    st: &AppState,
    q: &str,
    p: &ListParams,
    statuses: Vec<Status>,
) -> ApiResult<ConversationPage> {
    let offset = match p.cursor.as_deref() {
        None => 0,
        Some(c) => c
            .strip_prefix('r')
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| bad_query(format!("cursor {c:?} is not one this API returned")))?,
    };
    let limit = super::page_limit(p.limit, 25, 100)?;
    let filter = ListFilter {
        statuses,
        inbox_id: p.inbox_id,
        assignee_id: p.assignee_id,
        contact_id: p.contact_id,
    };
    let page = st
        .search
        .conversations(&st.conversations, &filter, q, offset, limit as usize)
        .await
        .map_err(|e| match e {
            SearchError::InvalidQuery(d) => bad_query(d),
            SearchError::Store(e) => e.into(),
            e => ApiError::internal(e),
        })?;
    Ok(ConversationPage {
        items: page
            .items
            .into_iter()
            .map(|(conversation, found)| ConversationItem {
                conversation,
                found,
            })
            .collect(),
        next_cursor: page.next_offset.map(|n| format!("r{n}")),
    })
}

fn bad_query(detail: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", detail)
}

/// One conversation.
#[utoipa::path(get, path = "/api/v1/conversations/{id}", tag = "conversations",
    responses((status = 200, body = ConversationView), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get(
    State(st): State<AppState>,
    _me: Authed,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ConversationView>> {
    Ok(Json(st.conversations.get(id).await?))
}

/// Paging for messages.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct MessageParams {
    /// Only messages with a greater `seq` (default 0: from the start).
    pub after_seq: Option<i64>,
    /// Page size, 1–500 (default 100).
    pub limit: Option<u64>,
}

/// Messages in `seq` order.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessagePage {
    /// Messages.
    pub items: Vec<MessageView>,
}

/// Messages of a conversation after a `seq`, in order.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/messages", tag = "conversations", params(MessageParams),
    responses((status = 200, body = MessagePage), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn messages(
    State(st): State<AppState>,
    _me: Authed,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(p): ApiQuery<MessageParams>,
) -> ApiResult<Json<MessagePage>> {
    let limit = super::page_limit(p.limit, 100, 500)?;
    let items = st
        .conversations
        .messages(id, p.after_seq.unwrap_or(0).max(0), limit)
        .await?;
    Ok(Json(MessagePage { items }))
}

/// Most files one reply may carry.
const MAX_REPLY_ATTACHMENTS: usize = 10;

/// A reply or private note.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReply {
    /// The text; may be empty when files are attached.
    #[serde(default)]
    pub text: String,
    /// Files uploaded with `POST /api/v1/attachments`, by id, sent in this order.
    #[serde(default)]
    pub attachments: Vec<i64>,
    /// A client-chosen id; posting the same id again returns the first message.
    pub client_id: Option<String>,
    /// A private note for agents only.
    #[serde(default)]
    pub private: bool,
}

/// Posts an agent reply (delivered to the customer) or a private note. 201 when stored, 200
/// when the same `client_id` was posted before.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/messages", tag = "conversations", request_body = NewReply,
    responses((status = 201, body = MessageView), (status = 200, body = MessageView), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn reply(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
    MessageJson(req): MessageJson<NewReply>,
) -> ApiResult<(StatusCode, Json<MessageView>)> {
    let author = Author {
        id: me.agent.id,
        name: me.agent.name.clone(),
    };
    if req.attachments.len() > MAX_REPLY_ATTACHMENTS {
        return Err(ApiError::invalid(format!(
            "a reply may carry at most {MAX_REPLY_ATTACHMENTS} attachments"
        )));
    }
    let files = if req.attachments.is_empty() {
        Vec::new()
    } else {
        let inbox_id = st.conversations.get(id).await?.inbox_id;
        st.files
            .attachable(&req.attachments, me.agent.id, inbox_id)
            .await?
    };
    let attachments: Vec<_> = files
        .iter()
        .map(kefu_normalizer::files::attachment_of)
        .collect();
    let posted = st
        .conversations
        .reply(
            id,
            &author,
            &req.text,
            &attachments,
            req.client_id.as_deref(),
            req.private,
        )
        .await?;
    let status = if posted.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(posted.message)))
}

/// Whom to assign.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    /// The agent.
    pub agent_id: i64,
}

/// Assigns a conversation. Supervisors assign anyone with room (409 `agent_at_capacity`
/// otherwise); agents may take a queued conversation themselves where the inbox allows claims.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/assign", tag = "conversations", request_body = AssignRequest,
    responses((status = 200, body = ConversationView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn assign(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<AssignRequest>,
) -> ApiResult<Json<ConversationView>> {
    if me.role < Role::Supervisor {
        // Taking a conversation yourself is a claim, subject to the inbox's `allow_claim`.
        me.require_self_or(req.agent_id, Role::Supervisor)?;
        return Ok(Json(st.dispatcher.claim(id, me.agent.id, false).await?));
    }
    Ok(Json(
        st.dispatcher.assign(id, req.agent_id, me.agent.id).await?,
    ))
}

/// Resolves a conversation.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/resolve", tag = "conversations",
    responses((status = 200, body = ConversationView), (status = 409, body = ErrorBody)), security(("bearer" = [])))]
pub async fn resolve(
    State(st): State<AppState>,
    _me: Authed,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ConversationView>> {
    Ok(Json(
        st.conversations.transition(id, Transition::Resolve).await?,
    ))
}

/// Reopens a resolved conversation; it goes back to the queue.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/reopen", tag = "conversations",
    responses((status = 200, body = ConversationView), (status = 409, body = ErrorBody)), security(("bearer" = [])))]
pub async fn reopen(
    State(st): State<AppState>,
    _me: Authed,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ConversationView>> {
    Ok(Json(
        st.conversations.transition(id, Transition::Reopen).await?,
    ))
}

/// A contact with identities.
#[utoipa::path(get, path = "/api/v1/contacts/{id}", tag = "contacts",
    responses((status = 200, body = ContactView), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn contact(
    State(st): State<AppState>,
    _me: Authed,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ContactView>> {
    Ok(Json(st.conversations.contact(id).await?))
}

/// Which contact to merge.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    /// The contact that is merged into this one and stops existing on its own.
    pub other_id: i64,
}

/// Merges another contact into this one (supervisors).
#[utoipa::path(post, path = "/api/v1/contacts/{id}/merge", tag = "contacts", request_body = MergeRequest,
    responses((status = 200, body = ContactView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn merge(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<MergeRequest>,
) -> ApiResult<Json<ContactView>> {
    me.require(Role::Supervisor)?;
    Ok(Json(
        st.conversations.merge_contacts(id, req.other_id).await?,
    ))
}
