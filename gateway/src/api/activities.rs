//! A conversation's timeline: who assigned, transferred, resolved or reopened it, and which
//! routing rules and priority changes applied, oldest first; and the summaries written when it
//! was resolved or transferred. Readable by whoever may read the conversation.

use axum::Json;
use axum::extract::State;
use kefu_normalizer::summaries::SummaryView;
use kefu_normalizer::views::ActivityView;
use serde::Serialize;
use utoipa::ToSchema;

use crate::access::ReadConversation;
use crate::error::{ApiResult, ErrorBody};
use crate::state::AppState;

/// A conversation's timeline, oldest first (at most the newest 500 lines).
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityList {
    /// The lines.
    pub items: Vec<ActivityView>,
}

/// The conversation's timeline.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/activities", tag = "conversations",
    responses((status = 200, body = ActivityList), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn list(
    State(st): State<AppState>,
    c: ReadConversation,
) -> ApiResult<Json<ActivityList>> {
    let items = st.activities.list(c.conversation.id).await?;
    Ok(Json(ActivityList { items }))
}

/// A conversation's summaries, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct SummaryList {
    /// The summaries.
    pub items: Vec<SummaryView>,
}

/// The summaries written when the conversation was resolved or transferred: facts (channel,
/// duration, labels, the last open question) and its most telling sentences.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/summaries", tag = "conversations",
    responses((status = 200, body = SummaryList), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn summaries(
    State(st): State<AppState>,
    c: ReadConversation,
) -> ApiResult<Json<SummaryList>> {
    let items = st.activities.summaries(c.conversation.id).await?;
    Ok(Json(SummaryList { items }))
}
