//! A conversation's satisfaction ratings, for the console's thread and contact panel: the
//! surveys of the conversation's customer, newest first, this conversation's among them
//! (agents see those given in the conversation's inbox; admins every one).

use axum::Json;
use axum::extract::State;
use kefu_normalizer::csat::CsatView;
use serde::Serialize;
use utoipa::ToSchema;

use crate::access::ReadConversation;
use crate::auth::Role;
use crate::error::{ApiResult, ErrorBody};
use crate::state::AppState;

/// How many of the customer's surveys are listed.
const LIMIT: u64 = 20;

/// Surveys of the conversation's customer.
#[derive(Debug, Serialize, ToSchema)]
pub struct CsatList {
    /// Newest first (at most 20); each names its conversation.
    pub items: Vec<CsatView>,
}

/// The satisfaction surveys of the conversation's customer.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/csat", tag = "conversations",
    responses((status = 200, body = CsatList), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn list(State(st): State<AppState>, c: ReadConversation) -> ApiResult<Json<CsatList>> {
    let mut items = st
        .csat
        .list(None, Some(c.conversation.contact.id), LIMIT)
        .await?;
    // An agent sees the customer through this inbox only: ratings given elsewhere stay there.
    if c.me.require(Role::Admin).is_err() {
        items.retain(|s| s.inbox_id == c.conversation.inbox_id);
    }
    Ok(Json(CsatList { items }))
}
