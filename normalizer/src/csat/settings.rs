//! [`CsatSettings`]: whether an inbox asks its customers to rate resolved conversations, and
//! with which words (stored on the inbox as `csat`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::StoreError;

/// The longest custom question, in characters.
pub const MAX_MESSAGE_CHARS: usize = 500;

/// The longest comment a customer may leave with a rating, in characters.
pub const MAX_COMMENT_CHARS: usize = 2000;

/// An inbox's satisfaction survey.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CsatSettings {
    /// Whether the customer is asked to rate a conversation when it is first resolved.
    #[serde(default)]
    pub enabled: bool,
    /// The question; empty asks "How would you rate the help you received?" in the customer's
    /// language (English or Chinese).
    #[serde(default)]
    pub message: String,
}

impl CsatSettings {
    /// The settings as stored: the message trimmed, `Invalid` (naming the field) when too long.
    pub fn checked(mut self) -> Result<Self, StoreError> {
        self.message = self.message.trim().to_owned();
        if self.message.chars().count() > MAX_MESSAGE_CHARS {
            return Err(StoreError::Invalid(format!(
                "csat.message must be at most {MAX_MESSAGE_CHARS} characters"
            )));
        }
        Ok(self)
    }

    /// The settings stored on an inbox row (off when none are).
    pub fn of(row: &crate::entity::inbox::Model) -> Self {
        row.csat
            .as_ref()
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default()
    }
}
