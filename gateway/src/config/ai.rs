//! The optional AI services' settings: an OpenAI-compatible language model (`[ai.llm]`) and
//! embeddings API (`[ai.embeddings]`), both off by default.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::ConfigError;

/// Optional AI services beyond the offline ones (see `AI.md`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AiConfig {
    /// An OpenAI-compatible chat completions API for drafts and summaries; off unless
    /// `base_url` and `model` are set.
    pub llm: LlmConfig,
    /// An OpenAI-compatible embeddings API that improves which knowledge base entries a draft
    /// draws on (fused with BM25); off unless `base_url` and `model` are set.
    pub embeddings: EmbeddingsConfig,
}

/// An OpenAI-compatible embeddings API (`POST {base_url}/embeddings`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmbeddingsConfig {
    /// The API's base address, e.g. `https://api.openai.com/v1`; unset turns embeddings off.
    pub base_url: Option<String>,
    /// The bearer key, when the API wants one (env `KEFU_AI__EMBEDDINGS__API_KEY`).
    #[serde(skip_serializing)]
    pub api_key: Option<SecretString>,
    /// The embedding model's name, e.g. `text-embedding-3-small`.
    pub model: Option<String>,
    /// The longest one request may take, in seconds; the draft then uses BM25 alone.
    pub timeout_secs: f64,
}

impl Default for EmbeddingsConfig {
    fn default() -> Self {
        Self {
            base_url: None,
            api_key: None,
            model: None,
            timeout_secs: 10.0,
        }
    }
}

impl EmbeddingsConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        endpoint(
            "ai.embeddings",
            &self.base_url,
            &self.model,
            self.timeout_secs,
        )
    }
}

/// Checks an API's `base_url`, `model` and `timeout_secs`, named under `prefix`.
fn endpoint(
    prefix: &str,
    base_url: &Option<String>,
    model: &Option<String>,
    timeout_secs: f64,
) -> Result<(), ConfigError> {
    let bad = |m: String| Err(ConfigError(m));
    if base_url.is_some() != model.is_some() {
        return bad(format!(
            "{prefix}.base_url and {prefix}.model must be set together"
        ));
    }
    if let Some(url) = base_url
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        return bad(format!(
            "{prefix}.base_url must start with http:// or https://"
        ));
    }
    if model.as_deref().is_some_and(|m| m.trim().is_empty()) {
        return bad(format!("{prefix}.model must not be empty"));
    }
    if !(0.1..=600.0).contains(&timeout_secs) {
        return bad(format!("{prefix}.timeout_secs must be between 0.1 and 600"));
    }
    Ok(())
}

/// An OpenAI-compatible chat completions API (`POST {base_url}/chat/completions`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LlmConfig {
    /// The API's base address, e.g. `https://api.openai.com/v1`; unset turns the model off.
    pub base_url: Option<String>,
    /// The bearer key, when the API wants one (env `KEFU_AI__LLM__API_KEY`). Never shown.
    #[serde(skip_serializing)]
    pub api_key: Option<SecretString>,
    /// The model's name, e.g. `gpt-4o-mini`.
    pub model: Option<String>,
    /// The longest one request may take, in seconds; a summary then keeps its extractive
    /// sentences, a draft answers `llm_timeout`.
    pub timeout_secs: f64,
    /// Requests each inbox may send per UTC day (drafts, summaries, intents and embeddings
    /// together).
    pub daily_requests_per_inbox: u64,
    /// Tokens each inbox may use per UTC day, as the API reports them; unlimited when unset.
    pub daily_tokens_per_inbox: Option<u64>,
    /// Write resolve and transfer summaries with the model.
    pub summaries: bool,
    /// Ask the model for the intent of a first message the local index is unsure about
    /// (routing waits for it at most 5 s).
    pub intents: bool,
}

impl Default for LlmConfig {
    fn default() -> Self {
        Self {
            base_url: None,
            api_key: None,
            model: None,
            timeout_secs: 20.0,
            daily_requests_per_inbox: 1000,
            daily_tokens_per_inbox: None,
            summaries: true,
            intents: true,
        }
    }
}

impl LlmConfig {
    /// Whether a model is configured.
    pub fn enabled(&self) -> bool {
        self.base_url.is_some()
    }

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        endpoint("ai.llm", &self.base_url, &self.model, self.timeout_secs)?;
        if self.daily_requests_per_inbox == 0 || self.daily_tokens_per_inbox == Some(0) {
            return Err(ConfigError(
                "ai.llm.daily_requests_per_inbox and ai.llm.daily_tokens_per_inbox must be at least 1"
                    .into(),
            ));
        }
        Ok(())
    }
}
