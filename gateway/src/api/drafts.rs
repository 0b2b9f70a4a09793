//! Drafts by the optional language model: `POST /api/v1/conversations/{id}/draft` finds the
//! knowledge base entries closest to what the customer wrote last (the FAQ bot's index) and
//! asks the model for a reply grounded only in them, citing them. The agent edits and sends
//! it; nothing is sent to the customer here. `GET /api/v1/ai` tells the console whether a
//! model is configured, so it shows the Draft button only then.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kefu_ai::llm::LlmError;
use kefu_ai::llm::prompt::{self, Source};
use kefu_normalizer::StoreError;
use kefu_normalizer::summaries::{self, Speaker, SummaryMessage};
use serde::Serialize;
use utoipa::ToSchema;

use crate::access::ActOnConversation;
use crate::auth::Authed;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::llm::AssistError;
use crate::state::AppState;

/// Entries a draft may draw on.
pub const DRAFT_SOURCES: usize = 5;
/// The customer's messages since the last reply that make the question, at most.
const QUESTION_MESSAGES: usize = 3;

/// Which optional AI services are configured.
#[derive(Debug, Serialize, ToSchema)]
pub struct AiStatus {
    /// Whether a language model is configured (drafts, model-written summaries).
    pub llm: bool,
}

/// Which optional AI services this installation has.
#[utoipa::path(get, path = "/api/v1/ai", tag = "knowledge",
    responses((status = 200, body = AiStatus)), security(("bearer" = [])))]
pub async fn status(State(st): State<AppState>, _me: Authed) -> Json<AiStatus> {
    Json(AiStatus {
        llm: st.llm.is_some(),
    })
}

/// An entry a draft cites.
#[derive(Debug, Serialize, ToSchema)]
pub struct Citation {
    /// The knowledge base entry.
    pub knowledge_id: i64,
    /// Its question.
    pub question: String,
}

/// A drafted reply.
#[derive(Debug, Serialize, ToSchema)]
pub struct DraftView {
    /// The reply text, for the agent to edit and send.
    pub text: String,
    /// The entries it rests on (none when the knowledge base did not answer the question).
    pub citations: Vec<Citation>,
}

/// Drafts a reply to the customer's latest messages from the knowledge base, with the
/// configured language model. Personal data is redacted from what is sent.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/draft", tag = "conversations",
    responses((status = 200, body = DraftView),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, description = "llm_budget_exhausted", body = ErrorBody),
        (status = 501, description = "llm_not_configured", body = ErrorBody),
        (status = 502, description = "llm_failed", body = ErrorBody),
        (status = 504, description = "llm_timeout", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn draft(State(st): State<AppState>, c: ActOnConversation) -> ApiResult<Json<DraftView>> {
    let Some(assist) = &st.llm else {
        return Err(ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            "llm_not_configured",
            "no language model is configured (ai.llm); drafts need one",
        ));
    };
    let conv = &c.conversation;
    let thread = summaries::input_of(&st.db, conv.id, chrono::Utc::now())
        .await?
        .messages;
    let question = latest_question(&thread)
        .ok_or_else(|| ApiError::invalid("the conversation has no customer message to answer"))?;
    let found = assist
        .retriever()
        .top(&st.bot, &question, DRAFT_SOURCES, conv.inbox_id)
        .await
        .map_err(ApiError::internal)?;
    let mut sources = Vec::new();
    for f in found {
        match st.bot.knowledge().get(f.knowledge_id).await {
            Ok(entry) => sources.push(Source {
                knowledge_id: entry.id,
                question: entry.question,
                answer: entry.answer,
            }),
            // Deleted since the index was last brought in line.
            Err(StoreError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let answer = assist
        .ask(
            conv.inbox_id,
            &prompt::draft_request(&sources, &thread),
            true,
        )
        .await
        .map_err(assist_error)?;
    let draft = prompt::parse_draft(&answer.content, &sources)
        .map_err(|e| assist_error(AssistError::Llm(e)))?;
    let citations = draft
        .citations
        .iter()
        .filter_map(|id| sources.iter().find(|s| s.knowledge_id == *id))
        .map(|s| Citation {
            knowledge_id: s.knowledge_id,
            question: s.question.clone(),
        })
        .collect();
    Ok(Json(DraftView {
        text: draft.text,
        citations,
    }))
}

/// What the customer wrote since the last message of anyone else (at most the last
/// [`QUESTION_MESSAGES`]), or their last message when an agent wrote after it.
fn latest_question(thread: &[SummaryMessage]) -> Option<String> {
    let last = thread
        .iter()
        .rposition(|m| m.speaker == Speaker::Customer)?;
    let mut first = last;
    while first > 0
        && thread[first - 1].speaker == Speaker::Customer
        && last - first + 1 < QUESTION_MESSAGES
    {
        first -= 1;
    }
    let text = thread[first..=last]
        .iter()
        .map(|m| m.text.trim())
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    (!text.is_empty()).then_some(text)
}

/// The API's answer to a failed request to the model.
pub fn assist_error(e: AssistError) -> ApiError {
    let detail = e.to_string();
    match e {
        AssistError::Budget(_) => ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "llm_budget_exhausted",
            detail,
        ),
        AssistError::Llm(LlmError::Timeout(_)) => {
            ApiError::new(StatusCode::GATEWAY_TIMEOUT, "llm_timeout", detail)
        }
        AssistError::Llm(_) => {
            tracing::warn!(error = %detail, "The language model failed.");
            ApiError::new(StatusCode::BAD_GATEWAY, "llm_failed", detail)
        }
        AssistError::Store(e) => e.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn said(speaker: Speaker, text: &str) -> SummaryMessage {
        SummaryMessage {
            speaker,
            text: text.to_owned(),
        }
    }

    #[test]
    fn the_question_is_what_the_customer_wrote_since_anyone_else_did() {
        use Speaker::{Agent, Customer};
        let cases = [
            (vec![], None),
            (vec![said(Agent, "Hello")], None),
            (
                vec![
                    said(Customer, "hi"),
                    said(Agent, "Hello"),
                    said(Customer, "Is shipping free?"),
                ],
                Some("Is shipping free?"),
            ),
            (
                vec![
                    said(Customer, "a"),
                    said(Customer, "b"),
                    said(Customer, "c"),
                    said(Customer, "d"),
                ],
                Some("b\nc\nd"),
            ),
            (
                vec![
                    said(Customer, "Where is my order?"),
                    said(Agent, "Let me check."),
                ],
                Some("Where is my order?"),
            ),
            (vec![said(Customer, "  ")], None),
        ];
        for (thread, want) in cases {
            assert_eq!(latest_question(&thread).as_deref(), want, "{thread:?}");
        }
    }
}
