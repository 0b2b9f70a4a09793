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
//! SMTP errors: 4xx replies and connection, TLS and timeout failures are retryable (a 4xx
//! that speaks of rate or frequency limits is `RateLimited`); 5xx replies are permanent and
//! carry the server's text.

use kefu_channel::{OutboundMessage, SendError};
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp;
use sha2::{Digest, Sha256};

use crate::r#loop::is_own_address;
use crate::settings::EmailSettings;

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

/// Classifies an SMTP failure.
pub fn classify_smtp_error(e: &smtp::Error) -> SendError {
    let detail = e.to_string();
    match e.status() {
        Some(code) if e.is_permanent() => SendError::permanent(format!("smtp_{code}"), detail),
        Some(_) => {
            let lower = detail.to_lowercase();
            let limited = ["rate", "frequency", "too many", "limit exceeded"]
                .iter()
                .any(|w| lower.contains(w));
            if limited {
                SendError::RateLimited { after: None }
            } else {
                SendError::retryable(detail)
            }
        }
        // Connection refused, TLS handshake, timeouts, a server that hung up, a garbled reply:
        // none of these says the message is bad.
        None => SendError::retryable(detail),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kefu_channel::{Content, Recipient};

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
}
