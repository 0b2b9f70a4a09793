//! Customer satisfaction (CSAT): when a conversation is first resolved and its inbox asks,
//! the customer is asked to rate it from 1 to 5 in their channel's own way, once.
//!
//! - [`CsatSettings`]: the inbox's switch and question (`inboxes.csat`).
//! - [`Surveys`]: asks ([`Surveys::request`], from the outbox's consumer on
//!   `conversation.resolved`), takes the answer ([`Surveys::submit`]) and lists surveys.
//! - [`question`]: the question's text for a channel (rating links for email and other text
//!   channels; the widget shows a rating card).
//!
//! The customer answers with the survey's token: random, usable once, expiring after
//! [`TOKEN_TTL`].

mod menu;
mod settings;
mod store;
mod text;

pub use menu::menu_answer;
pub use settings::{CsatSettings, MAX_COMMENT_CHARS, MAX_MESSAGE_CHARS};
pub use store::{CsatRefusal, Resolved, Submitted, Surveys};
pub use text::{has_menu, parse_menu_id, question, rating_menu, rating_url};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::entity::csat_survey;
pub use crate::entity::csat_survey::SurveyStatus;

/// How long a survey's token works.
pub const TOKEN_TTL: Duration = Duration::days(7);

/// One survey as the API, webhooks (`csat.requested`, `csat.submitted`) and the console see it.
/// The token is not part of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CsatView {
    /// The survey's id.
    pub id: i64,
    /// The conversation rated.
    pub conversation_id: i64,
    /// Its inbox.
    pub inbox_id: i64,
    /// The customer asked.
    pub contact_id: i64,
    /// The agent who had the conversation when it was resolved.
    pub agent_id: Option<i64>,
    /// The team it belonged to when it was resolved.
    pub team_id: Option<i64>,
    /// The channel type the question went through (`web_chat`, `email`, `wechat`...).
    pub channel: String,
    /// `requested`, `skipped` or `submitted`.
    pub status: SurveyStatus,
    /// Why it was not asked (`reply_window_closed`), when skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_reason: Option<String>,
    /// 1 (very unhappy) to 5 (very happy), once submitted.
    pub rating: Option<i16>,
    /// What the customer wrote, if anything.
    pub comment: Option<String>,
    /// When the question was sent (or skipped).
    pub requested_at: DateTime<Utc>,
    /// When the customer answered.
    pub submitted_at: Option<DateTime<Utc>>,
}

impl From<&csat_survey::Model> for CsatView {
    fn from(s: &csat_survey::Model) -> Self {
        Self {
            id: s.id,
            conversation_id: s.conversation_id,
            inbox_id: s.inbox_id,
            contact_id: s.contact_id,
            agent_id: s.agent_id,
            team_id: s.team_id,
            channel: s.channel.clone(),
            status: s.status,
            skip_reason: s.skip_reason.clone(),
            rating: s.rating,
            comment: s.comment.clone(),
            requested_at: s.requested_at,
            submitted_at: s.submitted_at,
        }
    }
}

#[cfg(test)]
mod tests;
