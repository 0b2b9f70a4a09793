//! Official Account callback messages: private wire types read from [`XmlDoc`], and their
//! normalization into [`InboundEnvelope`]s.
//!
//! - Sender: `FromUserName`, the customer's OpenID for this account.
//! - Dedupe key: `MsgId` for messages; `FromUserName` + `CreateTime` + `Event` for events, as
//!   the official doc recommends ("事件类型消息推荐使用FromUserName + CreateTime 排重"), built
//!   so that it splits one way only (see [`Message::dedupe_key`]).
//! - Media (image, voice, video, shortvideo) become [`Attachment`]s whose `provider_ref` is the
//!   `MediaId`; locations, links and event details go to `Content.extra`, as does the
//!   `bizmsgmenuid` of a text that is a tap on a reply menu (`menu_id`).
//! - Events a customer caused (subscribe, menu clicks, scans, location reports) become short
//!   bracketed texts such as `[subscribed]`; provider notifications (template or mass-send job
//!   results, legacy customer-service session changes) carry nothing for an agent and are
//!   acknowledged without an envelope.

use chrono::{DateTime, Utc};
use kefu_channel::{Attachment, Content, ExternalIdentity, InboundEnvelope};
use serde_json::{Map, Value, json};

use crate::xml::{XmlDoc, XmlError};

/// Fields every callback message carries.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Header {
    pub(crate) to: String,
    pub(crate) from: String,
    pub(crate) create_time: i64,
    pub(crate) msg_id: Option<String>,
}

/// One Official Account callback message.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Message {
    pub(crate) header: Header,
    pub(crate) body: Body,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Body {
    Text {
        content: String,
        /// The reply-menu item the customer tapped (`bizmsgmenuid`), when the text is a tap.
        menu_id: Option<String>,
    },
    Image {
        pic_url: Option<String>,
        media_id: String,
    },
    Voice {
        media_id: String,
        format: Option<String>,
        recognition: Option<String>,
    },
    Video {
        media_id: String,
        thumb_media_id: Option<String>,
        short: bool,
    },
    Location {
        latitude: f64,
        longitude: f64,
        scale: Option<f64>,
        label: Option<String>,
    },
    Link {
        title: String,
        description: Option<String>,
        url: String,
    },
    Event {
        /// As on the wire (`subscribe`, `CLICK`, ...).
        name: String,
        key: Option<String>,
        details: Map<String, Value>,
    },
    Unknown {
        msg_type: String,
    },
}

/// Event fields copied into `Content.extra`, with their JSON names.
const EVENT_FIELDS: &[(&str, &str)] = &[
    ("Ticket", "ticket"),
    ("Latitude", "latitude"),
    ("Longitude", "longitude"),
    ("Precision", "precision"),
    ("MenuId", "menu_id"),
    ("ScanCodeInfo/ScanType", "scan_type"),
    ("ScanCodeInfo/ScanResult", "scan_result"),
    ("SendLocationInfo/Location_X", "latitude"),
    ("SendLocationInfo/Location_Y", "longitude"),
    ("SendLocationInfo/Scale", "scale"),
    ("SendLocationInfo/Label", "label"),
    ("SendLocationInfo/Poiname", "poiname"),
    ("SendPicsInfo/Count", "picture_count"),
];

impl Message {
    /// Reads a decrypted callback document.
    pub(crate) fn from_doc(doc: &XmlDoc) -> Result<Self, XmlError> {
        let header = Header {
            to: doc.require("ToUserName")?.to_owned(),
            from: doc
                .non_empty("FromUserName")
                .ok_or(XmlError::Missing("FromUserName"))?
                .to_owned(),
            create_time: doc
                .require("CreateTime")?
                .parse()
                .map_err(|_| XmlError::Invalid("CreateTime"))?,
            msg_id: doc.non_empty("MsgId").map(str::to_owned),
        };
        let owned = |k: &'static str| doc.require(k).map(str::to_owned);
        let opt = |k: &str| doc.non_empty(k).map(str::to_owned);
        let body = match doc.require("MsgType")? {
            "text" => Body::Text {
                content: owned("Content")?,
                menu_id: opt("bizmsgmenuid"),
            },
            "image" => Body::Image {
                pic_url: opt("PicUrl"),
                media_id: owned("MediaId")?,
            },
            "voice" => Body::Voice {
                media_id: owned("MediaId")?,
                format: opt("Format"),
                recognition: opt("Recognition"),
            },
            t @ ("video" | "shortvideo") => Body::Video {
                media_id: owned("MediaId")?,
                thumb_media_id: opt("ThumbMediaId"),
                short: t == "shortvideo",
            },
            "location" => Body::Location {
                latitude: number(doc, "Location_X")?,
                longitude: number(doc, "Location_Y")?,
                scale: doc.non_empty("Scale").and_then(|s| s.parse().ok()),
                label: opt("Label"),
            },
            "link" => Body::Link {
                title: owned("Title")?,
                description: opt("Description"),
                url: owned("Url")?,
            },
            "event" => {
                let mut details = Map::new();
                for (wire, json) in EVENT_FIELDS {
                    if let Some(v) = doc.non_empty(wire) {
                        details.insert((*json).to_owned(), Value::String(v.to_owned()));
                    }
                }
                Body::Event {
                    name: owned("Event")?,
                    key: opt("EventKey"),
                    details,
                }
            }
            other => Body::Unknown {
                msg_type: other.to_owned(),
            },
        };
        Ok(Self { header, body })
    }

    /// The dedupe key: `MsgId` (a 64-bit number), or `wx:<len>:FromUserName:CreateTime:Event`
    /// for events.
    ///
    /// No key may pass for another sender's, nor for one of Kefu's own keys in the inbox
    /// (`reply:<conversation>:<client_id>`). The `FromUserName` is length-prefixed, so the key
    /// splits one way only even for a forged callback (plaintext mode does not sign the body)
    /// whose `FromUserName` has a `:`; they used to be joined bare (`FromUser:123:CLICK`). That
    /// change is safe for stored keys: WeChat retries a callback within 15 s, so an old and a
    /// new key for one event only meet when a retry straddles the upgrade, and then one
    /// bracketed event line is shown twice. A numeric `MsgId`, which is what WeChat sends,
    /// stays verbatim: digits alone match no other key. Anything else gets its own namespace.
    pub(crate) fn dedupe_key(&self) -> String {
        let h = &self.header;
        let sender = format!("wx:{}:{}:{}", h.from.len(), h.from, h.create_time);
        match (&self.body, &h.msg_id) {
            (Body::Event { name, .. }, _) => format!("{sender}:{name}"),
            (_, Some(id)) if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) => id.clone(),
            (_, Some(id)) => format!("msgid:{id}"),
            (_, None) => sender,
        }
    }

    /// The envelope for this message, or `None` for provider notifications no agent needs.
    pub(crate) fn into_envelope(self, inbox_id: i64) -> Option<InboundEnvelope> {
        let dedupe_key = Some(self.dedupe_key());
        let content = content(self.body)?;
        Some(InboundEnvelope {
            inbox_id,
            sender: ExternalIdentity::new(self.header.from),
            dedupe_key,
            thread: Default::default(),
            content,
            sent_at: DateTime::<Utc>::from_timestamp(self.header.create_time, 0),
        })
    }
}

fn number(doc: &XmlDoc, field: &'static str) -> Result<f64, XmlError> {
    doc.require(field)?
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or(XmlError::Invalid(field))
}

fn media(kind: &str, name: &str, mime: &str, media_id: String, url: Option<String>) -> Attachment {
    Attachment {
        name: format!("{kind}{name}"),
        mime: mime.to_owned(),
        size: None,
        url,
        provider_ref: Some(media_id),
        ..Attachment::default()
    }
}

fn content(body: Body) -> Option<Content> {
    Some(match body {
        Body::Text { content, menu_id } => Content {
            // A tap on a `msgmenu` item: the item's text, and which item it was.
            extra: menu_id.map_or(Value::Null, |id| json!({ "menu_id": id })),
            ..Content::text(content)
        },
        Body::Image { pic_url, media_id } => Content {
            attachments: vec![media("image", ".jpg", "image/jpeg", media_id, pic_url)],
            extra: json!({ "type": "image" }),
            ..Content::default()
        },
        Body::Voice {
            media_id,
            format,
            recognition,
        } => {
            let format = format.unwrap_or_else(|| "amr".into()).to_ascii_lowercase();
            let mime = match format.as_str() {
                "amr" => "audio/amr",
                "speex" => "audio/speex",
                "mp3" => "audio/mpeg",
                _ => "application/octet-stream",
            };
            let ext = if format.bytes().all(|b| b.is_ascii_alphanumeric()) {
                format!(".{format}")
            } else {
                String::new()
            };
            Content {
                // The speech recognition result, when the account has it enabled, is the best
                // text an agent can get for a voice note.
                text: recognition.clone().unwrap_or_default(),
                attachments: vec![media("voice", &ext, mime, media_id, None)],
                extra: json!({ "type": "voice", "recognition": recognition }),
                ..Content::default()
            }
        }
        Body::Video {
            media_id,
            thumb_media_id,
            short,
        } => Content {
            attachments: vec![media("video", ".mp4", "video/mp4", media_id, None)],
            extra: json!({
                "type": if short { "shortvideo" } else { "video" },
                "thumb_media_id": thumb_media_id,
            }),
            ..Content::default()
        },
        Body::Location {
            latitude,
            longitude,
            scale,
            label,
        } => Content {
            text: match &label {
                Some(l) => format!("[location] {l}"),
                None => format!("[location] {latitude},{longitude}"),
            },
            extra: json!({
                "type": "location",
                "latitude": latitude,
                "longitude": longitude,
                "scale": scale,
                "label": label,
            }),
            ..Content::default()
        },
        Body::Link {
            title,
            description,
            url,
        } => Content {
            text: format!("[link] {title}\n{url}"),
            extra: json!({
                "type": "link",
                "title": title,
                "description": description,
                "url": url,
            }),
            ..Content::default()
        },
        Body::Event { name, key, details } => {
            let lower = name.to_ascii_lowercase();
            let key_text = key.as_deref().unwrap_or_default();
            let text = match lower.as_str() {
                "subscribe" => "[subscribed]".to_owned(),
                "unsubscribe" => "[unsubscribed]".to_owned(),
                "scan" => "[scanned QR code]".to_owned(),
                "click" => format!("[menu click] {key_text}"),
                "view" | "view_miniprogram" => format!("[menu link] {key_text}"),
                "location" => "[location report]".to_owned(),
                "location_select" => match details.get("label").and_then(Value::as_str) {
                    Some(l) => format!("[location] {l}"),
                    None => "[location]".to_owned(),
                },
                "scancode_push" | "scancode_waitmsg" => {
                    match details.get("scan_result").and_then(Value::as_str) {
                        Some(r) => format!("[scanned] {r}"),
                        None => "[scanned]".to_owned(),
                    }
                }
                "pic_sysphoto" | "pic_photo_or_album" | "pic_weixin" => "[photo menu]".to_owned(),
                // Provider notifications: job results, legacy customer-service sessions,
                // account verification. Nothing a customer said.
                "templatesendjobfinish"
                | "masssendjobfinish"
                | "kf_create_session"
                | "kf_close_session"
                | "kf_switch_session" => return None,
                _ if lower.starts_with("qualification_")
                    || lower.starts_with("naming_")
                    || lower.starts_with("annual_renew")
                    || lower.starts_with("verify_expired") =>
                {
                    return None;
                }
                _ => format!("[event] {name}"),
            };
            let mut extra = details;
            extra.insert("type".into(), json!("event"));
            extra.insert("event".into(), json!(lower));
            if let Some(key) = key {
                extra.insert("event_key".into(), json!(key));
            }
            Content {
                text,
                extra: Value::Object(extra),
                ..Content::default()
            }
        }
        Body::Unknown { msg_type } => Content {
            text: format!("[unsupported message type: {msg_type}]"),
            extra: json!({ "type": msg_type }),
            ..Content::default()
        },
    })
}

#[cfg(test)]
#[path = "inbound_tests.rs"]
mod tests;
