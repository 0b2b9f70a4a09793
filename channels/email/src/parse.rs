//! Raw RFC 5322 bytes → [`InboundEnvelope`]. Pure: no I/O, never panics, never drops a message.
//!
//! What comes out:
//! - **Sender**: `external_id` is the lowercased `From` address (then `Sender`, `Reply-To`,
//!   `Return-Path`), with the display name and email filled in.
//! - **Dedupe key**: the `Message-ID` without angle brackets, or `sha256:<hex>` of the raw bytes
//!   when the message has none (stable across IMAP re-syncs); see [`message_id_key`] for the
//!   rare `Message-ID` that could pass for one of Kefu's own keys.
//! - **Text**: the text parts, decoded from their charset (GBK, Big5, ISO-2022-JP, Shift_JIS,
//!   EUC-KR, windows-125x... via `mail-parser`'s `encoding_rs` support); HTML converted to
//!   readable text when there is no text part; quoted reply history trimmed (the untrimmed text
//!   stays in `extra.email.full_text`). The original HTML is kept in `Content.html`.
//! - **Attachments**: metadata (name, MIME type, decoded size). Parts over the size limit are
//!   left out, listed in `extra.email.dropped_attachments` and noted in the text. Inline images
//!   (with a `Content-ID`) are attachments too; their ids are in `extra.email.inline`.
//! - **Threading**: `Message-ID`, `In-Reply-To` + `References` (most recent first), the subject,
//!   and a conversation token from a plus-address (`support+<token>@example.com`) in `To`, `Cc`
//!   or `Delivered-To`. Mail that references nothing and carries no token starts a new
//!   conversation.
//! - **Loop prevention**: [`crate::r#loop::classify`] → `extra.email.auto`.
//!
//! Malformed MIME, missing headers and unknown charsets yield an envelope with what could be
//! read, plus `extra.email.warnings`.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use kefu_channel::{Attachment, Content, ExternalIdentity, InboundEnvelope, ThreadHints};
use mail_parser::decoders::html::html_to_text;
use mail_parser::{
    Address, HeaderValue, Message, MessageParser, MessagePart, MimeHeaders, PartType,
};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::decode::part_text;
use crate::r#loop::classify;
use crate::quote::trim_quoted;

/// The default largest attachment kept: 25 MiB, what most providers accept.
pub const DEFAULT_MAX_ATTACHMENT_BYTES: u64 = 25 * 1024 * 1024;

/// How to parse mail for one inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseOptions {
    /// The inbox the mail arrived at.
    pub inbox_id: i64,
    /// The inbox's own address. When set, conversation tokens are read only from plus-addresses
    /// of this address; when `None`, from any plus-address.
    pub address: Option<String>,
    /// Attachments larger than this (decoded) are not kept.
    pub max_attachment_bytes: u64,
}

impl ParseOptions {
    /// Options for `inbox_id` with defaults.
    pub fn new(inbox_id: i64) -> Self {
        Self {
            inbox_id,
            address: None,
            max_attachment_bytes: DEFAULT_MAX_ATTACHMENT_BYTES,
        }
    }
}

/// The sender id used when a message names no sender at all.
pub const UNKNOWN_SENDER: &str = "unknown-sender";

/// Parses one raw message. Always returns an envelope.
pub fn parse_message(raw: &[u8], opts: &ParseOptions) -> InboundEnvelope {
    // mail-parser is robust, but a panic here would stall the mailbox on one message forever.
    match std::panic::catch_unwind(|| parse_inner(raw, opts)) {
        Ok(Some(env)) => env,
        Ok(None) => fallback(raw, opts, "the message could not be parsed as MIME"),
        Err(_) => fallback(raw, opts, "the MIME parser failed on this message"),
    }
}

/// `sha256:<hex>` of the raw bytes: the dedupe key of a message without `Message-ID`.
pub fn raw_digest(raw: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(raw)))
}

/// The dedupe key of a message whose cleaned `Message-ID` is `id`.
///
/// The sender writes the `Message-ID`, and Kefu's own keys in the same inbox look like
/// `<namespace>:...` (`sha256:<hex>` above, an agent reply's `reply:<conversation>:<client_id>`),
/// so a `Message-ID` such as `reply:7:x` must not be taken verbatim: stored first, it would make
/// an agent's reply with `client_id` `x` count as already posted and never be sent. A conforming
/// `Message-ID` (`id-left "@" id-right`, RFC 5322 3.6.4) has no `:` before its `@`, and every
/// namespaced key has one, so those ids stay verbatim, exactly as stored so far (an IMAP
/// re-sync, which may come months later, still finds them). Any other id is hashed under
/// `mid:`, its own namespace.
pub fn message_id_key(id: &str) -> String {
    match id.split_once('@') {
        Some((left, _)) if !left.is_empty() && !left.contains(':') => id.to_owned(),
        _ => format!("mid:{}", hex::encode(Sha256::digest(id.as_bytes()))),
    }
}

fn fallback(raw: &[u8], opts: &ParseOptions, why: &str) -> InboundEnvelope {
    let text = String::from_utf8_lossy(raw).into_owned();
    InboundEnvelope {
        inbox_id: opts.inbox_id,
        sender: ExternalIdentity::new(UNKNOWN_SENDER),
        dedupe_key: Some(raw_digest(raw)),
        thread: ThreadHints {
            new_conversation: true,
            ..ThreadHints::default()
        },
        content: Content {
            text,
            extra: json!({ "email": { "warnings": [why] } }),
            ..Content::default()
        },
        sent_at: None,
    }
}

fn parse_inner(raw: &[u8], opts: &ParseOptions) -> Option<InboundEnvelope> {
    let msg = MessageParser::default().parse(raw)?;
    let mut warnings: Vec<String> = Vec::new();
    let mut email = Map::new();

    let sender = sender(&msg, &mut warnings);
    let message_id = msg.message_id().and_then(clean_id);
    let dedupe_key = message_id
        .as_deref()
        .map(message_id_key)
        .unwrap_or_else(|| {
            warnings.push("no Message-ID; the dedupe key is a hash of the message".into());
            raw_digest(raw)
        });

    let references = references(&msg);
    let conversation_token = conversation_token(&msg, opts.address.as_deref());
    let subject = msg.subject().map(|s| s.trim().to_owned());
    let thread = ThreadHints {
        message_ref: message_id,
        new_conversation: references.is_empty() && conversation_token.is_none(),
        references,
        conversation_token,
        subject: subject.clone(),
    };

    let mut full_text = body_text(&msg, &mut warnings);
    let html = body_html(&msg, &mut warnings);
    let (attachments, inline, dropped) = attachments(&msg, opts.max_attachment_bytes);
    let only_broken_parts = attachments.iter().all(|a| a.mime.starts_with("multipart/"));
    if full_text.is_empty()
        && html.is_none()
        && only_broken_parts
        && let Some(raw_text) = raw_body_text(&msg)
    {
        warnings.push("no readable MIME part; showing the raw message body".into());
        full_text = raw_text;
    }
    let mut text = match trim_quoted(&full_text) {
        Some(trimmed) => {
            email.insert("full_text".into(), Value::String(full_text.clone()));
            trimmed
        }
        None => full_text.trim_end().to_owned(),
    };

    for d in &dropped {
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(&format!(
            "[Attachment \"{}\" ({}) was not kept: it is larger than the {} limit.]",
            d.name,
            human_size(d.size.unwrap_or(0)),
            human_size(opts.max_attachment_bytes)
        ));
    }

    if let Some(auto) = classify(&msg) {
        email.insert("auto".into(), Value::String(auto.kind.as_str().into()));
        email.insert("auto_reason".into(), Value::String(auto.reason));
    }
    email.insert("from".into(), json!(sender.external_id));
    email.insert("to".into(), json!(addresses(msg.to())));
    let cc = addresses(msg.cc());
    if !cc.is_empty() {
        email.insert("cc".into(), json!(cc));
    }
    if !inline.is_empty() {
        email.insert("inline".into(), Value::Array(inline));
    }
    if !dropped.is_empty() {
        email.insert("dropped_attachments".into(), json!(dropped_json(&dropped)));
    }
    warnings.dedup();
    if !warnings.is_empty() {
        email.insert("warnings".into(), json!(warnings));
    }

    Some(InboundEnvelope {
        inbox_id: opts.inbox_id,
        sender,
        dedupe_key: Some(dedupe_key),
        thread,
        content: Content {
            text,
            html,
            attachments,
            extra: json!({ "email": Value::Object(email) }),
        },
        sent_at: msg
            .date()
            .and_then(|d| DateTime::<Utc>::from_timestamp(d.to_timestamp(), 0)),
    })
}

fn sender(msg: &Message<'_>, warnings: &mut Vec<String>) -> ExternalIdentity {
    let candidates = [msg.from(), msg.sender(), msg.reply_to()];
    for addr in candidates.into_iter().flatten() {
        if let Some(a) = addr.first()
            && let Some(address) = a.address().map(str::trim).filter(|s| !s.is_empty())
        {
            let address = address.to_lowercase();
            return ExternalIdentity {
                display_name: a
                    .name()
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .map(str::to_owned),
                email: address.contains('@').then(|| address.clone()),
                external_id: address,
                ..ExternalIdentity::default()
            };
        }
    }
    if let Some(rp) = msg
        .return_address()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let address = rp.to_lowercase();
        warnings.push("no usable From; the sender is taken from Return-Path".into());
        return ExternalIdentity {
            email: address.contains('@').then(|| address.clone()),
            external_id: address,
            ..ExternalIdentity::default()
        };
    }
    warnings.push("the message names no sender".into());
    ExternalIdentity::new(UNKNOWN_SENDER)
}

/// A message id without angle brackets and whitespace; `None` when empty.
pub(crate) fn clean_id(id: &str) -> Option<String> {
    let id = id
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim();
    (!id.is_empty() && !id.contains(char::is_whitespace)).then(|| id.to_owned())
}

fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Text(t) => split_ids(t),
        HeaderValue::TextList(l) => l.iter().flat_map(|t| split_ids(t)).collect(),
        _ => Vec::new(),
    }
}

/// Real mail puts several ids, comments or bare ids in these headers; take every token that
/// looks like an id.
fn split_ids(s: &str) -> Vec<String> {
    s.split(|c: char| c.is_whitespace() || c == ',')
        .filter_map(clean_id)
        .filter(|id| id.contains('@') || id.len() >= 8)
        .collect()
}

/// `In-Reply-To` first, then `References` from last to first, without duplicates.
fn references(msg: &Message<'_>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let own = msg.message_id().and_then(clean_id);
    let refs = ids(msg.references());
    for id in ids(msg.in_reply_to())
        .into_iter()
        .chain(refs.into_iter().rev())
    {
        if Some(&id) != own.as_ref() && !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

fn all_addresses<'a>(addr: Option<&'a Address<'_>>) -> impl Iterator<Item = String> + 'a {
    addr.into_iter()
        .flat_map(|a| a.iter())
        .filter_map(|a| a.address().map(|s| s.trim().to_lowercase()))
}

fn addresses(addr: Option<&Address<'_>>) -> Vec<String> {
    all_addresses(addr).collect()
}

/// A token from `local+<token>@domain` in `To`, `Cc` or `Delivered-To`.
fn conversation_token(msg: &Message<'_>, own: Option<&str>) -> Option<String> {
    let delivered = msg
        .header_values("Delivered-To")
        .filter_map(|v| v.as_text())
        .map(|s| s.trim().trim_matches(['<', '>']).to_lowercase())
        .collect::<Vec<_>>();
    let own = own.map(str::to_lowercase);
    let own_parts = own.as_deref().and_then(|o| o.rsplit_once('@'));
    all_addresses(msg.to())
        .chain(all_addresses(msg.cc()))
        .chain(delivered)
        .find_map(|addr| {
            let (local, domain) = addr.rsplit_once('@')?;
            let (base, token) = local.split_once('+')?;
            if let Some((own_local, own_domain)) = own_parts
                && (base != own_local || domain != own_domain)
            {
                return None;
            }
            let valid = !token.is_empty()
                && token.len() <= 64
                && token
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            valid.then(|| token.to_owned())
        })
}

/// The readable text: every text body part (HTML converted when a part has no text
/// alternative), joined.
fn body_text(msg: &Message<'_>, warnings: &mut Vec<String>) -> String {
    let mut parts: Vec<String> = Vec::new();
    for &id in &msg.text_body {
        let Some(part) = msg.parts.get(id as usize) else {
            continue;
        };
        let Some((text, note)) = part_text(msg, part) else {
            continue;
        };
        warnings.extend(note);
        let text = match &part.body {
            PartType::Html(_) => html_to_text(&text),
            _ => text,
        };
        let text = normalize_newlines(&text);
        let text = text.trim_start_matches('\n').trim_end();
        if !text.trim().is_empty() {
            parts.push(text.to_owned());
        }
    }
    parts.join("\n\n")
}

/// The HTML body parts, joined; `None` when the message has no HTML.
fn body_html(msg: &Message<'_>, warnings: &mut Vec<String>) -> Option<String> {
    let mut html: Vec<String> = Vec::new();
    for &id in &msg.html_body {
        let Some(part) = msg.parts.get(id as usize) else {
            continue;
        };
        if !matches!(part.body, PartType::Html(_)) {
            continue;
        }
        if let Some((h, note)) = part_text(msg, part) {
            if note.is_some() && !msg.text_body.contains(&id) {
                warnings.extend(note);
            }
            html.push(h);
        }
    }
    (!html.is_empty()).then(|| html.join("\n"))
}

/// When MIME parsing found no readable part at all (a broken boundary), the raw body is the
/// best there is.
fn raw_body_text(msg: &Message<'_>) -> Option<String> {
    let root = msg.parts.first()?;
    let body = msg.raw_message.get(root.offset_body as usize..)?;
    let text = String::from_utf8_lossy(&body[..body.len().min(64 * 1024)]);
    let text = normalize_newlines(text.trim());
    (!text.is_empty()).then_some(text)
}

fn normalize_newlines(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\r', "\n")
}

fn mime_of(part: &MessagePart<'_>) -> String {
    match part.content_type() {
        Some(ct) => match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase(),
            None => ct.ctype().to_ascii_lowercase(),
        },
        None if part.is_message() => "message/rfc822".into(),
        None => "application/octet-stream".into(),
    }
}

fn part_name(part: &MessagePart<'_>, n: usize, mime: &str) -> String {
    if let Some(name) = part
        .attachment_name()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        return name.to_owned();
    }
    if let PartType::Message(m) = &part.body {
        let subject: Cow<'_, str> = m.subject().map_or("message".into(), |s| s.trim().into());
        return format!("{subject}.eml");
    }
    let ext = mime.rsplit('/').next().unwrap_or("bin");
    format!("attachment-{n}.{ext}")
}

fn attachments(msg: &Message<'_>, max: u64) -> (Vec<Attachment>, Vec<Value>, Vec<Attachment>) {
    let mut kept = Vec::new();
    let mut inline = Vec::new();
    let mut dropped = Vec::new();
    for (n, &id) in msg.attachments.iter().enumerate() {
        let Some(part) = msg.parts.get(id as usize) else {
            continue;
        };
        let mime = mime_of(part);
        let bytes: &[u8] = match &part.body {
            PartType::Message(m) => &m.raw_message,
            _ => part.contents(),
        };
        let size = bytes.len() as u64;
        let mut att = Attachment {
            name: part_name(part, n + 1, &mime),
            mime,
            size: Some(size),
            ..Attachment::default()
        };
        if size > max {
            dropped.push(att);
            continue;
        }
        att.data = Some(bytes::Bytes::copy_from_slice(bytes));
        if let Some(cid) = part.content_id().and_then(clean_id) {
            inline.push(json!({ "name": att.name, "content_id": cid }));
        }
        kept.push(att);
    }
    (kept, inline, dropped)
}

fn dropped_json(dropped: &[Attachment]) -> Vec<Value> {
    dropped
        .iter()
        .map(|a| json!({ "name": a.name, "mime": a.mime, "size": a.size }))
        .collect()
}

fn human_size(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB {
        format!("{:.1} MB", bytes as f64 / MIB as f64)
    } else {
        format!("{} KB", bytes.div_ceil(1024))
    }
}
