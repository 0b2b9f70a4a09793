//! Read access to stored messages for channels whose clients sync (the app channel's
//! `GET .../messages?after_seq=`). Implemented by Kefu on its database; adapters never query
//! storage themselves.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::IngestError;

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

    /// The `seq` of a stored message, so a push notification can tell the app where it is.
    /// The default knows none.
    async fn seq_of(&self, _message_id: i64) -> Result<Option<i64>, IngestError> {
        Ok(None)
    }
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
    /// `inbound` (from the customer) or `outbound` (from an agent or the system).
    pub direction: String,
    /// The author's display name (the agent's name on replies), when known.
    pub sender_name: Option<String>,
    /// Plain text.
    pub text: String,
    /// When Kefu stored it.
    pub created_at: DateTime<Utc>,
}
