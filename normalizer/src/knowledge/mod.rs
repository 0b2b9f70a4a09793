//! The knowledge base and the FAQ bot's records (issue 23).
//!
//! - [`Knowledge`]: entries of question, alternative phrasings, answer, tags, locale and
//!   whether they are used; checked on the way in ([`KnowledgeInput::checked`]).
//! - [`csv`]: the knowledge base as CSV, for export and import ([`Knowledge::import`]).
//! - [`proposals`]: question and answer pairs learnt from resolved conversations, for admins
//!   to approve (into entries) or reject.
//! - [`BotSettings`]: an inbox's bot (`inboxes.bot`): `off`, `suggest` (agents get
//!   suggestions) or `auto` (the bot answers confident matches and hands the rest to humans).
//! - [`BotStore`]: what the bot writes, each decision in one transaction under the
//!   conversation's lock: an answer (a `bot` message), or a handoff (a `bot_handoff` activity
//!   line and the `conversation.bot_handoff` event), always with the candidates it weighed.
//!
//! Matching itself (the search index and the decision) lives in `kefu-ai`; this module only
//! stores. While an inbox is in `auto` mode, a queued conversation that waits since the bot was
//! switched on is the bot's until it hands off: the assigner skips it ([`BotStore::held`]).

mod bot;
pub mod csv;
mod entries;
mod files;
pub mod proposals;
mod settings;

pub use bot::{BotContext, BotStore, Decided};
pub use entries::{ImportError, Imported, Knowledge};
pub use files::{MAX_FILES, answer_files};
pub use settings::{BotMode, BotSettings, BotSettingsInput};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::entity::knowledge_entry;
use crate::error::StoreError;
use crate::saved_files::SavedFile;

/// Longest question or alternative phrasing, in characters.
pub const MAX_QUESTION_CHARS: usize = 500;
/// Most alternative phrasings per entry.
pub const MAX_ALTERNATIVES: usize = 50;
/// Longest answer, in characters.
pub const MAX_ANSWER_CHARS: usize = 5000;
/// Most tags per entry.
pub const MAX_TAGS: usize = 20;
/// Longest tag, in characters.
pub const MAX_TAG_CHARS: usize = 50;

/// One knowledge-base entry as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct KnowledgeView {
    /// The entry's id.
    pub id: i64,
    /// The question as the entry states it.
    pub question: String,
    /// Other ways customers ask it.
    pub alternatives: Vec<String>,
    /// What the bot sends, and what agents are offered.
    pub answer: String,
    /// Free-form tags.
    pub tags: Vec<String>,
    /// The entry's language (`zh-CN`, `en`...), when given.
    pub locale: Option<String>,
    /// Disabled entries are neither suggested nor answered with.
    pub enabled: bool,
    /// Files sent with the answer, in order.
    #[serde(default)]
    pub attachments: Vec<SavedFile>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<&knowledge_entry::Model> for KnowledgeView {
    fn from(m: &knowledge_entry::Model) -> Self {
        Self {
            id: m.id,
            question: m.question.clone(),
            alternatives: serde_json::from_value(m.alternatives.clone()).unwrap_or_default(),
            answer: m.answer.clone(),
            tags: serde_json::from_value(m.tags.clone()).unwrap_or_default(),
            locale: m.locale.clone(),
            enabled: m.enabled,
            attachments: Vec::new(),
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

impl KnowledgeView {
    /// The question followed by its alternatives: every phrasing the index matches against.
    pub fn phrasings(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.question.as_str()).chain(self.alternatives.iter().map(String::as_str))
    }
}

/// A new entry, or the whole of an edited one (`PUT` replaces every field).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KnowledgeInput {
    /// The question (required, at most 500 characters).
    pub question: String,
    /// Other phrasings (at most 50, each at most 500 characters).
    #[serde(default)]
    pub alternatives: Vec<String>,
    /// The answer (required, at most 5000 characters).
    pub answer: String,
    /// The language, a tag such as `zh-CN` or `en`.
    #[serde(default)]
    pub locale: Option<String>,
    /// Tags (at most 20, each at most 50 characters).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Whether the entry is used (default `true`).
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Files sent with the answer, in order: uploads of yours (`POST /api/v1/attachments`)
    /// or files the entry has (at most 10). Left out, an edit keeps the entry's files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment_ids: Option<Vec<i64>>,
}

impl KnowledgeInput {
    /// The input as stored: texts trimmed, blank and repeated phrasings and tags dropped;
    /// `Invalid` naming the field when something is missing or too long.
    pub fn checked(mut self) -> Result<Self, StoreError> {
        let invalid = |m: String| Err(StoreError::Invalid(m));
        self.question = self.question.trim().to_owned();
        if self.question.is_empty() {
            return invalid("question must not be empty".into());
        }
        if self.question.chars().count() > MAX_QUESTION_CHARS {
            return invalid(format!(
                "question must be at most {MAX_QUESTION_CHARS} characters"
            ));
        }
        self.answer = self.answer.trim().to_owned();
        if self.answer.is_empty() {
            return invalid("answer must not be empty".into());
        }
        if self.answer.chars().count() > MAX_ANSWER_CHARS {
            return invalid(format!(
                "answer must be at most {MAX_ANSWER_CHARS} characters"
            ));
        }
        let mut alternatives: Vec<String> = Vec::new();
        for a in &self.alternatives {
            let a = a.trim();
            if a.chars().count() > MAX_QUESTION_CHARS {
                return invalid(format!(
                    "each of alternatives must be at most {MAX_QUESTION_CHARS} characters"
                ));
            }
            if !a.is_empty() && a != self.question && !alternatives.iter().any(|x| x == a) {
                alternatives.push(a.to_owned());
            }
        }
        if alternatives.len() > MAX_ALTERNATIVES {
            return invalid(format!(
                "alternatives may hold at most {MAX_ALTERNATIVES} phrasings"
            ));
        }
        self.alternatives = alternatives;
        let mut tags: Vec<String> = Vec::new();
        for t in &self.tags {
            let t = t.trim();
            if t.chars().count() > MAX_TAG_CHARS {
                return invalid(format!(
                    "each tag must be at most {MAX_TAG_CHARS} characters"
                ));
            }
            if !t.is_empty() && !tags.iter().any(|x| x == t) {
                tags.push(t.to_owned());
            }
        }
        if tags.len() > MAX_TAGS {
            return invalid(format!("tags may hold at most {MAX_TAGS} tags"));
        }
        self.tags = tags;
        self.locale = match self.locale.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(l) => {
                let ok = l.len() <= 35
                    && l.split('-').all(|p| {
                        !p.is_empty()
                            && p.len() <= 8
                            && p.chars().all(|c| c.is_ascii_alphanumeric())
                    });
                if !ok {
                    return invalid(format!(
                        "locale must be a language tag such as zh-CN or en, not {l:?}"
                    ));
                }
                Some(l.to_owned())
            }
        };
        Ok(self)
    }
}

/// One entry the bot weighed, with its score (0 to 1, higher is closer).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Candidate {
    /// The entry.
    pub knowledge_id: i64,
    /// How closely the customer's words match the entry's best phrasing.
    pub score: f32,
}

/// Why the bot handed a conversation to humans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HandoffReason {
    /// No entry matched closely enough, or two matched about as well.
    WeakMatch,
    /// The customer asked for a person ("人工", "转人工", "human", "agent").
    AskedForHuman,
    /// The bot already answered the inbox's `max_answers` times in a row.
    TooManyAnswers,
    /// The customer's message is strongly negative (a complaint, anger).
    NegativeSentiment,
    /// The message came outside the bot's hours (the schedule named by the inbox's bot
    /// settings is closed).
    OutsideHours,
}

impl HandoffReason {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WeakMatch => "weak_match",
            Self::AskedForHuman => "asked_for_human",
            Self::TooManyAnswers => "too_many_answers",
            Self::NegativeSentiment => "negative_sentiment",
            Self::OutsideHours => "outside_hours",
        }
    }
}

/// `conversation.bot_handoff`: the bot handed the conversation to humans; it is queued for
/// agents from now on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BotHandoffView {
    /// The conversation.
    pub conversation_id: i64,
    /// Its inbox.
    pub inbox_id: i64,
    /// Why.
    pub reason: HandoffReason,
    /// The customer message the decision was taken on.
    pub message_id: i64,
}

#[cfg(test)]
mod tests;
