//! Read access to stored messages for channels whose clients sync (the app channel's
//! `GET .../messages?after_seq=`, the web chat widget's replay on `hello`). Implemented by Kefu
//! on its database; adapters never query storage themselves.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::IngestError;

/// Which way a message went: `inbound` (from the customer) or `outbound` (from an agent, a bot
/// or Kefu itself). Stored in the `messages.direction` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(
    feature = "storage",
    derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum, utoipa::ToSchema),
    sea_orm(
        rs_type = "String",
        db_type = "String(sea_orm::sea_query::StringLen::None)"
    )
)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// From the customer.
    #[cfg_attr(feature = "storage", sea_orm(string_value = "inbound"))]
    Inbound,
    /// To the customer.
    #[cfg_attr(feature = "storage", sea_orm(string_value = "outbound"))]
    Outbound,
}

impl Direction {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Inbound => "inbound",
            Self::Outbound => "outbound",
        }
    }
}

/// What a customer may read of their conversation: messages that are not private notes.
#[async_trait]
pub trait ConversationHistory: Send + Sync + 'static {
    /// The customer's most recent conversation in the inbox, identified by `external_id`, with
    /// its non-private messages whose `seq > after_seq`, oldest first, at most `limit`. `None`
    /// when the customer has no conversation in this inbox yet.
    async fn messages_after(
        &self,
        inbox_id: i64,
        external_id: &str,
        after_seq: i64,
        limit: u64,
    ) -> Result<Option<HistoryPage>, IngestError>;

    /// The same conversation and messages as [`messages_after`](Self::messages_after), each
    /// message as Kefu's own realtime API renders it (the `message` object of the web chat
    /// widget's frames), with the conversation's token. For channels that speak Kefu's
    /// protocol rather than a provider's. The default cannot render and says so.
    async fn views_after(
        &self,
        _inbox_id: i64,
        _external_id: &str,
        _after_seq: i64,
        _limit: u64,
    ) -> Result<Option<ViewPage>, IngestError> {
        Err(IngestError::Unavailable(
            "this history cannot render messages for Kefu's own protocol".into(),
        ))
    }

    /// The token of a conversation (for [`ThreadHints::conversation_token`](crate::ThreadHints)),
    /// so a client that wrote into a new conversation keeps following it. The default knows
    /// none.
    async fn conversation_token(
        &self,
        _conversation_id: i64,
    ) -> Result<Option<String>, IngestError> {
        Ok(None)
    }

    /// The `seq` of a stored message, so a push notification can tell the app where it is.
    /// The default knows none.
    async fn seq_of(&self, _message_id: i64) -> Result<Option<i64>, IngestError> {
        Ok(None)
    }

    /// In the conversation [`messages_after`](Self::messages_after) reads, how many
    /// non-private messages to the customer have `seq > after_seq` (the app's badge). `None`
    /// when the customer has no conversation in this inbox yet. The default cannot count and
    /// says so.
    async fn unread_after(
        &self,
        _inbox_id: i64,
        _external_id: &str,
        _after_seq: i64,
    ) -> Result<Option<Unread>, IngestError> {
        Err(IngestError::Unavailable(
            "this history cannot count unread messages".into(),
        ))
    }
}

/// What a customer has not read yet of their most recent conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unread {
    /// The conversation.
    pub conversation_id: i64,
    /// Messages to the customer (from agents, bots or Kefu) after the `seq` asked about.
    pub count: u64,
    /// The conversation's newest `seq`.
    pub last_seq: i64,
}

/// Messages of one conversation as Kefu's realtime API renders them, in `seq` order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ViewPage {
    /// The conversation they belong to.
    pub conversation_id: i64,
    /// The conversation's token, for [`ThreadHints::conversation_token`](crate::ThreadHints).
    pub conversation_token: String,
    /// The messages, oldest first, each the JSON object Kefu's realtime frames carry.
    pub messages: Vec<serde_json::Value>,
}

/// Messages of one conversation, in `seq` order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryPage {
    /// The conversation they belong to.
    pub conversation_id: i64,
    /// The messages, oldest first.
    pub messages: Vec<HistoryMessage>,
}

/// One message as the customer sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryMessage {
    /// Kefu's message id.
    pub id: i64,
    /// Position in the conversation.
    pub seq: i64,
    /// From the customer or to them.
    pub direction: Direction,
    /// The author's display name (the agent's name on replies), when known.
    pub sender_name: Option<String>,
    /// Plain text.
    pub text: String,
    /// A reply menu to draw under the text (`{items: [{id, text}]}`, e.g. a satisfaction
    /// rating); a tap is sent back as a message naming the item's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub menu: Option<serde_json::Value>,
    /// When Kefu stored it.
    pub created_at: DateTime<Utc>,
}
