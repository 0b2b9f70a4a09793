//! The out-of-office reply an inbox sends customers who write while its schedule is closed
//! ([`OutOfOffice`], stored on the inbox; [`super::replies`] sends it).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::StoreError;

/// The longest out-of-office message, in characters.
pub const MAX_MESSAGE_CHARS: usize = 2000;

/// The longest `repeat_after_hours`: 30 days.
pub const MAX_REPEAT_HOURS: u32 = 720;

/// An inbox's out-of-office reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutOfOffice {
    /// Whether customers who write while the inbox's schedule is closed are answered.
    #[serde(default)]
    pub enabled: bool,
    /// The answer. `{{next_open}}` becomes the next opening time in the schedule's zone
    /// (`2026-10-08 09:00 Asia/Shanghai`).
    #[serde(default)]
    pub message: String,
    /// A conversation is answered again only this many hours after the last answer; 0 answers
    /// it once.
    #[serde(default = "default_repeat")]
    pub repeat_after_hours: u32,
}

fn default_repeat() -> u32 {
    24
}

impl Default for OutOfOffice {
    fn default() -> Self {
        Self {
            enabled: false,
            message: String::new(),
            repeat_after_hours: default_repeat(),
        }
    }
}

impl OutOfOffice {
    /// The reply as stored: the message trimmed, and `Invalid` (naming the field) when it is
    /// enabled without a message, too long, or repeats after more than 30 days.
    pub fn checked(mut self) -> Result<Self, StoreError> {
        self.message = self.message.trim().to_owned();
        if self.enabled && self.message.is_empty() {
            return Err(StoreError::Invalid(
                "out_of_office.message is required when the reply is enabled".into(),
            ));
        }
        if self.message.chars().count() > MAX_MESSAGE_CHARS {
            return Err(StoreError::Invalid(format!(
                "out_of_office.message must be at most {MAX_MESSAGE_CHARS} characters"
            )));
        }
        if self.repeat_after_hours > MAX_REPEAT_HOURS {
            return Err(StoreError::Invalid(format!(
                "out_of_office.repeat_after_hours must be between 0 and {MAX_REPEAT_HOURS}"
            )));
        }
        Ok(self)
    }

    /// The reply stored on an inbox row (the default when none is).
    pub fn of(row: &crate::entity::inbox::Model) -> Self {
        row.out_of_office
            .as_ref()
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default()
    }
}
