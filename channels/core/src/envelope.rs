//! Channel-neutral inbound messages.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One inbound message (or event) from a customer, as an adapter hands it to Kefu.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboundEnvelope {
    /// The inbox (configured channel account) the message arrived at.
    pub inbox_id: i64,
    /// Who sent it, as the provider identifies them.
    pub sender: ExternalIdentity,
    /// The provider's id for this message (WeChat `MsgId`, email `Message-ID`, the widget's
    /// `client_id`...). Kefu stores a message once per inbox and dedupe key: a provider retry or
    /// a re-sync hands in the same key and gets the already stored message back.
    pub dedupe_key: Option<String>,
    /// Hints that place the message in an existing conversation.
    #[serde(default)]
    pub thread: ThreadHints,
    /// What the customer sent.
    pub content: Content,
    /// When the provider says the customer sent it.
    pub sent_at: Option<DateTime<Utc>>,
}

/// A customer as one channel knows them: an OpenID, an email address, an app user id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExternalIdentity {
    /// Stable id within the inbox (unique per inbox).
    pub external_id: String,
    /// A name to show, when the provider gives one.
    pub display_name: Option<String>,
    /// An email address, when known.
    pub email: Option<String>,
    /// A phone number, when known.
    pub phone: Option<String>,
    /// Provider or integrator attributes (`vip_level`, language...). Merged into the contact.
    #[serde(default)]
    pub attributes: serde_json::Map<String, serde_json::Value>,
}

impl ExternalIdentity {
    /// An identity known only by its id.
    pub fn new(external_id: impl Into<String>) -> Self {
        Self {
            external_id: external_id.into(),
            ..Self::default()
        }
    }
}

/// Where an inbound message belongs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ThreadHints {
    /// This message's own reference (email `Message-ID`), stored so later replies can find it.
    pub message_ref: Option<String>,
    /// References to earlier messages, most recent first (email `In-Reply-To`, then
    /// `References` from last to first).
    #[serde(default)]
    pub references: Vec<String>,
    /// A token Kefu generated for a conversation (e.g. `support+<token>@example.com`).
    pub conversation_token: Option<String>,
    /// A subject line, for channels that have one.
    pub subject: Option<String>,
    /// Open a new conversation rather than continuing the contact's open one (e.g. a new email
    /// thread).
    #[serde(default)]
    pub new_conversation: bool,
}

/// The content of a message: text, optional HTML, attachments, and channel extras.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Content {
    /// Plain text as the customer should read it.
    pub text: String,
    /// An HTML rendering, when the channel has one (email).
    pub html: Option<String>,
    /// Files, images, voice notes, videos.
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    /// Channel-specific structured extras (a WeChat location, a link card, an event name).
    /// Kept verbatim; the console shows what it understands.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub extra: serde_json::Value,
}

impl Content {
    /// Plain text content.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            ..Self::default()
        }
    }
}

/// One attached file: its metadata and, while it travels between a channel and Kefu, its bytes.
///
/// Inbound, a channel that has the bytes (an email part) puts them in [`Attachment::data`]; Kefu
/// stores them, fills in [`Attachment::id`] and [`Attachment::url`], and the stored message keeps
/// only the metadata. A channel that only has a provider reference (a WeChat `MediaId`) leaves
/// `data` empty; Kefu fetches the bytes through [`Channel::fetch_attachment`](crate::Channel)
/// when someone opens the file.
///
/// Outbound, Kefu loads the bytes of every stored attachment of a reply into `data` before it
/// calls [`Channel::send`](crate::Channel), so a channel never reads Kefu's storage itself.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    /// Kefu's id for the stored file, once stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    /// File name as shown to agents.
    pub name: String,
    /// MIME type, e.g. `image/jpeg`.
    pub mime: String,
    /// Size in bytes, when known.
    pub size: Option<u64>,
    /// Where the bytes can be fetched, when there is a URL.
    pub url: Option<String>,
    /// The provider's media id (WeChat `MediaId`), to download through the provider's API.
    pub provider_ref: Option<String>,
    /// The file's bytes while they travel between a channel and Kefu; never serialized.
    #[serde(skip)]
    pub data: Option<bytes::Bytes>,
}

/// What Kefu answers once an envelope is committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accepted {
    /// The stored message.
    pub message_id: i64,
    /// The conversation it belongs to.
    pub conversation_id: i64,
    /// Its position in the conversation.
    pub seq: i64,
    /// `true` when this dedupe key had been stored before and nothing new was written.
    pub duplicate: bool,
}
