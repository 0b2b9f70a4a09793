//! Cleaning envelopes before they are stored: whatever a channel hands in, the database gets
//! valid, bounded text. Control characters (NUL above all, which PostgreSQL refuses in text) are
//! dropped; oversized text is truncated with a note rather than refused, so a huge email is
//! still stored instead of being lost.

use kefu_channel::InboundEnvelope;

use crate::error::StoreError;

/// Bounds on what one message may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest stored text, in bytes; longer text is truncated with a note.
    pub max_text_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_text_bytes: 256 * 1024,
        }
    }
}

const MAX_ID_BYTES: usize = 1024;
const MAX_NAME_CHARS: usize = 255;

/// Validates and cleans an envelope.
pub fn envelope(mut env: InboundEnvelope, limits: &Limits) -> Result<InboundEnvelope, StoreError> {
    let id = env.sender.external_id.trim();
    if id.is_empty() {
        return Err(StoreError::Invalid("sender.external_id is empty".into()));
    }
    if id.len() > MAX_ID_BYTES || id.chars().any(char::is_control) {
        return Err(StoreError::Invalid(
            "sender.external_id must be at most 1024 bytes without control characters".into(),
        ));
    }
    env.sender.external_id = id.to_owned();
    if let Some(k) = &env.dedupe_key
        && (k.is_empty() || k.len() > MAX_ID_BYTES)
    {
        return Err(StoreError::Invalid(
            "dedupe_key must be 1 to 1024 bytes".into(),
        ));
    }
    env.sender.display_name = env
        .sender
        .display_name
        .as_deref()
        .map(|n| short(n, MAX_NAME_CHARS))
        .filter(|n| !n.is_empty());
    env.thread.subject = env
        .thread
        .subject
        .as_deref()
        .map(|n| short(n, 998))
        .filter(|n| !n.is_empty());
    env.content.text = text(&env.content.text, limits.max_text_bytes);
    if let Some(html) = &env.content.html {
        env.content.html = Some(text(html, limits.max_text_bytes * 4));
    }
    Ok(env)
}

/// Drops control characters other than tab and newlines, then truncates to `max_bytes` on a
/// character boundary, appending a note that says how much was cut.
pub fn text(s: &str, max_bytes: usize) -> String {
    let clean: String = s
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t' | '\r'))
        .collect();
    if clean.len() <= max_bytes {
        return clean;
    }
    let mut end = max_bytes;
    while !clean.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}\n[… {} more bytes truncated]",
        &clean[..end],
        clean.len() - end
    )
}

fn short(s: &str, max_chars: usize) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .take(max_chars)
        .collect::<String>()
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use kefu_channel::{Content, ExternalIdentity};

    use super::*;

    fn env(id: &str, text: &str) -> InboundEnvelope {
        InboundEnvelope {
            inbox_id: 1,
            sender: ExternalIdentity::new(id),
            dedupe_key: Some("k".into()),
            thread: Default::default(),
            content: Content::text(text),
            sent_at: None,
        }
    }

    #[test]
    fn odd_content_is_cleaned_or_refused() {
        let limits = Limits { max_text_bytes: 16 };
        let cases: [(&str, &str, Result<&str, &str>); 6] = [
            ("u1", "", Ok("")),
            ("u1", "a\0b\u{7}c\nd", Ok("abc\nd")),
            (
                "u1",
                "你好你好你好你好",
                Ok("你好你好你\n[… 9 more bytes truncated]"),
            ),
            ("  u1 ", "x", Ok("x")),
            ("", "x", Err("sender.external_id is empty")),
            ("a\u{0}b", "x", Err("control characters")),
        ];
        for (id, input, want) in cases {
            let got = envelope(env(id, input), &limits);
            match (got, want) {
                (Ok(e), Ok(text)) => {
                    assert_eq!(e.content.text, text, "input {input:?}");
                    assert_eq!(e.sender.external_id, id.trim());
                }
                (Err(e), Err(msg)) => assert!(e.to_string().contains(msg), "{e}"),
                (got, want) => panic!("{id:?}/{input:?}: got {got:?}, want {want:?}"),
            }
        }
    }
}
