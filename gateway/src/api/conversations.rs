//! Conversations, their messages, replies and state changes; contacts.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use kefu_normalizer::search::SearchError;
use kefu_normalizer::views::{ContactView, ConversationItem, ConversationView, MessageView};
use kefu_normalizer::{Cursor, ListFilter, Sort, Status, Transition};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::access::{ActOnConversation, ReadConversation, SeenContact};
use crate::auth::{Authed, Role};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// Filters, order and paging for the conversation list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Comma-separated statuses, e.g. `queued,assigned`.
    pub status: Option<String>,
    /// Only this inbox.
    pub inbox_id: Option<i64>,
    /// Only inboxes of this channel type (`web_chat`, `email`, `wechat`...).
    pub channel: Option<String>,
    /// Only this assignee.
    pub assignee_id: Option<i64>,
    /// `true`: only conversations nobody is assigned to.
    pub unassigned: Option<bool>,
    /// Only conversations routed to this team.
    pub team_id: Option<i64>,
    /// Only conversations carrying this label (by name).
    pub label: Option<String>,
    /// Only conversations with at least this priority.
    pub priority_min: Option<i32>,
    /// Only this contact.
    pub contact_id: Option<i64>,
    /// Only conversations opened at or after this time (RFC 3339).
    pub created_after: Option<String>,
    /// Only conversations opened before this time (RFC 3339).
    pub created_before: Option<String>,
    /// `newest` (default), `last_activity` (newest message first), `waiting` (the customer's
    /// last message oldest first) or `priority` (highest first, then oldest).
    pub sort: Option<String>,
    /// `next_cursor` of the previous page (with the same `sort`).
    pub cursor: Option<String>,
    /// Page size, 1–100 (default 25).
    pub limit: Option<u64>,
    /// Full-text search over message texts (private notes included), contact names, emails
    /// and channel identities, and email subjects; Chinese and English. Results come best
    /// match first, each with `match`, and the other filters still apply.
    pub q: Option<String>,
}

/// A page of conversations in the requested order, or best match first with `q`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationPage {
    /// Conversations, each with its last message, assignee, labels and unread count (and,
    /// with `q`, where it matched).
    pub items: Vec<ConversationItem>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Lists conversations.
#[utoipa::path(get, path = "/api/v1/conversations", tag = "conversations", params(ListParams),
    responses((status = 200, body = ConversationPage), (status = 400, body = ErrorBody)), security(("bearer" = [])))]
pub async fn list(
    State(st): State<AppState>,
    me: Authed,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<ConversationPage>> {
    let sort = match p.sort.as_deref().filter(|s| !s.is_empty()) {
        None => Sort::default(),
        Some(s) => s.parse::<Sort>().map_err(bad_query)?,
    };
    if p.q.is_some() && p.sort.is_some() {
        return Err(bad_query(
            "sort cannot be combined with q: search results come best match first".into(),
        ));
    }
    let cursor = match p.q {
        // Search pages by offset (`r<offset>` cursors).
        Some(_) => None,
        None => p
            .cursor
            .as_deref()
            .map(|c| Cursor::parse(c, sort).map_err(bad_query))
            .transpose()?,
    };
    let limit = super::page_limit(p.limit, 25, 100)?;
    let Some(mut filter) = list_filter(&st, &p).await? else {
        // A label nobody defined carries no conversations.
        return Ok(Json(ConversationPage {
            items: Vec::new(),
            next_cursor: None,
        }));
    };
    filter.visible = Some(me.visibility(&st).await?);
    if let Some(q) = &p.q {
        return search(&st, &me, q, &p, &filter, limit).await.map(Json);
    }
    let (page, next_cursor) = st
        .conversations
        .list(&filter, sort, cursor.as_ref(), limit)
        .await?;
    let items = st.conversations.items(page, me.agent.id).await?;
    Ok(Json(ConversationPage { items, next_cursor }))
}

/// The store's filter from the query; `None` when it names a label that does not exist.
async fn list_filter(st: &AppState, p: &ListParams) -> ApiResult<Option<ListFilter>> {
    let statuses = match p.status.as_deref().filter(|s| !s.is_empty()) {
        None => Vec::new(),
        Some(s) => s
            .split(',')
            .map(|x| x.trim().parse::<Status>())
            .collect::<Result<_, _>>()
            .map_err(bad_query)?,
    };
    let label_id = match p.label.as_deref().filter(|s| !s.trim().is_empty()) {
        None => None,
        Some(name) => match st.labels.id_of(name).await? {
            Some(id) => Some(id),
            None => return Ok(None),
        },
    };
    if p.unassigned == Some(true) && p.assignee_id.is_some() {
        return Err(bad_query(
            "unassigned=true and assignee_id exclude each other".into(),
        ));
    }
    Ok(Some(ListFilter {
        statuses,
        inbox_id: p.inbox_id,
        assignee_id: p.assignee_id,
        unassigned: p.unassigned == Some(true),
        contact_id: p.contact_id,
        team_id: p.team_id,
        label_id,
        priority_min: p.priority_min,
        channel: p.channel.clone().filter(|c| !c.is_empty()),
        created_after: time_param("created_after", p.created_after.as_deref())?,
        created_before: time_param("created_before", p.created_before.as_deref())?,
        visible: None,
    }))
}

/// An RFC 3339 time from the query string.
fn time_param(name: &str, value: Option<&str>) -> ApiResult<Option<DateTime<Utc>>> {
    value
        .filter(|v| !v.is_empty())
        .map(|v| {
            DateTime::parse_from_rfc3339(v)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| {
                    bad_query(format!(
                        "{name} must be a time such as 2024-05-01T00:00:00Z, not {v:?}"
                    ))
                })
        })
        .transpose()
}

/// The list with `q`: ranked by relevance, paged by offset (cursors `r<offset>`), each row
/// with where it matched.
async fn search(
    st: &AppState,
    me: &Authed,
    q: &str,
    p: &ListParams,
    filter: &ListFilter,
    limit: u64,
) -> ApiResult<ConversationPage> {
    let offset = match p.cursor.as_deref() {
        None => 0,
        Some(c) => c
            .strip_prefix('r')
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| bad_query(format!("cursor {c:?} is not one this API returned")))?,
    };
    let page = st
        .search
        .conversations(&st.conversations, filter, q, offset, limit as usize)
        .await
        .map_err(|e| match e {
            SearchError::InvalidQuery(d) => bad_query(d),
            SearchError::Store(e) => e.into(),
            e => ApiError::internal(e),
        })?;
    let (views, mut found): (Vec<_>, std::collections::HashMap<i64, _>) = page
        .items
        .into_iter()
        .map(|(v, m)| {
            let id = v.id;
            (v, (id, m))
        })
        .unzip();
    let mut items = st.conversations.items(views, me.agent.id).await?;
    for item in &mut items {
        item.found = found.remove(&item.conversation.id).flatten();
    }
    Ok(ConversationPage {
        items,
        next_cursor: page.next_offset.map(|n| format!("r{n}")),
    })
}

fn bad_query(detail: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", detail)
}

/// One conversation, with what the list shows with it.
#[utoipa::path(get, path = "/api/v1/conversations/{id}", tag = "conversations",
    responses((status = 200, body = ConversationItem), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get(
    State(st): State<AppState>,
    c: ReadConversation,
) -> ApiResult<Json<ConversationItem>> {
    Ok(Json(
        st.conversations
            .item(c.conversation.id, c.me.agent.id)
            .await?,
    ))
}

/// How far the agent has read.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadRequest {
    /// The `seq` of the newest message the agent has seen.
    pub seq: i64,
}

/// The agent's read marker after a read.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadMarker {
    /// The highest `seq` read; it never moves back.
    pub last_read_seq: i64,
}

/// Marks a conversation read up to `seq` for the signed-in agent: customer messages up to
/// there stop counting in `unread_count`, and the agent's notifications about it are read.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/read", tag = "conversations", request_body = ReadRequest,
    responses((status = 200, body = ReadMarker), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn mark_read(
    State(st): State<AppState>,
    c: ReadConversation,
    ApiJson(req): ApiJson<ReadRequest>,
) -> ApiResult<Json<ReadMarker>> {
    let last_read_seq = st
        .conversations
        .mark_read(c.conversation.id, c.me.agent.id, req.seq)
        .await?;
    // Opening a conversation reads what the bell says about it.
    st.notifications
        .read_conversation(c.me.agent.id, c.conversation.id)
        .await?;
    // The visitor's widget shows "Seen" under its last message.
    st.bus.signal(kefu_normalizer::events::Signal::AgentRead {
        conversation_id: c.conversation.id,
        seq: last_read_seq,
    });
    Ok(Json(ReadMarker { last_read_seq }))
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
    c: ReadConversation,
    ApiQuery(p): ApiQuery<MessageParams>,
) -> ApiResult<Json<MessagePage>> {
    let limit = super::page_limit(p.limit, 100, 500)?;
    let items = st
        .conversations
        .messages(c.conversation.id, p.after_seq.unwrap_or(0).max(0), limit)
        .await?;
    Ok(Json(MessagePage { items }))
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
    ActOnConversation { me, conversation }: ActOnConversation,
    ApiJson(req): ApiJson<AssignRequest>,
) -> ApiResult<Json<ConversationView>> {
    let id = conversation.id;
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
    c: ActOnConversation,
) -> ApiResult<Json<ConversationView>> {
    Ok(Json(
        st.conversations
            .transition(c.conversation.id, Transition::Resolve, Some(c.me.agent.id))
            .await?,
    ))
}

/// Reopens a resolved conversation; it goes back to the queue.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/reopen", tag = "conversations",
    responses((status = 200, body = ConversationView), (status = 409, body = ErrorBody)), security(("bearer" = [])))]
pub async fn reopen(
    State(st): State<AppState>,
    c: ActOnConversation,
) -> ApiResult<Json<ConversationView>> {
    Ok(Json(
        st.conversations
            .transition(c.conversation.id, Transition::Reopen, Some(c.me.agent.id))
            .await?,
    ))
}

/// A contact with identities.
#[utoipa::path(get, path = "/api/v1/contacts/{id}", tag = "contacts",
    responses((status = 200, body = ContactView), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn contact(State(st): State<AppState>, c: SeenContact) -> ApiResult<Json<ContactView>> {
    Ok(Json(st.conversations.contact(c.id).await?))
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
    SeenContact { me, id }: SeenContact,
    ApiJson(req): ApiJson<MergeRequest>,
) -> ApiResult<Json<ContactView>> {
    me.require(Role::Supervisor)?;
    me.require_contact(&st, req.other_id).await?;
    Ok(Json(
        st.conversations.merge_contacts(id, req.other_id).await?,
    ))
}
