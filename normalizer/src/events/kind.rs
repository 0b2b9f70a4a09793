//! [`EventType`]: the closed list of event names, as stored in the outbox, sent in webhooks
//! (`type`) and on the agent socket.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What happened. The wire name (`conversation.created`...) is part of the public API:
/// webhook subscriptions filter on it and the console's vocabulary lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventType {
    /// `conversation.created`
    ConversationCreated,
    /// `conversation.queued`
    ConversationQueued,
    /// `conversation.assigned`
    ConversationAssigned,
    /// `conversation.transferred`
    ConversationTransferred,
    /// `conversation.resolved`
    ConversationResolved,
    /// `conversation.reopened`
    ConversationReopened,
    /// `conversation.updated`
    ConversationUpdated,
    /// `conversation.closed`
    ConversationClosed,
    /// `conversation.labels_changed`
    ConversationLabelsChanged,
    /// `message.created`
    MessageCreated,
    /// `message.updated` (delivery status changes)
    MessageUpdated,
    /// `message.failed` (delivery gave up; also sent as `message.updated`)
    MessageFailed,
    /// `contact.created`
    ContactCreated,
    /// `contact.updated` (an agent edited the name, email, phone or attributes)
    ContactUpdated,
    /// `contact.merged`
    ContactMerged,
    /// `contact.labels_changed`
    ContactLabelsChanged,
    /// `agent.status_changed`
    AgentStatusChanged,
    /// `csat.requested` (the customer was asked to rate a resolved conversation)
    CsatRequested,
    /// `csat.submitted` (the customer rated it)
    CsatSubmitted,
    /// `conversation.bot_handoff` (the FAQ bot handed the conversation to humans)
    ConversationBotHandoff,
}

/// A name that is not an [`EventType`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown event type {0:?}")]
pub struct UnknownEventType(pub String);

impl EventType {
    /// Every type, in documentation order.
    pub const ALL: [EventType; 20] = [
        Self::ConversationCreated,
        Self::ConversationQueued,
        Self::ConversationAssigned,
        Self::ConversationTransferred,
        Self::ConversationResolved,
        Self::ConversationReopened,
        Self::ConversationUpdated,
        Self::ConversationClosed,
        Self::ConversationLabelsChanged,
        Self::MessageCreated,
        Self::MessageUpdated,
        Self::MessageFailed,
        Self::ContactCreated,
        Self::ContactUpdated,
        Self::ContactMerged,
        Self::ContactLabelsChanged,
        Self::AgentStatusChanged,
        Self::CsatRequested,
        Self::CsatSubmitted,
        Self::ConversationBotHandoff,
    ];

    /// The wire name, e.g. `conversation.created`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ConversationCreated => "conversation.created",
            Self::ConversationQueued => "conversation.queued",
            Self::ConversationAssigned => "conversation.assigned",
            Self::ConversationTransferred => "conversation.transferred",
            Self::ConversationResolved => "conversation.resolved",
            Self::ConversationReopened => "conversation.reopened",
            Self::ConversationUpdated => "conversation.updated",
            Self::ConversationClosed => "conversation.closed",
            Self::ConversationLabelsChanged => "conversation.labels_changed",
            Self::MessageCreated => "message.created",
            Self::MessageUpdated => "message.updated",
            Self::MessageFailed => "message.failed",
            Self::ContactCreated => "contact.created",
            Self::ContactUpdated => "contact.updated",
            Self::ContactMerged => "contact.merged",
            Self::ContactLabelsChanged => "contact.labels_changed",
            Self::AgentStatusChanged => "agent.status_changed",
            Self::CsatRequested => "csat.requested",
            Self::CsatSubmitted => "csat.submitted",
            Self::ConversationBotHandoff => "conversation.bot_handoff",
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventType {
    type Err = UnknownEventType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| UnknownEventType(s.to_owned()))
    }
}

impl Serialize for EventType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}
