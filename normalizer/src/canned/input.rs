//! What a canned response is made of when it is saved, and the checks on its shortcut and
//! content.

use super::{CannedError, MAX_CONTENT_CHARS, MAX_SHORTCUT_CHARS, template};
use crate::entity::canned_response::CannedScope;

/// A new canned response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCanned {
    /// What is typed after `/`.
    pub shortcut: String,
    /// The text, with placeholders.
    pub content: String,
    /// Whose it is.
    pub scope: CannedScope,
    /// The team, for a `team` response.
    pub team_id: Option<i64>,
    /// Files sent with it, in order (the caller's uploads).
    pub attachment_ids: Vec<i64>,
}

/// Changes to a canned response; `None` keeps a value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CannedPatch {
    /// A new shortcut.
    pub shortcut: Option<String>,
    /// New content.
    pub content: Option<String>,
    /// A new scope (a `team` one with `team_id`; a `personal` one becomes the caller's).
    pub scope: Option<CannedScope>,
    /// A new team, for a `team` response.
    pub team_id: Option<i64>,
    /// The files it sends from now on, in order: the caller's uploads or files it sent already.
    pub attachment_ids: Option<Vec<i64>>,
}

/// A shortcut as stored: trimmed, without a leading `/`, lower case; 1–50 letters, digits,
/// `-`, `_` or `.`.
pub fn check_shortcut(shortcut: &str) -> Result<String, CannedError> {
    let s = shortcut.trim();
    let s = s.strip_prefix('/').unwrap_or(s).to_lowercase();
    let invalid = |detail: String| CannedError::Invalid {
        field: "shortcut",
        detail,
    };
    if s.is_empty() || s.chars().count() > MAX_SHORTCUT_CHARS {
        return Err(invalid(format!(
            "shortcut must be 1 to {MAX_SHORTCUT_CHARS} characters"
        )));
    }
    if !s
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(invalid(
            "shortcut may hold only letters, digits, '-', '_' and '.' (no spaces)".into(),
        ));
    }
    Ok(s)
}

/// Content as stored: not blank, at most 10,000 characters, no control characters but line
/// breaks and tabs, and only known variables in its placeholders.
pub fn check_content(content: &str) -> Result<String, CannedError> {
    let invalid = |detail: String| CannedError::Invalid {
        field: "content",
        detail,
    };
    if content.trim().is_empty() || content.chars().count() > MAX_CONTENT_CHARS {
        return Err(invalid(format!(
            "content must be 1 to {MAX_CONTENT_CHARS} characters"
        )));
    }
    if content
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(invalid("content may not contain control characters".into()));
    }
    template::check(content)?;
    Ok(content.trim_end().to_owned())
}
