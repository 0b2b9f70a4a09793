//! The signed-in agent's notifications (the console's bell): mentions in private notes and
//! conversations handed to them, newest first, with an unread count.

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::State;
use kefu_normalizer::Mentions;
use kefu_normalizer::notifications::NotificationPage;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Authed;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// Whom a private note mentions (`mentions` of `POST /api/v1/conversations/{id}/messages`).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MentionsBody {
    /// Agents, by id.
    #[serde(default)]
    pub agent_ids: Vec<i64>,
    /// Teams, by id: every member is notified.
    #[serde(default)]
    pub team_ids: Vec<i64>,
}

/// The agents a note's `mentions` reach, checked: mentions are for private notes only, and
/// every agent and team must exist.
pub(crate) async fn recipients(
    st: &AppState,
    mentions: Option<&MentionsBody>,
    private: bool,
    conversation: &kefu_normalizer::views::ConversationView,
) -> ApiResult<BTreeSet<i64>> {
    let Some(m) = mentions.filter(|m| !m.agent_ids.is_empty() || !m.team_ids.is_empty()) else {
        return Ok(BTreeSet::new());
    };
    if !private {
        return Err(ApiError::invalid(
            "mentions are only for private notes: set private to true",
        ));
    }
    let mentions = Mentions {
        agents: m.agent_ids.clone(),
        teams: m.team_ids.clone(),
    };
    let everyone = st.notifications.recipients(&mentions).await?;
    // Only those who can open the conversation are told of it: a named agent who cannot is
    // refused (the author learns why), a team's members who cannot are left out.
    let readers = st
        .accounts
        .access
        .readers(conversation.inbox_id, conversation.assignee_id)
        .await?;
    let mut out = BTreeSet::new();
    for id in everyone {
        if readers.contains(&id) {
            out.insert(id);
        } else if m.agent_ids.contains(&id) {
            let name = match st.accounts.agents.get(id).await? {
                Some(a) => a.name,
                None => continue,
            };
            return Err(ApiError::invalid(format!(
                "{name} cannot see this conversation: add them to its inbox, or transfer it to them"
            ))
            .with_field("mentions.agent_ids"));
        }
    }
    Ok(out)
}

/// Who may be mentioned in a conversation's notes.
#[derive(Debug, Serialize, ToSchema)]
pub struct Mentionable {
    /// The agents who can open the conversation (admins, its assignee, and its inbox's members
    /// as the inbox's access allows); others would be refused.
    pub agent_ids: Vec<i64>,
}

/// The agents a private note in the conversation may mention.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/mentionable", tag = "conversations",
    responses((status = 200, body = Mentionable), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn mentionable(
    State(st): State<AppState>,
    c: crate::access::ReadConversation,
) -> ApiResult<Json<Mentionable>> {
    let readers = st
        .accounts
        .access
        .readers(c.conversation.inbox_id, c.conversation.assignee_id)
        .await?;
    Ok(Json(Mentionable {
        agent_ids: readers.into_iter().collect(),
    }))
}

/// Paging and narrowing of the list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only unread notifications.
    pub unread: Option<bool>,
    /// Only notifications older than this id (the previous page's `next_before`).
    pub before: Option<i64>,
    /// Page size, 1 to 100 (default 20).
    pub limit: Option<u64>,
}

/// The signed-in agent's notifications, newest first.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications", params(ListParams),
    responses((status = 200, body = NotificationPage), (status = 400, body = ErrorBody)), security(("bearer" = [])))]
pub async fn list(
    State(st): State<AppState>,
    me: Authed,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<NotificationPage>> {
    let limit = super::page_limit(p.limit, 20, 100)?;
    Ok(Json(
        st.notifications
            .list(me.agent.id, p.unread == Some(true), p.before, limit)
            .await?,
    ))
}

/// Which notifications to mark read.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadRequest {
    /// These notifications (at most 500).
    #[serde(default)]
    pub ids: Option<Vec<i64>>,
    /// All of the agent's notifications.
    #[serde(default)]
    pub all: bool,
}

/// How many notifications changed, and how many are still unread.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadResult {
    /// Notifications marked read by this call.
    pub updated: u64,
    /// The agent's unread notifications after it.
    pub unread_count: u64,
}

/// Marks the signed-in agent's notifications read: `ids`, or `all`.
#[utoipa::path(post, path = "/api/v1/notifications/read", tag = "notifications", request_body = ReadRequest,
    responses((status = 200, body = ReadResult), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn mark_read(
    State(st): State<AppState>,
    me: Authed,
    ApiJson(req): ApiJson<ReadRequest>,
) -> ApiResult<Json<ReadResult>> {
    let ids = match (req.ids, req.all) {
        (Some(_), true) => {
            return Err(ApiError::invalid("give either ids or all, not both"));
        }
        (None, false) => return Err(ApiError::invalid("give ids or all: true")),
        (Some(ids), false) if ids.len() > 500 => {
            return Err(ApiError::invalid("at most 500 ids at a time"));
        }
        (ids, _) => ids,
    };
    let updated = st
        .notifications
        .mark_read(me.agent.id, ids.as_deref())
        .await?;
    let unread_count = st.notifications.unread_count(me.agent.id).await?;
    Ok(Json(ReadResult {
        updated,
        unread_count,
    }))
}
