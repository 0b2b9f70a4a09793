//! Proposals learnt from resolved conversations (supervisors): `GET
//! /api/v1/knowledge/proposals` (pending first), `GET .../{id}`, `POST .../{id}/approve`
//! (adds the entry, optionally with the question, answer and other fields edited) and `POST
//! .../{id}/reject`. Deciding twice answers 409 `conflict`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kefu_ai::AiError;
use kefu_normalizer::knowledge::proposals::{ProposalError, ProposalView};
use kefu_normalizer::knowledge::{KnowledgeInput, KnowledgeView, csv};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Authed, Role};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

/// A page of proposals.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProposalList {
    /// Pending ones first, then decided ones; newest first within each.
    pub items: Vec<ProposalView>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// Paging of the list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ProposalParams {
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Proposals per page, 1–200 (default 50).
    pub limit: Option<u64>,
}

/// An approval, with the admin's edits: every field left out is the proposal's own (question
/// and answer) or empty.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveInput {
    /// The entry's question (default: the customer's question as proposed).
    pub question: Option<String>,
    /// The entry's answer (default: the agent's answer as proposed).
    pub answer: Option<String>,
    /// Other phrasings.
    #[serde(default)]
    pub alternatives: Vec<String>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The language.
    pub locale: Option<String>,
}

/// An approved proposal and the entry it became.
#[derive(Debug, Serialize, ToSchema)]
pub struct Approved {
    /// The proposal, now `approved`.
    pub proposal: ProposalView,
    /// The new knowledge-base entry.
    pub entry: KnowledgeView,
}

fn decided(e: ProposalError) -> ApiError {
    match e {
        ProposalError::Decided(_) => ApiError::conflict(e.to_string()),
        ProposalError::Store(e) => {
            let e: ApiError = e.into();
            if e.code == "invalid_request" {
                let field = csv::field_of(&e.detail);
                if field != "row" {
                    return e.with_field(field);
                }
            }
            e
        }
    }
}

/// Lists proposals, pending first.
#[utoipa::path(get, path = "/api/v1/knowledge/proposals", tag = "knowledge", params(ProposalParams),
    responses((status = 200, body = ProposalList), (status = 400, body = ErrorBody)), security(("bearer" = [])))]
pub async fn list(
    State(st): State<AppState>,
    me: Authed,
    ApiQuery(p): ApiQuery<ProposalParams>,
) -> ApiResult<Json<ProposalList>> {
    me.require(Role::Supervisor)?;
    let limit = super::page_limit(p.limit, 50, 200)?;
    let after = match p.cursor.as_deref() {
        None | Some("") => None,
        Some(c) => Some(parse_cursor(c).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                "cursor is not one this API gave",
            )
        })?),
    };
    let items = st.bot.proposals().list(after, limit).await?;
    let next_cursor = (items.len() as u64 == limit)
        .then(|| items.last().map(cursor_of))
        .flatten();
    Ok(Json(ProposalList { items, next_cursor }))
}

/// `p123` (pending, below id 123) or `d123` (decided).
fn parse_cursor(c: &str) -> Option<(bool, i64)> {
    let pending = match c.get(..1)? {
        "p" => true,
        "d" => false,
        _ => return None,
    };
    Some((pending, c.get(1..)?.parse().ok()?))
}

fn cursor_of(p: &ProposalView) -> String {
    use kefu_normalizer::knowledge::proposals::ProposalStatus;
    let kind = if p.status == ProposalStatus::Pending {
        'p'
    } else {
        'd'
    };
    format!("{kind}{}", p.id)
}

/// One proposal.
#[utoipa::path(get, path = "/api/v1/knowledge/proposals/{id}", tag = "knowledge",
    responses((status = 200, body = ProposalView), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ProposalView>> {
    me.require(Role::Supervisor)?;
    Ok(Json(st.bot.proposals().get(id).await?))
}

/// Approves a pending proposal: its question and answer (or the edits sent) become a
/// knowledge-base entry, used by suggestions and the bot at once.
#[utoipa::path(post, path = "/api/v1/knowledge/proposals/{id}/approve", tag = "knowledge", request_body = ApproveInput,
    responses((status = 201, body = Approved), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn approve(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<ApproveInput>,
) -> ApiResult<(StatusCode, Json<Approved>)> {
    me.require(Role::Supervisor)?;
    let proposals = st.bot.proposals();
    let proposal = proposals.get(id).await?;
    let entry = KnowledgeInput {
        question: req.question.unwrap_or(proposal.question),
        alternatives: req.alternatives,
        answer: req.answer.unwrap_or(proposal.answer),
        locale: req.locale,
        tags: req.tags,
        enabled: Some(true),
        attachment_ids: None,
    };
    let (proposal, entry) = proposals
        .approve(id, entry, me.agent.id)
        .await
        .map_err(decided)?;
    st.bot.index().upsert(&entry).map_err(|e| match e {
        AiError::Store(e) => e.into(),
        AiError::Index(m) => ApiError::internal(m),
    })?;
    crate::knowledge_sync::changed(&st, entry.id);
    Ok((StatusCode::CREATED, Json(Approved { proposal, entry })))
}

/// Rejects a pending proposal.
#[utoipa::path(post, path = "/api/v1/knowledge/proposals/{id}/reject", tag = "knowledge",
    responses((status = 200, body = ProposalView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn reject(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ProposalView>> {
    me.require(Role::Supervisor)?;
    Ok(Json(
        st.bot
            .proposals()
            .reject(id, me.agent.id)
            .await
            .map_err(decided)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_read_back() {
        for c in ["p12", "d7"] {
            let (pending, id) = parse_cursor(c).expect("valid");
            assert_eq!(format!("{}{id}", if pending { 'p' } else { 'd' }), c);
        }
        for bad in ["", "x1", "p", "pabc", "12", "é1"] {
            assert_eq!(parse_cursor(bad), None, "{bad}");
        }
    }
}
