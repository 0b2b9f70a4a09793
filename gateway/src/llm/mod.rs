//! The optional language model, wired: [`Assist`] sends a request for an inbox within its
//! daily budget (`kefu_normalizer::llm_usage`), through [`kefu_ai::llm::LlmClient`], which
//! redacts personal data from every text. Drafts use it from the API
//! (`crate::api::drafts`), with the entries [`retrieve`] finds (BM25, fused with embeddings
//! when `ai.embeddings` is configured); [`summaries`] rewrites resolve and transfer summaries
//! after they are committed; the dispatcher asks it for the intent of a first message the
//! local index is unsure about ([`kefu_ai::IntentModel`]). Without `ai.llm` in the configuration there is no [`Assist`] and Kefu does
//! all of this offline (or not at all, for drafts).

pub mod retrieve;
pub mod summaries;

use std::time::Duration;

use chrono::Utc;
use kefu_ai::llm::intent::{intent_request, parse_intent};
use kefu_ai::llm::{ChatMessage, Completion, Endpoint, LlmClient, LlmError};
use kefu_normalizer::intents::IntentView;
use kefu_normalizer::llm_usage::{Budget, LlmUsage};
use kefu_normalizer::{Db, StoreError};

use crate::app::StartError;
use crate::config::Config;

/// Why the model gave nothing.
#[derive(Debug, thiserror::Error)]
pub enum AssistError {
    /// The inbox used its daily budget.
    #[error("inbox {0} has used its language model budget for today (UTC)")]
    Budget(i64),
    /// The model failed (timeout, the API's error, an unusable answer).
    #[error(transparent)]
    Llm(#[from] LlmError),
    /// Counting the budget failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The configured model with its budget; cheap to clone.
#[derive(Clone)]
pub struct Assist {
    client: LlmClient,
    usage: LlmUsage,
    budget: Budget,
    retriever: retrieve::Retriever,
}

impl Assist {
    /// The model of `config`, or `None` when none is configured.
    pub fn from_config(config: &Config, db: &Db) -> Result<Option<Self>, StartError> {
        let (llm, emb) = (&config.ai.llm, &config.ai.embeddings);
        let (Some(base_url), Some(model)) = (&llm.base_url, &llm.model) else {
            if emb.base_url.is_some() {
                tracing::warn!("ai.embeddings is set without ai.llm; it is not used.");
            }
            return Ok(None);
        };
        let http = crate::outbound_http_client(config)?;
        tracing::info!(%model, "A language model drafts replies and writes summaries.");
        let client = LlmClient::new(
            http.clone(),
            Endpoint {
                base_url: base_url.clone(),
                api_key: llm.api_key.clone(),
                model: model.clone(),
                timeout: Duration::from_secs_f64(llm.timeout_secs),
            },
        );
        let embeddings = match (&emb.base_url, &emb.model) {
            (Some(base_url), Some(model)) => Some(LlmClient::new(
                http,
                Endpoint {
                    base_url: base_url.clone(),
                    api_key: emb.api_key.clone(),
                    model: model.clone(),
                    timeout: Duration::from_secs_f64(emb.timeout_secs),
                },
            )),
            _ => None,
        };
        let usage = LlmUsage::new(db.clone());
        let budget = Budget {
            requests: llm.daily_requests_per_inbox,
            tokens: llm.daily_tokens_per_inbox,
        };
        Ok(Some(Self {
            client,
            usage: usage.clone(),
            budget,
            retriever: retrieve::Retriever::new(embeddings, usage, budget),
        }))
    }

    /// Finds the knowledge base entries a draft draws on and agents are suggested.
    pub fn retriever(&self) -> &retrieve::Retriever {
        &self.retriever
    }

    /// Sends `messages` (redacted by the client) for a conversation of inbox `inbox_id`,
    /// counting the request against the inbox's budget first and the tokens after; with
    /// `json`, asks for a JSON object.
    pub async fn ask(
        &self,
        inbox_id: i64,
        messages: &[ChatMessage],
        json: bool,
    ) -> Result<Completion, AssistError> {
        let now = Utc::now();
        if !self.usage.take(inbox_id, now, self.budget).await? {
            metrics::counter!("kefu_llm_requests_total", "result" => "budget").increment(1);
            return Err(AssistError::Budget(inbox_id));
        }
        let started = std::time::Instant::now();
        let result = self.client.chat(messages, json).await;
        metrics::histogram!("kefu_llm_request_duration_seconds")
            .record(started.elapsed().as_secs_f64());
        let label = match &result {
            Ok(_) => "ok",
            Err(e) => e.kind(),
        };
        metrics::counter!("kefu_llm_requests_total", "result" => label).increment(1);
        let answer = result?;
        if let Some(tokens) = answer.total_tokens
            && let Err(e) = self.usage.add_tokens(inbox_id, now, tokens).await
        {
            tracing::warn!(inbox = inbox_id, error = %e, "Cannot count the language model's tokens.");
        }
        Ok(answer)
    }
}

#[async_trait::async_trait]
impl kefu_ai::IntentModel for Assist {
    async fn classify(
        &self,
        inbox_id: i64,
        text: &str,
        intents: &[IntentView],
    ) -> Result<Option<String>, String> {
        let answer = self
            .ask(inbox_id, &intent_request(text, intents), true)
            .await
            .map_err(|e| e.to_string())?;
        parse_intent(&answer.content, intents).map_err(|e| e.to_string())
    }
}
