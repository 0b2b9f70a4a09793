//! The knowledge base (supervisors edit it, everyone reads it), agents' suggestions for a
//! conversation, and an inbox's FAQ bot (admins).
//!
//! Each edit is committed, then applied to this node's search index, so the next suggestion or
//! bot answer on this node uses it. Other nodes pick edits up when they next start.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kefu_ai::AiError;
use kefu_normalizer::knowledge::{
    BotSettings, BotSettingsInput, Candidate, KnowledgeInput, KnowledgeView,
};
use kefu_normalizer::saved_files::SavedFile;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::access::ReadConversation;
use crate::auth::{Authed, Role};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

/// A page of entries.
#[derive(Debug, Serialize, ToSchema)]
pub struct KnowledgeList {
    /// Entries, oldest first.
    pub items: Vec<KnowledgeView>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// Paging of the list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct KnowledgeParams {
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Entries per page, 1–200 (default 50).
    pub limit: Option<u64>,
}

/// One suggested answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Suggestion {
    /// The entry.
    pub knowledge_id: i64,
    /// Its answer, to insert in the reply.
    pub answer: String,
    /// How closely it matches the customer's latest message, 0 to 1.
    pub score: f32,
    /// The files sent with the answer; a reply may carry them.
    pub attachments: Vec<SavedFile>,
}

/// Suggestions for a conversation.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestionList {
    /// At most 3, best first; none when the inbox's bot is off.
    pub items: Vec<Suggestion>,
}

/// One decision of the bot.
#[derive(Debug, Serialize, ToSchema)]
pub struct BotDecisionView {
    /// The customer message decided on.
    pub message_id: i64,
    /// `answer` or `handoff`.
    pub action: String,
    /// Why it handed off.
    pub reason: Option<String>,
    /// The entry it answered with.
    pub knowledge_id: Option<i64>,
    /// Its reply.
    pub reply_id: Option<i64>,
    /// The entries weighed, best first.
    pub candidates: Vec<Candidate>,
    /// When.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// The bot's decisions in a conversation.
#[derive(Debug, Serialize, ToSchema)]
pub struct BotDecisionList {
    /// Oldest first.
    pub items: Vec<BotDecisionView>,
}

fn ai(e: AiError) -> ApiError {
    match e {
        AiError::Store(e) => e.into(),
        AiError::Index(m) => ApiError::internal(m),
    }
}

/// Puts a store error on the field it names.
fn field_of(e: ApiError) -> ApiError {
    let field = [
        "question",
        "alternatives",
        "answer",
        "tags",
        "locale",
        "attachment_ids",
    ]
    .into_iter()
    .find(|f| e.detail.starts_with(f) || e.detail.starts_with(&format!("each of {f}")));
    match (e.code, field) {
        ("invalid_request", Some(f)) => e.with_field(f),
        ("invalid_request", None) if e.detail.starts_with("each tag") => e.with_field("tags"),
        _ => e,
    }
}

/// Adds an entry (supervisors).
#[utoipa::path(post, path = "/api/v1/knowledge", tag = "knowledge", request_body = KnowledgeInput,
    responses((status = 201, body = KnowledgeView), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn create(
    State(st): State<AppState>,
    me: Authed,
    ApiJson(req): ApiJson<KnowledgeInput>,
) -> ApiResult<(StatusCode, Json<KnowledgeView>)> {
    me.require(Role::Supervisor)?;
    let entry = st
        .bot
        .knowledge()
        .create(req, me.agent.id)
        .await
        .map_err(|e| field_of(e.into()))?;
    st.bot.index().upsert(&entry).map_err(ai)?;
    crate::knowledge_sync::changed(&st, entry.id);
    Ok((StatusCode::CREATED, Json(entry)))
}

/// Lists entries, oldest first.
#[utoipa::path(get, path = "/api/v1/knowledge", tag = "knowledge", params(KnowledgeParams),
    responses((status = 200, body = KnowledgeList), (status = 400, body = ErrorBody)), security(("bearer" = [])))]
pub async fn list(
    State(st): State<AppState>,
    _me: Authed,
    ApiQuery(p): ApiQuery<KnowledgeParams>,
) -> ApiResult<Json<KnowledgeList>> {
    let limit = super::page_limit(p.limit, 50, 200)?;
    let after = match p.cursor.as_deref() {
        None | Some("") => None,
        Some(c) => Some(c.parse::<i64>().map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                "cursor is not one this API gave",
            )
        })?),
    };
    let items = st.bot.knowledge().list(after, limit).await?;
    let next_cursor = (items.len() as u64 == limit)
        .then(|| items.last().map(|e| e.id.to_string()))
        .flatten();
    Ok(Json(KnowledgeList { items, next_cursor }))
}

/// One entry.
#[utoipa::path(get, path = "/api/v1/knowledge/{id}", tag = "knowledge",
    responses((status = 200, body = KnowledgeView), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get(
    State(st): State<AppState>,
    _me: Authed,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<KnowledgeView>> {
    Ok(Json(st.bot.knowledge().get(id).await?))
}

/// Replaces an entry (supervisors).
#[utoipa::path(put, path = "/api/v1/knowledge/{id}", tag = "knowledge", request_body = KnowledgeInput,
    responses((status = 200, body = KnowledgeView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn update(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<KnowledgeInput>,
) -> ApiResult<Json<KnowledgeView>> {
    me.require(Role::Supervisor)?;
    let entry = st
        .bot
        .knowledge()
        .update(id, req, me.agent.id)
        .await
        .map_err(|e| field_of(e.into()))?;
    st.bot.index().upsert(&entry).map_err(ai)?;
    crate::knowledge_sync::changed(&st, entry.id);
    Ok(Json(entry))
}

/// Deletes an entry (supervisors).
#[utoipa::path(delete, path = "/api/v1/knowledge/{id}", tag = "knowledge",
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn delete(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    me.require(Role::Supervisor)?;
    st.bot.knowledge().delete(id).await?;
    st.bot.index().remove(id).map_err(ai)?;
    crate::knowledge_sync::changed(&st, id);
    Ok(StatusCode::NO_CONTENT)
}

/// The best knowledge-base answers for the customer's latest message (BM25, fused with
/// embeddings when `ai.embeddings` is configured), with the files each sends.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/suggestions", tag = "conversations",
    responses((status = 200, body = SuggestionList), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn suggestions(
    State(st): State<AppState>,
    c: ReadConversation,
) -> ApiResult<Json<SuggestionList>> {
    let conv = &c.conversation;
    let Some(question) = st
        .bot
        .suggestion_question(conv.id, conv.inbox_id)
        .await
        .map_err(ai)?
    else {
        return Ok(Json(SuggestionList { items: Vec::new() }));
    };
    // BM25, fused with embeddings when they are configured.
    let found: Vec<(i64, f32, Option<String>)> = match &st.llm {
        Some(assist) if assist.retriever().has_embeddings() => assist
            .retriever()
            .top(&st.bot, &question, kefu_ai::SUGGESTIONS, conv.inbox_id)
            .await
            .map_err(ApiError::internal)?
            .into_iter()
            .map(|f| (f.knowledge_id, f.score, None))
            .collect(),
        _ => st
            .bot
            .index()
            .search(&question, kefu_ai::SUGGESTIONS)
            .map_err(ai)?
            .into_iter()
            .map(|h| (h.knowledge_id, h.score, Some(h.answer)))
            .collect(),
    };
    let ids: Vec<i64> = found.iter().map(|f| f.0).collect();
    let mut files = st.bot.knowledge().files_of(&ids).await?;
    let mut items = Vec::new();
    for (knowledge_id, score, answer) in found {
        let answer = match answer {
            Some(a) => a,
            None => match st.bot.knowledge().get(knowledge_id).await {
                Ok(entry) => entry.answer,
                // Deleted since it was embedded.
                Err(kefu_normalizer::StoreError::NotFound(_)) => continue,
                Err(e) => return Err(e.into()),
            },
        };
        items.push(Suggestion {
            attachments: files.remove(&knowledge_id).unwrap_or_default(),
            knowledge_id,
            answer,
            score,
        });
    }
    Ok(Json(SuggestionList { items }))
}

/// What the bot decided in a conversation, with the candidates it weighed.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/bot-decisions", tag = "conversations",
    responses((status = 200, body = BotDecisionList), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn decisions(
    State(st): State<AppState>,
    c: ReadConversation,
) -> ApiResult<Json<BotDecisionList>> {
    let rows = st.bot.store().decisions(c.conversation.id).await?;
    Ok(Json(BotDecisionList {
        items: rows
            .into_iter()
            .map(|d| BotDecisionView {
                message_id: d.message_id,
                action: d.action,
                reason: d.reason,
                knowledge_id: d.knowledge_id,
                reply_id: d.reply_id,
                candidates: serde_json::from_value(d.candidates).unwrap_or_default(),
                created_at: d.created_at,
            })
            .collect(),
    }))
}

/// An inbox's bot.
#[utoipa::path(get, path = "/api/v1/inboxes/{id}/bot", tag = "inboxes",
    responses((status = 200, body = BotSettings), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get_bot(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<BotSettings>> {
    if !me.visibility(&st).await?.belongs_to(id) {
        return Err(ApiError::not_found("inbox"));
    }
    Ok(Json(st.bot.store().settings(id).await?))
}

/// Sets an inbox's bot (admins): `off`, `suggest` or `auto`, with optional thresholds and the
/// bot's hours (`schedule_id` of a stored schedule; outside its open hours the bot hands every
/// conversation to humans with the reason `outside_hours`).
#[utoipa::path(put, path = "/api/v1/inboxes/{id}/bot", tag = "inboxes", request_body = BotSettingsInput,
    responses((status = 200, body = BotSettings), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn put_bot(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<BotSettingsInput>,
) -> ApiResult<Json<BotSettings>> {
    me.require(Role::Admin)?;
    let settings = st.bot.store().set_settings(id, req).await.map_err(|e| {
        let e: ApiError = e.into();
        let field = ["min_score", "min_margin", "max_answers", "schedule_id"]
            .into_iter()
            .find(|f| e.detail.starts_with(f));
        match field {
            Some(f) if e.code == "invalid_request" => e.with_field(f),
            _ => e,
        }
    })?;
    // Conversations the bot no longer holds may be assigned now.
    st.dispatcher.wake();
    Ok(Json(settings))
}
