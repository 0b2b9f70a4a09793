//! The shapes the API, the realtime streams and webhooks show. One shape per thing, shared by
//! all three, so a message looks the same in `GET .../messages`, in `/ws/agent` and in a webhook.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use kefu_channel::{Attachment, Content};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::entity::agent::AgentStatus;
use crate::entity::message::{DeliveryStatus, Direction, SenderType};
use crate::entity::{contact, contact_identity, conversation, message};
use crate::status::Status;

mod labels;
pub use labels::{ContactLabelsView, ConversationLabelsView, LabelView};

/// Who wrote a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SenderView {
    /// The customer, an agent or Kefu itself.
    #[serde(rename = "type")]
    pub kind: SenderType,
    /// The contact's or agent's id.
    pub id: Option<i64>,
    /// A name to show.
    pub name: Option<String>,
}

/// One attachment's metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AttachmentView {
    /// Kefu's id for the stored file: pass it in a reply's `attachments` to send the file on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    /// File name.
    pub name: String,
    /// MIME type.
    pub mime: String,
    /// Size in bytes.
    pub size: Option<u64>,
    /// Where to fetch it, when there is a URL.
    pub url: Option<String>,
}

/// A message's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ContentView {
    /// Plain text.
    pub text: String,
    /// HTML rendering (email).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    /// Attachments.
    pub attachments: Vec<AttachmentView>,
    /// Channel-specific extras (location, link card, event).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub extra: Option<serde_json::Value>,
}

/// Delivery state of an outbound message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DeliveryView {
    /// Where delivery stands.
    pub status: DeliveryStatus,
    /// Why delivery failed (or why the last attempt did, while retrying).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Delivery attempts made so far.
    pub attempts: i32,
    /// Per-recipient results of the last attempt (e.g. one entry per push device).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
    /// The channel type it goes (or went) out through: the type of its conversation's inbox.
    /// Absent where a view is built without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// This message is a copy sent through another channel because the first one failed
    /// ([`crate::fallback`]): which message, channel and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_from: Option<crate::fallback::FallbackLink>,
    /// This message failed, and a copy went out through another channel: which one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_to: Option<crate::fallback::FallbackLink>,
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MessageView {
    /// Message id.
    pub id: i64,
    /// The conversation.
    pub conversation_id: i64,
    /// Position in the conversation, from 1, without gaps.
    pub seq: i64,
    /// From the customer (`inbound`) or to them (`outbound`).
    pub direction: Direction,
    /// A private note, never sent to the customer.
    pub private: bool,
    /// Who wrote it.
    pub sender: SenderView,
    /// What it says.
    pub content: ContentView,
    /// Delivery state (outbound, non-private messages only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery: Option<DeliveryView>,
    /// When Kefu stored it.
    pub created_at: DateTime<Utc>,
    /// The `client_id` an agent posted it with, so the console that sent it can match the
    /// event to the message it shows as sending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

/// The dedupe key of an agent's reply in a conversation posted with `client_id`.
pub(crate) fn reply_key(conversation_id: i64, client_id: &str) -> String {
    format!("reply:{conversation_id}:{client_id}")
}

/// The `client_id` in `key` when it is the dedupe key of an agent's reply in
/// `conversation_id` (without allocating: every message view asks).
fn reply_client_id(key: &str, conversation_id: i64) -> Option<&str> {
    let (conv, client_id) = key.strip_prefix("reply:")?.split_once(':')?;
    (conv.parse() == Ok(conversation_id)).then_some(client_id)
}

impl From<&message::Model> for MessageView {
    fn from(m: &message::Model) -> Self {
        let content: Content = serde_json::from_value(m.content.clone())
            .unwrap_or_else(|_| Content::text(m.text.clone()));
        let outbound = m.direction == Direction::Outbound;
        Self {
            id: m.id,
            conversation_id: m.conversation_id,
            seq: m.seq,
            direction: m.direction,
            private: m.private,
            sender: SenderView {
                kind: m.sender_type,
                id: m.sender_id,
                name: m.sender_name.clone(),
            },
            content: ContentView {
                text: m.text.clone(),
                html: content.html,
                attachments: content
                    .attachments
                    .iter()
                    .map(AttachmentView::from)
                    .collect(),
                extra: (!content.extra.is_null()).then_some(content.extra),
            },
            delivery: (outbound && !m.private).then(|| {
                let fallback = crate::fallback::Stored::of(m.fallback.as_ref());
                DeliveryView {
                    status: m.delivery_status,
                    error: m.delivery_error.clone(),
                    attempts: m.delivery_attempts,
                    details: m.delivery_details.clone(),
                    channel: None,
                    fallback_from: fallback.from,
                    fallback_to: fallback.to,
                }
            }),
            created_at: m.created_at,
            client_id: m
                .dedupe_key
                .as_deref()
                .and_then(|k| reply_client_id(k, m.conversation_id))
                .map(str::to_owned),
        }
    }
}

impl From<&Attachment> for AttachmentView {
    fn from(a: &Attachment) -> Self {
        Self {
            id: a.id,
            name: a.name.clone(),
            mime: a.mime.clone(),
            size: a.size,
            url: a.url.clone(),
        }
    }
}

/// The contact as shown inside a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ContactSummary {
    /// Contact id.
    pub id: i64,
    /// Name, when known.
    pub name: Option<String>,
    /// Email, when known.
    pub email: Option<String>,
}

/// One conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ConversationView {
    /// Conversation id.
    pub id: i64,
    /// The inbox it arrived at.
    pub inbox_id: i64,
    /// The customer.
    pub contact: ContactSummary,
    /// Where it stands.
    pub status: Status,
    /// Higher is more urgent.
    pub priority: i32,
    /// Required skills and their minimum levels.
    pub skills: BTreeMap<String, u8>,
    /// The agent who owns it.
    pub assignee_id: Option<i64>,
    /// The team it is routed to.
    pub team_id: Option<i64>,
    /// Subject (email).
    pub subject: Option<String>,
    /// Highest message seq.
    pub last_seq: i64,
    /// When it was opened.
    pub created_at: DateTime<Utc>,
    /// When the last message arrived or was sent.
    pub last_message_at: DateTime<Utc>,
    /// The sentiment (−1 to 1) of the customer's latest message, once one was scored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sentiment: Option<f32>,
    /// The intent detected in the first customer message of the current wait (a name from
    /// `GET /api/v1/intents`), once one matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<String>,
    /// What the conversation was about: only in `conversation.resolved` and
    /// `conversation.transferred` events (and the resolve's answer), when a summary was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<crate::summaries::SummaryView>,
}

impl ConversationView {
    /// Builds the view from the row and its contact.
    pub fn new(c: &conversation::Model, contact: Option<&contact::Model>) -> Self {
        Self {
            id: c.id,
            inbox_id: c.inbox_id,
            contact: ContactSummary {
                id: c.contact_id,
                name: contact.and_then(|k| k.name.clone()),
                email: contact.and_then(|k| k.email.clone()),
            },
            status: c.status,
            priority: c.priority,
            skills: skills_from_json(&c.skills),
            assignee_id: c.assignee_id,
            team_id: c.team_id,
            subject: c.subject.clone(),
            last_seq: c.last_seq,
            created_at: c.created_at,
            last_message_at: c.last_message_at,
            sentiment: c.sentiment.map(|s| s as f32),
            intent: c.intent.clone(),
            summary: None,
        }
    }
}

/// Parses a stored `{skill: level}` map, ignoring malformed entries.
pub fn skills_from_json(v: &serde_json::Value) -> BTreeMap<String, u8> {
    v.as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), u8::try_from(v.as_u64()?).ok()?)))
                .collect()
        })
        .unwrap_or_default()
}

/// One channel identity of a contact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct IdentityView {
    /// The inbox.
    pub inbox_id: i64,
    /// The id within that inbox (OpenID, email, app user id...).
    pub external_id: String,
    /// The name the channel gave.
    pub display_name: Option<String>,
}

impl From<&contact_identity::Model> for IdentityView {
    fn from(i: &contact_identity::Model) -> Self {
        Self {
            inbox_id: i.inbox_id,
            external_id: i.external_id.clone(),
            display_name: i.display_name.clone(),
        }
    }
}

/// A contact with its identities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ContactView {
    /// Contact id.
    pub id: i64,
    /// Name.
    pub name: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Attributes (`vip_level`, language...).
    #[schema(value_type = Object)]
    pub attributes: serde_json::Value,
    /// Set when this contact was merged into another.
    pub merged_into_id: Option<i64>,
    /// Channel identities.
    pub identities: Vec<IdentityView>,
    /// When Kefu first saw the contact.
    pub created_at: DateTime<Utc>,
}

impl ContactView {
    /// Builds the view.
    pub fn new(c: &contact::Model, identities: &[contact_identity::Model]) -> Self {
        Self {
            id: c.id,
            name: c.name.clone(),
            email: c.email.clone(),
            phone: c.phone.clone(),
            attributes: c.attributes.clone(),
            merged_into_id: c.merged_into_id,
            identities: identities.iter().map(IdentityView::from).collect(),
            created_at: c.created_at,
        }
    }
}

/// `contact.merged`: the surviving contact and the id merged into it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ContactMergedView {
    /// The contact that remains, with every identity of both.
    pub contact: ContactView,
    /// The contact merged into it (it now points at `contact.id`).
    pub merged_id: i64,
}

/// `agent.status_changed`: an agent went online, away or offline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AgentStatusView {
    /// The agent.
    pub agent_id: i64,
    /// The status now.
    pub status: AgentStatus,
    /// The status before.
    pub previous: AgentStatus,
}

/// The last message of a conversation, as a list row previews it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LastMessageView {
    /// Its text, cut to a preview's length.
    pub text: String,
    /// `inbound` or `outbound`.
    pub direction: Direction,
    /// A private note.
    pub private: bool,
    /// How many files it carries.
    pub attachments: usize,
    /// When Kefu stored it.
    pub created_at: DateTime<Utc>,
}

/// An agent as a list row names them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AgentRef {
    /// Agent id.
    pub id: i64,
    /// Display name.
    pub name: String,
}

/// A team by id and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TeamRef {
    /// Team id.
    pub id: i64,
    /// Display name.
    pub name: String,
}

/// One line of a conversation's timeline (`GET /api/v1/conversations/{id}/activities`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ActivityView {
    /// Line id; increases with time.
    pub id: i64,
    /// The conversation.
    pub conversation_id: i64,
    /// What happened.
    pub kind: crate::entity::conversation_activity::ActivityKind,
    /// The agent who did it; absent when Kefu (routing) or the customer did.
    pub actor: Option<AgentRef>,
    /// The agent the conversation went to.
    pub agent: Option<AgentRef>,
    /// The team the conversation went to.
    pub team: Option<TeamRef>,
    /// By kind: `reason` (assigned: `manual`, `claim`, `auto`, `sticky`), `rules` (routed:
    /// the matching rules' names), `from` and `to` (priority_changed), `skills`
    /// (transferred to a skill set), `by` (reopened: `agent` or `contact`), `summary_id`
    /// (resolved, transferred: the summary written then).
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    /// Resolved and transferred lines: the summary written then (`details.summary_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<crate::summaries::SummaryView>,
    /// When it happened.
    pub created_at: DateTime<Utc>,
}

/// A conversation as the list shows it: the conversation and, loaded for the whole page at
/// once, its last message, assignee, labels and what the asking agent has not read yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ConversationItem {
    /// The conversation.
    #[serde(flatten)]
    pub conversation: ConversationView,
    /// Its newest message, when it has one.
    pub last_message: Option<LastMessageView>,
    /// The agent who owns it.
    pub assignee: Option<AgentRef>,
    /// Its labels, by name, sorted.
    pub labels: Vec<String>,
    /// Customer messages the asking agent has not read (see `POST .../read`).
    pub unread_count: i64,
    /// The highest `seq` the asking agent has read.
    pub last_read_seq: i64,
    /// When the customer last wrote.
    pub last_inbound_at: Option<DateTime<Utc>>,
    /// Since when the customer has waited for an answer: their last message, when no agent has
    /// answered since (automatic messages and private notes are no answer).
    pub waiting_since: Option<DateTime<Utc>>,
    /// With `q`: where the conversation matched, highlighted.
    #[serde(rename = "match", default, skip_serializing_if = "Option::is_none")]
    pub found: Option<crate::search::Match>,
}

/// A canned response as the agent asking sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CannedResponseView {
    /// Canned response id.
    pub id: i64,
    /// What is typed after `/` in the composer; unique within its scope.
    pub shortcut: String,
    /// The text, with `{{variable | fallback}}` placeholders.
    pub content: String,
    /// `global`, `team` or `personal`.
    pub scope: crate::entity::canned_response::CannedScope,
    /// The team of a `team` response.
    pub team_id: Option<i64>,
    /// The owner of a `personal` response.
    pub owner_id: Option<i64>,
    /// Whether the agent asking may change and delete it.
    pub editable: bool,
    /// Files sent with it, in order.
    pub attachments: Vec<crate::canned::CannedFile>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}
