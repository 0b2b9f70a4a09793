//! Channel-neutral outbound messages (agent replies).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Content;

/// One agent reply to deliver through a channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboundMessage {
    /// Kefu's id for the message; stable across retries, usable as an idempotency key.
    pub message_id: i64,
    /// The conversation the reply belongs to.
    pub conversation_id: i64,
    /// The inbox it leaves from.
    pub inbox_id: i64,
    /// Who receives it.
    pub recipient: Recipient,
    /// What to send.
    pub content: Content,
    /// Name of the agent who wrote it.
    pub agent_name: Option<String>,
    /// References of the conversation's earlier messages, oldest first (email `References`).
    #[serde(default)]
    pub references: Vec<String>,
    /// The conversation's subject, for channels that have one.
    pub subject: Option<String>,
    /// The conversation's token (for reply-to addresses such as `support+<token>@...`).
    pub conversation_token: Option<String>,
    /// When the customer last wrote, for channels with a reply window.
    pub last_inbound_at: Option<DateTime<Utc>>,
    /// Kefu itself wrote it (a notification to the contact, an automatic message), not an
    /// agent: channels with a separate way for such messages (WeChat template messages) may
    /// use it where a reply is not allowed.
    #[serde(default)]
    pub system: bool,
}

/// The customer a reply goes to.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Recipient {
    /// The identity's id within the inbox (OpenID, email address, app user id...).
    pub external_id: String,
    /// A name, when known.
    pub display_name: Option<String>,
}

/// What a provider said after accepting a reply.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendReceipt {
    /// The provider's id for the sent message (e.g. the email `Message-ID` Kefu generated).
    pub provider_ref: Option<String>,
    /// `true` when the provider confirms delivery to the device, not just acceptance.
    pub delivered: bool,
    /// Channel-specific details for the delivery record, e.g. one result per device for app
    /// push (`[{"platform": "fcm", "device": "…a1b2", "status": "sent"}]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}
