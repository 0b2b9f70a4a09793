//! Replies with attachments: which files each account type can send, in what order the parts
//! go out, and how a retried reply skips the parts that already reached the customer.
//!
//! A reply is sent as separate provider messages: its text first, then one message per
//! attachment, each uploaded as temporary material (`cgi-bin/media/upload`) and sent by
//! `media_id`. Every part counts against the customer's reply quota (five within 48 hours).
//!
//! What can be sent:
//!
//! | account | image (PNG, JPEG; GIF on the OA) | other files |
//! |---|---|---|
//! | Official Account | `msgtype: image`, up to 10 MB | refused: the customer-service API has no file message |
//! | WeCom kf | `msgtype: image`, up to 10 MB (larger ones as files) | `msgtype: file`, up to 20 MB |
//!
//! Every attachment is checked before anything is sent, and every file is uploaded before the
//! first message goes out: a reply the channel cannot deliver whole fails permanently with a
//! reason naming the file (`attachment_unsupported`, `attachment_too_large`,
//! `attachment_unavailable` when Kefu did not load the bytes) and the customer receives none of
//! it — an agent can fix the reply (drop the file, send a link) and send it again, without the
//! customer seeing half of it. Upload errors are classified like sends ([`crate::api`]).
//!
//! A reply that fails part-way (a busy provider after the text went out) is retried by the
//! delivery pipeline; [`Progress`] remembers how many parts of each message were accepted, so
//! the retry continues with the next part instead of sending the text again. It lives in
//! memory: after a restart a retry starts from the first part.

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::Bytes;
use kefu_channel::{Attachment, FetchedFile, OutboundMessage, SendError};
use serde_json::{Value, json};

use crate::api::Api;

const MB: usize = 1024 * 1024;
/// Image limit of both APIs' temporary material.
pub(crate) const MAX_IMAGE_BYTES: usize = 10 * MB;
/// WeCom's limit for `file` material.
pub(crate) const MAX_FILE_BYTES: usize = 20 * MB;
/// WeCom refuses material of five bytes or less.
const MIN_BYTES: usize = 6;

/// Which API a reply goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Account {
    /// Official Account customer-service messages.
    Official,
    /// WeCom customer service `kf/send_msg`.
    WecomKf,
}

/// How an attachment travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Image,
    File,
}

impl Kind {
    /// The upload `type` and the message's `msgtype`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::File => "file",
        }
    }
}

/// One provider message of a reply.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Part<'a> {
    Text(&'a str),
    Media {
        kind: Kind,
        file_name: String,
        mime: String,
        data: &'a Bytes,
    },
}

/// Which API a reply menu goes to: an Official Account's items are `{id, content}`, WeCom
/// customer service's `{type: "click", click: {id, content}}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MenuStyle {
    Official,
    Kf,
}

/// `base` with a text part's type fields: `text`, or a `msgmenu` under the text when the reply
/// carries a menu (`Content.extra.menu.items: [{id, text}]`, at most 10) and the text is its
/// only part. A tap on an item comes back as the customer's text naming the item's id.
pub(crate) fn text_body(
    mut base: Value,
    text: &str,
    extra: &Value,
    alone: bool,
    style: MenuStyle,
) -> Value {
    let items: Vec<Value> = extra["menu"]["items"]
        .as_array()
        .into_iter()
        .flatten()
        .take(10)
        .filter_map(|i| {
            let (id, label) = (i["id"].as_str()?, i["text"].as_str()?);
            Some(match style {
                MenuStyle::Official => json!({"id": id, "content": label}),
                MenuStyle::Kf => json!({"type": "click", "click": {"id": id, "content": label}}),
            })
        })
        .collect();
    if let Value::Object(o) = &mut base {
        if alone && !items.is_empty() {
            o.insert("msgtype".into(), json!("msgmenu"));
            let menu = json!({"head_content": text, "list": items, "tail_content": ""});
            o.insert("msgmenu".into(), menu);
        } else {
            o.insert("msgtype".into(), json!("text"));
            o.insert("text".into(), json!({ "content": text }));
        }
    }
    base
}

/// The lower-case MIME type without parameters.
fn essence(mime: &str) -> String {
    mime.split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// The file extension WeChat expects for an image type (it checks the file name).
fn image_extension(mime: &str, account: Account) -> Option<&'static str> {
    match (mime, account) {
        ("image/jpeg" | "image/jpg" | "image/pjpeg", _) => Some("jpg"),
        ("image/png", _) => Some("png"),
        ("image/gif", Account::Official) => Some("gif"),
        _ => None,
    }
}

/// A file name WeChat accepts: no path, no control characters, the right extension.
fn file_name(name: &str, extension: Option<&str>) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let mut clean: String = base
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(100)
        .collect();
    if clean.trim().is_empty() {
        clean = "file".into();
    }
    if let Some(ext) = extension {
        let has = clean.rsplit_once('.').is_some_and(|(_, e)| {
            e.eq_ignore_ascii_case(ext) || (ext == "jpg" && e.eq_ignore_ascii_case("jpeg"))
        });
        if !has {
            clean = format!("{clean}.{ext}");
        }
    }
    clean
}

fn unsupported(att: &Attachment, why: String) -> SendError {
    SendError::permanent(
        "attachment_unsupported",
        format!("{:?} cannot be sent: {why}. Nothing was sent.", att.name),
    )
}

fn part_of(att: &Attachment, account: Account) -> Result<Part<'_>, SendError> {
    let Some(data) = att.data.as_ref() else {
        return Err(SendError::permanent(
            "attachment_unavailable",
            format!(
                "Kefu could not load the stored file {:?}. Nothing was sent.",
                att.name
            ),
        ));
    };
    let mime = essence(&att.mime);
    let image = image_extension(&mime, account);
    let (kind, limit) = match (image, account) {
        // Too large for an image message, WeCom still takes it as a file.
        (Some(_), Account::WecomKf) if data.len() > MAX_IMAGE_BYTES => (Kind::File, MAX_FILE_BYTES),
        (Some(_), _) => (Kind::Image, MAX_IMAGE_BYTES),
        (None, Account::WecomKf) => (Kind::File, MAX_FILE_BYTES),
        (None, Account::Official) => {
            return Err(unsupported(
                att,
                format!(
                    "a WeChat Official Account can send images (PNG, JPEG, GIF) but no other files ({}); share a link instead",
                    if mime.is_empty() {
                        "unknown type"
                    } else {
                        &mime
                    }
                ),
            ));
        }
    };
    if data.len() > limit {
        return Err(SendError::permanent(
            "attachment_too_large",
            format!(
                "{:?} is {:.1} MB; WeChat accepts at most {} MB for {}s. Nothing was sent.",
                att.name,
                data.len() as f64 / MB as f64,
                limit / MB,
                kind.as_str()
            ),
        ));
    }
    if data.len() < MIN_BYTES {
        return Err(unsupported(att, "the file is empty".into()));
    }
    Ok(Part::Media {
        kind,
        file_name: file_name(&att.name, image),
        mime: if mime.is_empty() {
            "application/octet-stream".into()
        } else {
            mime
        },
        data,
    })
}

/// The parts of a reply in sending order, or why it cannot be sent. The text is checked by
/// the caller ([`crate::official::precheck`]); here it may be empty when there are files.
pub(crate) fn plan<'a>(
    text: &'a str,
    msg: &'a OutboundMessage,
    account: Account,
) -> Result<Vec<Part<'a>>, SendError> {
    let mut parts = Vec::with_capacity(1 + msg.content.attachments.len());
    if !text.trim().is_empty() {
        parts.push(Part::Text(text));
    }
    for att in &msg.content.attachments {
        parts.push(part_of(att, account)?);
    }
    if parts.is_empty() {
        return Err(SendError::permanent(
            "empty_content",
            "The message is empty.",
        ));
    }
    Ok(parts)
}

/// How many parts of each partly sent message the provider accepted.
#[derive(Default)]
pub(crate) struct Progress(Mutex<HashMap<i64, usize>>);

/// Partly sent messages remembered at most; beyond it (a provider down for long) the oldest
/// knowledge is dropped and those retries resend from the start.
const MAX_REMEMBERED: usize = 10_000;

impl Progress {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, usize>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn sent(&self, message_id: i64) -> usize {
        self.lock().get(&message_id).copied().unwrap_or(0)
    }

    fn record(&self, message_id: i64, parts: usize) {
        let mut g = self.lock();
        if g.len() >= MAX_REMEMBERED && !g.contains_key(&message_id) {
            g.clear();
        }
        g.insert(message_id, parts);
    }

    fn forget(&self, message_id: i64) {
        self.lock().remove(&message_id);
    }
}

/// Uploads the media of `parts[from..]`, then sends `parts[from..]` in order with `body`
/// building each message (`index` is the part's position, `media_id` set for media).
/// Returns the first part's answer.
pub(crate) async fn deliver(
    api: &Api,
    progress: &Progress,
    message_id: i64,
    path: &str,
    parts: &[Part<'_>],
    body: impl Fn(usize, &Part<'_>, Option<&str>) -> Value,
) -> Result<Option<Value>, SendError> {
    let from = progress.sent(message_id).min(parts.len());
    let result = async {
        let mut media_ids = Vec::with_capacity(parts.len());
        for part in &parts[from..] {
            media_ids.push(match part {
                Part::Text(_) => None,
                Part::Media {
                    kind,
                    file_name,
                    mime,
                    data,
                } => Some(api.upload(kind.as_str(), file_name, mime, data).await?),
            });
        }
        let mut first = None;
        for (i, (part, media_id)) in parts[from..].iter().zip(&media_ids).enumerate() {
            let resp = api
                .post(path, &body(from + i, part, media_id.as_deref()))
                .await?;
            progress.record(message_id, from + i + 1);
            first.get_or_insert(resp);
        }
        Ok(first)
    };
    let result = result.await;
    match &result {
        Ok(_) | Err(SendError::Permanent { .. }) => progress.forget(message_id),
        Err(_) => {}
    }
    result
}

/// Downloads an inbound attachment by its WeChat media id (`provider_ref`).
pub(crate) async fn fetch(api: &Api, att: &Attachment) -> Result<FetchedFile, SendError> {
    let media_id = att
        .provider_ref
        .as_deref()
        .filter(|m| !m.is_empty())
        .ok_or_else(|| {
            SendError::permanent(
                "not_downloadable",
                format!("{:?} has no WeChat media id to download.", att.name),
            )
        })?;
    let file = api.download(media_id).await?;
    tracing::debug!(bytes = file.data.len(), "Downloaded WeChat media.");
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_get_the_extension_wechat_checks() {
        for (name, ext, want) in [
            ("photo.jpg", Some("jpg"), "photo.jpg"),
            ("photo.JPEG", Some("jpg"), "photo.JPEG"),
            ("screenshot", Some("png"), "screenshot.png"),
            ("../../etc/x.png", Some("png"), "x.png"),
            ("", Some("jpg"), "file.jpg"),
            ("a\"b\n.pdf", None, "ab.pdf"),
            ("report.pdf", None, "report.pdf"),
        ] {
            assert_eq!(file_name(name, ext), want, "{name:?}");
        }
    }

    #[test]
    fn what_each_account_sends() {
        let att = |mime: &str, len: usize| Attachment {
            name: "f".into(),
            mime: mime.into(),
            data: Some(Bytes::from(vec![1u8; len])),
            ..Attachment::default()
        };
        let kind = |a: &Attachment, acc| match part_of(a, acc) {
            Ok(Part::Media { kind, .. }) => kind.as_str().to_owned(),
            Ok(Part::Text(_)) => "text".into(),
            Err(SendError::Permanent { code, .. }) => code,
            Err(e) => format!("{e:?}"),
        };
        use Account::{Official, WecomKf};
        for (a, acc, want) in [
            (att("image/png", 100), Official, "image"),
            (att("IMAGE/JPEG; q=1", 100), Official, "image"),
            (att("image/gif", 100), Official, "image"),
            (att("image/gif", 100), WecomKf, "file"),
            (
                att("application/pdf", 100),
                Official,
                "attachment_unsupported",
            ),
            (att("application/pdf", 100), WecomKf, "file"),
            (
                att("image/png", MAX_IMAGE_BYTES + 1),
                Official,
                "attachment_too_large",
            ),
            (att("image/png", MAX_IMAGE_BYTES + 1), WecomKf, "file"),
            (
                att("application/zip", MAX_FILE_BYTES + 1),
                WecomKf,
                "attachment_too_large",
            ),
            (att("image/png", 3), Official, "attachment_unsupported"),
            (
                Attachment {
                    data: None,
                    ..att("image/png", 10)
                },
                Official,
                "attachment_unavailable",
            ),
        ] {
            assert_eq!(
                kind(&a, acc),
                want,
                "{} {} bytes on {acc:?}",
                a.mime,
                a.size.unwrap_or(0)
            );
        }
    }

    #[test]
    fn progress_is_bounded() {
        let p = Progress::default();
        for id in 0..MAX_REMEMBERED as i64 {
            p.record(id, 1);
        }
        assert_eq!(p.sent(5), 1);
        p.record(-1, 2);
        assert!(p.lock().len() <= MAX_REMEMBERED);
        assert_eq!(p.sent(-1), 2);
    }
}
