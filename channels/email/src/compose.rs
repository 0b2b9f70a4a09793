//! Outbound mail: an agent reply → an RFC 5322 message (lettre), and SMTP failures → [`SendError`].
//!
//! Every reply gets a `Message-ID` Kefu generates; it is returned as `SendReceipt.provider_ref`
//! (without angle brackets, like inbound `message_ref`s) so the customer's answer, which names it
//! in `In-Reply-To`, threads into the conversation. The id is derived from the inbox,
//! conversation and message ids plus a hash of the content, so a retried send carries the same
//! id and a recipient's client can recognise a duplicate.
//!
//! `In-Reply-To` names the most recent reference and `References` lists them oldest first
//! (RFC 5322 §3.6.4); with plus-addressing on, `Reply-To: local+<token>@domain` routes answers
//! back to the conversation even when a client drops those headers (Chatwoot does the same).
//! The subject gets one `Re: ` unless it already has a reply prefix.
//!
//! Attachments: a reply with files is `multipart/mixed` around the text/HTML alternative, one
//! base64 part per file with its MIME type and name. A non-ASCII name (`报价单.pdf`) is written
//! twice, as RFC 2231 `filename*=utf-8''...` in `Content-Disposition` (what current clients
//! read) and as an RFC 2047 encoded word in `Content-Type; name=` (what older Outlook and
//! Foxmail read). Kefu loads each file's bytes into [`Attachment::data`] before calling
//! `send`; a file that arrives without them, or files together larger than the inbox's
//! `max_attachment_bytes`, fail the reply permanently: retrying would send the same thing.
//!
//! SMTP errors are classified in [`crate::smtp_error`] (re-exported here as
//! [`classify_smtp_error`]).

use base64::Engine as _;
use kefu_channel::{Attachment, OutboundMessage, SendError};
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use sha2::{Digest, Sha256};

use crate::r#loop::is_own_address;
use crate::settings::EmailSettings;
pub use crate::smtp_error::classify_smtp_error;

/// At most this many ids go into `References`: the first (the thread root) and the latest.
const MAX_REFERENCES: usize = 20;

/// A composed reply and the `Message-ID` it carries (without angle brackets).
#[derive(Debug)]
pub struct Composed {
    /// The message, ready for SMTP.
    pub message: lettre::Message,
    /// Its `Message-ID`, without angle brackets.
    pub message_id: String,
}

/// `Re: <subject>`, without stacking prefixes (`Re: Re:`, `RE:`, `回复：`, `AW:`...).
pub fn reply_subject(subject: Option<&str>) -> String {
    let subject = subject.map(str::trim).unwrap_or("");
    if subject.is_empty() {
        return "Re: (no subject)".into();
    }
    let lower = subject.to_lowercase();
    let prefixed = [
        "re:",
        "re：",
        "回复:",
        "回复：",
        "答复:",
        "答复：",
        "aw:",
        "sv:",
        "antw:",
    ]
    .iter()
    .any(|p| lower.starts_with(p));
    if prefixed {
        subject.to_owned()
    } else {
        format!("Re: {subject}")
    }
}

/// The `Message-ID` of a reply, without angle brackets; stable across retries of one message.
pub fn message_id_for(msg: &OutboundMessage, domain: &str) -> String {
    let mut h = Sha256::new();
    h.update(msg.content.text.as_bytes());
    h.update([0]);
    h.update(msg.recipient.external_id.as_bytes());
    let digest = hex::encode(&h.finalize()[..6]);
    let domain = if domain.is_empty() {
        "kefu.invalid"
    } else {
        domain
    };
    format!(
        "kefu.{}.{}.{}.{digest}@{domain}",
        msg.inbox_id, msg.conversation_id, msg.message_id
    )
}

fn mailbox(name: Option<&str>, address: &str, field: &str) -> Result<Mailbox, SendError> {
    let address = address.trim().parse().map_err(|e| {
        SendError::permanent(
            "invalid_recipient",
            format!("{field} {address:?} is not a valid email address: {e}"),
        )
    })?;
    Ok(Mailbox::new(
        name.map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned),
        address,
    ))
}

fn bracketed(id: &str) -> String {
    format!(
        "<{}>",
        id.trim().trim_start_matches('<').trim_end_matches('>')
    )
}

/// Plain text as simple HTML, for the HTML alternative when the agent wrote only text.
fn text_to_html(text: &str) -> String {
    let mut out = String::from("<div>");
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("<br>\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out.push_str("</div>");
    out
}

/// A file name safe to put in a header: no control characters or path separators, never empty.
fn safe_file_name(name: &str) -> String {
    let cleaned: String = name
        .trim()
        .chars()
        .map(|c| match c {
            '/' | '\\' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    let cleaned = cleaned.trim_matches(['.', ' ']).to_owned();
    if cleaned.is_empty() {
        "attachment".into()
    } else {
        cleaned
    }
}

/// `type/subtype; name="..."`, the name as an RFC 2047 encoded word when it is not plain ASCII.
/// A MIME type that does not parse becomes `application/octet-stream`.
fn content_type_with_name(mime: &str, name: &str) -> ContentType {
    const FALLBACK: &str = "application/octet-stream";
    let essence = mime
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let essence = if ContentType::parse(&essence).is_ok() && essence.contains('/') {
        essence
    } else {
        FALLBACK.to_owned()
    };
    let plain = name
        .chars()
        .all(|c| (c.is_ascii_graphic() && c != '"' && c != '\\') || c == ' ');
    let quoted = if plain {
        name.to_owned()
    } else {
        format!(
            "=?utf-8?b?{}?=",
            base64::engine::general_purpose::STANDARD.encode(name)
        )
    };
    ContentType::parse(&format!("{essence}; name=\"{quoted}\""))
        .or_else(|_| ContentType::parse(&essence))
        .or_else(|_| ContentType::parse(FALLBACK))
        .expect("application/octet-stream is a valid MIME type")
}

/// The MIME parts of `attachments`, after checking every file has its bytes and that together
/// they stay within `max_bytes`.
fn attachment_parts(
    attachments: &[Attachment],
    max_bytes: u64,
) -> Result<Vec<SinglePart>, SendError> {
    let mut total: u64 = 0;
    let mut parts = Vec::with_capacity(attachments.len());
    for a in attachments {
        let name = safe_file_name(&a.name);
        let Some(data) = &a.data else {
            let id = a.id.map_or_else(String::new, |id| format!(" (file {id})"));
            return Err(SendError::permanent(
                "attachment_unavailable",
                format!(
                    "the attachment {name:?}{id} reached the email channel without its content, so the reply was not sent"
                ),
            ));
        };
        total = total.saturating_add(data.len() as u64);
        if total > max_bytes {
            return Err(SendError::permanent(
                "attachment_too_large",
                format!(
                    "the attachments add up to more than this inbox's limit of {} bytes (reached at {name:?}, {} bytes); send a smaller file or a link",
                    max_bytes,
                    data.len()
                ),
            ));
        }
        parts.push(
            lettre::message::Attachment::new(name.clone())
                .body(data.to_vec(), content_type_with_name(&a.mime, &name)),
        );
    }
    Ok(parts)
}

/// Builds the reply for `msg`.
pub fn compose(settings: &EmailSettings, msg: &OutboundMessage) -> Result<Composed, SendError> {
    let to_address = msg.recipient.external_id.trim();
    if is_own_address(to_address, &settings.address) {
        return Err(SendError::permanent(
            "own_address",
            format!("refusing to email the inbox's own address {to_address:?}: it would loop"),
        ));
    }
    let from = mailbox(
        msg.agent_name.as_deref(),
        &settings.address,
        "the inbox address",
    )?;
    let to = mailbox(
        msg.recipient.display_name.as_deref(),
        to_address,
        "the recipient",
    )?;
    let message_id = message_id_for(msg, settings.domain());

    let mut b = lettre::Message::builder()
        .from(from)
        .to(to)
        .subject(reply_subject(msg.subject.as_deref()))
        .message_id(Some(bracketed(&message_id)))
        .date_now();
    if settings.plus_addressing
        && let Some(token) = msg.conversation_token.as_deref().filter(|t| !t.is_empty())
        && let Some((local, domain)) = settings.address.rsplit_once('@')
    {
        b = b.reply_to(mailbox(
            None,
            &format!("{local}+{token}@{domain}"),
            "the reply-to address",
        )?);
    }
    let refs: Vec<&String> = msg
        .references
        .iter()
        .filter(|r| !r.trim().is_empty())
        .collect();
    if let Some(last) = refs.last() {
        b = b.in_reply_to(bracketed(last));
        let kept: Vec<&String> = if refs.len() > MAX_REFERENCES {
            std::iter::once(refs[0])
                .chain(refs[refs.len() - (MAX_REFERENCES - 1)..].iter().copied())
                .collect()
        } else {
            refs.clone()
        };
        let joined = kept
            .iter()
            .map(|r| bracketed(r))
            .collect::<Vec<_>>()
            .join(" ");
        b = b.references(joined);
    }
    let text = msg.content.text.clone();
    let html = msg
        .content
        .html
        .clone()
        .unwrap_or_else(|| text_to_html(&text));
    let body = MultiPart::alternative()
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(text),
        )
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_HTML)
                .body(html),
        );
    let files = attachment_parts(&msg.content.attachments, settings.max_attachment_bytes())?;
    let body = if files.is_empty() {
        body
    } else {
        files
            .into_iter()
            .fold(MultiPart::mixed().multipart(body), MultiPart::singlepart)
    };
    let message = b.multipart(body).map_err(|e| {
        SendError::permanent(
            "invalid_message",
            format!("the reply could not be built: {e}"),
        )
    })?;
    Ok(Composed {
        message,
        message_id,
    })
}

#[cfg(test)]
#[path = "compose_tests.rs"]
mod tests;
