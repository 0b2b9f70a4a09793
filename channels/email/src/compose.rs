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
mod tests {
    use super::*;
    use kefu_channel::{Content, Recipient};
    use mail_parser::MimeHeaders as _;

    #[test]
    fn subjects_get_exactly_one_reply_prefix() {
        let cases = [
            (Some("Refund"), "Re: Refund"),
            (Some("Re: Refund"), "Re: Refund"),
            (Some("RE: Refund"), "RE: Refund"),
            (Some("回复：退款"), "回复：退款"),
            (Some("AW: Rückerstattung"), "AW: Rückerstattung"),
            (Some("Regarding refund"), "Re: Regarding refund"),
            (Some("  "), "Re: (no subject)"),
            (None, "Re: (no subject)"),
        ];
        for (input, want) in cases {
            assert_eq!(reply_subject(input), want, "{input:?}");
        }
    }

    fn settings(plus: bool) -> EmailSettings {
        EmailSettings::from_json(&serde_json::json!({
            "address": "support@shop.example",
            "imap": {"host": "127.0.0.1", "tls": "none", "username": "u", "password": "p"},
            "smtp": {"host": "127.0.0.1", "tls": "none"},
            "plus_addressing": plus
        }))
        .expect("valid settings")
    }

    fn reply(to: &str) -> OutboundMessage {
        OutboundMessage {
            message_id: 41,
            conversation_id: 3,
            inbox_id: 17,
            recipient: Recipient {
                external_id: to.into(),
                display_name: Some("张三".into()),
            },
            content: Content::text("您好 <b>\n第二行"),
            agent_name: Some("Alice".into()),
            references: vec!["first@x.example".into(), "<second@x.example>".into()],
            subject: Some("退款问题".into()),
            conversation_token: Some("c7f3a1b2".into()),
            last_inbound_at: None,
        }
    }

    #[test]
    fn composes_a_threaded_reply() {
        let c = compose(&settings(true), &reply("10001@qq.com")).expect("composes");
        let raw = c.message.formatted();
        let parsed = mail_parser::MessageParser::default()
            .parse(&raw[..])
            .expect("parses back");
        assert_eq!(parsed.message_id(), Some(c.message_id.as_str()));
        assert!(c.message_id.ends_with("@shop.example"));
        assert_eq!(
            parsed.in_reply_to().as_text(),
            Some("second@x.example"),
            "In-Reply-To is the latest reference"
        );
        assert_eq!(
            parsed.references().as_text_list().map(|l| l.to_vec()),
            Some(vec!["first@x.example".into(), "second@x.example".into()])
        );
        assert_eq!(parsed.subject(), Some("Re: 退款问题"));
        let reply_to = parsed
            .reply_to()
            .and_then(|a| a.first())
            .and_then(|a| a.address());
        assert_eq!(reply_to, Some("support+c7f3a1b2@shop.example"));
        let text = parsed
            .body_text(0)
            .expect("text part")
            .replace("\r\n", "\n");
        assert_eq!(text, "您好 <b>\n第二行");
        let html = parsed.body_html(0).expect("html alternative");
        assert!(html.contains("您好 &lt;b&gt;<br>"), "{html}");
        // A retry carries the same id.
        let again = compose(&settings(true), &reply("10001@qq.com")).expect("composes");
        assert_eq!(again.message_id, c.message_id);
        // Without plus-addressing there is no Reply-To.
        let c = compose(&settings(false), &reply("10001@qq.com")).expect("composes");
        let raw = c.message.formatted();
        let parsed = mail_parser::MessageParser::default()
            .parse(&raw[..])
            .expect("parses back");
        assert!(parsed.reply_to().is_none());
    }

    #[test]
    fn never_mails_our_own_address_and_rejects_bad_recipients() {
        for own in ["support@shop.example", "SUPPORT+abc@shop.example"] {
            match compose(&settings(true), &reply(own)) {
                Err(SendError::Permanent { code, .. }) => assert_eq!(code, "own_address"),
                other => panic!("{own}: expected a permanent refusal, got {other:?}"),
            }
        }
        match compose(&settings(true), &reply("not an address")) {
            Err(SendError::Permanent { code, .. }) => assert_eq!(code, "invalid_recipient"),
            other => panic!("expected invalid_recipient, got {other:?}"),
        }
    }

    fn file(name: &str, mime: &str, data: Option<&[u8]>) -> Attachment {
        Attachment {
            id: Some(7),
            name: name.into(),
            mime: mime.into(),
            size: data.map(|d| d.len() as u64),
            data: data.map(bytes::Bytes::copy_from_slice),
            ..Attachment::default()
        }
    }

    fn parse_back(c: &Composed) -> Vec<u8> {
        c.message.formatted()
    }

    #[test]
    fn attachments_travel_as_named_parts_next_to_the_text() {
        let pdf: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        let mut msg = reply("10001@qq.com");
        msg.content.attachments = vec![
            file("报价单 2026.pdf", "application/pdf", Some(&pdf)),
            file("screen \"shot\".png", "image/png", Some(&png)),
            file("../notes.txt", "not a mime type", Some(b"line 1\nline 2")),
        ];
        let c = compose(&settings(true), &msg).expect("composes");
        let raw = parse_back(&c);
        let head = String::from_utf8_lossy(&raw[..raw.len().min(4000)]).into_owned();
        assert!(head.contains("multipart/mixed"), "{head}");
        let parsed = mail_parser::MessageParser::default()
            .parse(&raw[..])
            .expect("parses back");
        // The text and its HTML alternative are still the body.
        let text = parsed.body_text(0).expect("text").replace("\r\n", "\n");
        assert_eq!(text, "您好 <b>\n第二行");
        assert!(parsed.body_html(0).is_some_and(|h| h.contains("您好")));
        let got: Vec<(String, String)> = parsed
            .attachments()
            .map(|p| {
                let ct = p.content_type().expect("content type");
                (
                    p.attachment_name().unwrap_or_default().to_owned(),
                    format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or("")),
                )
            })
            .collect();
        let want: Vec<(String, String)> = [
            ("报价单 2026.pdf", "application/pdf"),
            ("screen \"shot\".png", "image/png"),
            ("_notes.txt", "application/octet-stream"),
        ]
        .iter()
        .map(|(n, m)| (n.to_string(), m.to_string()))
        .collect();
        assert_eq!(got, want);
        let bytes: Vec<&[u8]> = parsed.attachments().map(|p| p.contents()).collect();
        assert!(bytes[0] == &pdf[..], "the PDF's bytes survive");
        assert!(bytes[1] == &png[..], "the PNG's bytes survive");
        assert!(
            bytes[2] == b"line 1\nline 2",
            "the text file is not rewritten"
        );
        // Older clients read the name from Content-Type; it is encoded there too.
        let raw = String::from_utf8_lossy(&raw).into_owned();
        assert!(
            raw.contains("filename*0*=utf-8''%E6%8A%A5%E4%BB%B7%E5%8D%95%202026.pdf"),
            "RFC 2231 name"
        );
        assert!(
            raw.contains("name=\"=?utf-8?b?5oql5Lu35Y2VIDIwMjYucGRm?=\""),
            "RFC 2047 name"
        );
        assert!(raw.is_ascii(), "every header and body line is 7-bit");
    }

    #[test]
    fn attachments_without_bytes_or_over_the_limit_fail_permanently() {
        let mut msg = reply("10001@qq.com");
        msg.content.attachments = vec![file("合同.pdf", "application/pdf", None)];
        match compose(&settings(true), &msg) {
            Err(SendError::Permanent { code, reason }) => {
                assert_eq!(code, "attachment_unavailable");
                assert!(
                    reason.contains("合同.pdf") && reason.contains("file 7"),
                    "{reason}"
                );
            }
            other => panic!("expected attachment_unavailable, got {other:?}"),
        }

        let mut small = settings(true);
        small.max_attachment_bytes = Some(1000);
        let mut msg = reply("10001@qq.com");
        msg.content.attachments = vec![file("a.bin", "application/octet-stream", Some(&[1; 1000]))];
        assert!(
            compose(&small, &msg).is_ok(),
            "exactly the limit is allowed"
        );
        msg.content
            .attachments
            .push(file("b.bin", "application/octet-stream", Some(&[2; 1])));
        match compose(&small, &msg) {
            Err(SendError::Permanent { code, reason }) => {
                assert_eq!(code, "attachment_too_large");
                assert!(
                    reason.contains("1000 bytes") && reason.contains("b.bin"),
                    "{reason}"
                );
            }
            other => panic!("expected attachment_too_large, got {other:?}"),
        }
    }
}
