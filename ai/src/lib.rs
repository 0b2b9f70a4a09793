//! # kefu-ai — AI assist that works offline
//!
//! - [`text`]: the features a question is matched on (the search analyzer's jieba words
//!   without function words, plus Chinese character bigrams), their similarity (0 to 1), and
//!   whether a customer asks for a person.
//! - [`KnowledgeIndex`]: the knowledge base in an in-memory tantivy index: BM25 finds
//!   candidates, the similarity scores them.
//! - [`decide`]: the FAQ bot's decision, a pure function (answer, or hand off and why).
//! - [`FaqBot`]: runs the decision on customers' new messages in `auto` inboxes and stores it
//!   with its candidates (through `kefu_normalizer::knowledge::BotStore`); serves agents'
//!   suggestions.
//! - [`learn::Learner`]: proposes question and answer pairs from resolved conversations whose
//!   question the knowledge base did not clearly answer.
//! - [`IntentDetector`]: which named intent a customer's first message expresses: nearest
//!   neighbours over the intents' example phrases, in a [`KnowledgeIndex`] of their own.
//! - [`sensitive`]: sensitive words and personal data (word lists on folded text, checksummed
//!   detectors), each rule with one action: mask, block, flag or route.
//! - [`sentiment`]: a score from −1 to 1 for a customer message, with the terms that drove
//!   it (lexicons, negation, intensifiers, complaint signals).
//! - [`summary`]: conversation summaries on resolve and transfer: a header of facts and the
//!   sentences TextRank ranks highest ([`summary::Extractive`]).
//! - [`llm`]: the optional language model (off by default): an OpenAI-compatible client
//!   that redacts personal data from everything it sends, and the draft and summary requests
//!   with the checks on their answers.
//!
//! Storage (entries, intents, settings, decisions) is in `kefu-normalizer`; this crate only matches and
//! decides, and needs no network or model files unless a language model is configured.

mod bot;
mod decide;
mod index;
mod intent;
pub mod learn;
pub mod llm;
pub mod sensitive;
pub mod sentiment;
mod spelling;
pub mod summary;
pub mod text;

pub use bot::{CANDIDATES, FaqBot, SUGGESTIONS};
pub use decide::{decide, weak_match};
pub use index::{Document, Hit, KnowledgeIndex, OTHER_LANGUAGE, RETRIEVED, Scoring};
pub use intent::{Detection, IntentDetector, IntentModel, MODEL_WAIT, classify as classify_intent};

use kefu_normalizer::StoreError;

/// Why matching failed.
#[derive(Debug, thiserror::Error)]
pub enum AiError {
    /// Reading or writing rows failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The index failed.
    #[error("knowledge index error: {0}")]
    Index(String),
}

impl From<tantivy::TantivyError> for AiError {
    fn from(e: tantivy::TantivyError) -> Self {
        Self::Index(e.to_string())
    }
}

#[cfg(test)]
mod tests;
