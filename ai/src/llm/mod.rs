//! The optional language model (off by default): an OpenAI-compatible API that drafts
//! replies from knowledge base entries and writes conversation summaries. Kefu works fully
//! without it; with it, everything sent passes [`redact`] first (ID, card and mobile numbers
//! and email addresses become placeholders).
//!
//! - [`LlmClient`]: the HTTP client (chat completions, embeddings), time-limited, with errors
//!   that say what went wrong ([`LlmError`]).
//! - [`prompt`]: what is asked for a draft or a summary, and the checks on the answers.
//! - [`fusion`]: nearest entries by embedding, fused with BM25's ranking by reciprocal rank.
//!
//! The per-inbox budget is counted in the database (`kefu_normalizer::llm_usage`); the gateway
//! wires the pieces together.

mod client;
pub mod fusion;
pub mod intent;
pub mod prompt;
mod redact;

use std::time::Duration;

pub use client::{ChatMessage, Completion, Embedded, Endpoint, LlmClient, Role};
pub use redact::{placeholder, redact};

/// Why a request to the language model gave nothing usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LlmError {
    /// No answer within the time limit.
    #[error("the language model did not answer within {} s", .0.as_secs_f64())]
    Timeout(Duration),
    /// The API answered with an error status.
    #[error("the language model's API answered HTTP {status}: {message}")]
    Status {
        /// The HTTP status.
        status: u16,
        /// The provider's error message (or the start of its body).
        message: String,
    },
    /// The API could not be reached.
    #[error("cannot reach the language model's API: {0}")]
    Transport(String),
    /// The answer is not what was asked for.
    #[error("the language model's answer is not usable: {0}")]
    BadAnswer(String),
}

impl LlmError {
    /// A short name of the kind of failure, for metrics and stored fallbacks.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Timeout(_) => "timeout",
            Self::Status { .. } => "status",
            Self::Transport(_) => "transport",
            Self::BadAnswer(_) => "bad_answer",
        }
    }
}
