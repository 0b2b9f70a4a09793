//! [`EventData`]: what an event carries, one variant per [`EventType`], each over a view type.
//!
//! Two encodings, both plain JSON objects:
//! - the wire form (`Serialize`): exactly the view, as webhooks, the agent socket and the
//!   widget have always received it;
//! - the stored form ([`EventData::stored`], the outbox `payload` column): the wire form, plus
//!   for `conversation.created` the routing facts realtime hubs need (under [`ROUTING_KEY`]),
//!   so they never query the database for them. Rows written before that key existed still
//!   decode ([`EventData::decode`]); they simply carry no routing facts.
//!
//! Both go through `serde_json::Value`, whose objects keep keys sorted, so the bytes are those
//! `json!(view)` produced before the events were typed.

use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use super::kind::EventType;
use crate::csat::CsatView;
use crate::knowledge::BotHandoffView;
use crate::views::{
    AgentStatusView, ContactLabelsView, ContactMergedView, ContactView, ConversationLabelsView,
    ConversationView, MessageView,
};

/// The key of the stored-only routing facts of `conversation.created`. Never on the wire.
pub const ROUTING_KEY: &str = "_routing";

/// `conversation.created`: the conversation, plus whose it is for realtime routing.
#[derive(Debug, Clone, PartialEq)]
pub struct NewConversation {
    /// The conversation as everyone sees it.
    pub conversation: ConversationView,
    /// The customer's id within the inbox (OpenID, email, app user id), so the hub can tell
    /// that user's open app sockets about it. `None` in rows written by older versions.
    pub external_id: Option<String>,
}

/// The stored-only part of `conversation.created`.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Routing {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    external_id: Option<String>,
}

/// What an event carries. The variant decides the [`EventType`], so a type can never travel
/// with the wrong shape.
#[derive(Debug, Clone, PartialEq)]
pub enum EventData {
    /// A customer opened a conversation.
    ConversationCreated(NewConversation),
    /// The conversation waits in the queue.
    ConversationQueued(ConversationView),
    /// An agent got it.
    ConversationAssigned(ConversationView),
    /// A transfer started.
    ConversationTransferred(ConversationView),
    /// It was resolved.
    ConversationResolved(ConversationView),
    /// It was reopened.
    ConversationReopened(ConversationView),
    /// It moved between assigned and pending.
    ConversationUpdated(ConversationView),
    /// It was archived.
    ConversationClosed(ConversationView),
    /// Its labels changed.
    ConversationLabelsChanged(ConversationLabelsView),
    /// A message was stored.
    MessageCreated(MessageView),
    /// A message's delivery state changed.
    MessageUpdated(MessageView),
    /// A message's delivery gave up.
    MessageFailed(MessageView),
    /// A contact was first seen.
    ContactCreated(ContactView),
    /// An agent edited a contact.
    ContactUpdated(ContactView),
    /// Two contacts became one.
    ContactMerged(ContactMergedView),
    /// A contact's labels changed.
    ContactLabelsChanged(ContactLabelsView),
    /// An agent's availability changed.
    AgentStatusChanged(AgentStatusView),
    /// `csat.requested`
    CsatRequested(CsatView),
    /// `csat.submitted`
    CsatSubmitted(CsatView),
    /// `conversation.bot_handoff`
    ConversationBotHandoff(BotHandoffView),
}

impl EventData {
    /// The event's type.
    pub fn kind(&self) -> EventType {
        use EventType as T;
        match self {
            Self::ConversationCreated(_) => T::ConversationCreated,
            Self::ConversationQueued(_) => T::ConversationQueued,
            Self::ConversationAssigned(_) => T::ConversationAssigned,
            Self::ConversationTransferred(_) => T::ConversationTransferred,
            Self::ConversationResolved(_) => T::ConversationResolved,
            Self::ConversationReopened(_) => T::ConversationReopened,
            Self::ConversationUpdated(_) => T::ConversationUpdated,
            Self::ConversationClosed(_) => T::ConversationClosed,
            Self::ConversationLabelsChanged(_) => T::ConversationLabelsChanged,
            Self::MessageCreated(_) => T::MessageCreated,
            Self::MessageUpdated(_) => T::MessageUpdated,
            Self::MessageFailed(_) => T::MessageFailed,
            Self::ContactCreated(_) => T::ContactCreated,
            Self::ContactUpdated(_) => T::ContactUpdated,
            Self::ContactMerged(_) => T::ContactMerged,
            Self::ContactLabelsChanged(_) => T::ContactLabelsChanged,
            Self::AgentStatusChanged(_) => T::AgentStatusChanged,
            Self::CsatRequested(_) => T::CsatRequested,
            Self::CsatSubmitted(_) => T::CsatSubmitted,
            Self::ConversationBotHandoff(_) => T::ConversationBotHandoff,
        }
    }

    /// The conversation's event for a conversation `kind` (`conversation.*` but `created`).
    pub fn conversation(kind: EventType, view: ConversationView) -> Option<Self> {
        use EventType as T;
        Some(match kind {
            T::ConversationQueued => Self::ConversationQueued(view),
            T::ConversationAssigned => Self::ConversationAssigned(view),
            T::ConversationTransferred => Self::ConversationTransferred(view),
            T::ConversationResolved => Self::ConversationResolved(view),
            T::ConversationReopened => Self::ConversationReopened(view),
            T::ConversationUpdated => Self::ConversationUpdated(view),
            T::ConversationClosed => Self::ConversationClosed(view),
            _ => return None,
        })
    }

    /// The conversation it concerns, if any (the outbox's ordering key).
    pub fn conversation_id(&self) -> Option<i64> {
        match self {
            Self::ConversationCreated(c) => Some(c.conversation.id),
            Self::ConversationQueued(c)
            | Self::ConversationAssigned(c)
            | Self::ConversationTransferred(c)
            | Self::ConversationResolved(c)
            | Self::ConversationReopened(c)
            | Self::ConversationUpdated(c)
            | Self::ConversationClosed(c) => Some(c.id),
            Self::ConversationLabelsChanged(l) => Some(l.conversation_id),
            Self::MessageCreated(m) | Self::MessageUpdated(m) | Self::MessageFailed(m) => {
                Some(m.conversation_id)
            }
            Self::CsatRequested(c) | Self::CsatSubmitted(c) => Some(c.conversation_id),
            Self::ConversationBotHandoff(h) => Some(h.conversation_id),
            Self::ContactCreated(_)
            | Self::ContactUpdated(_)
            | Self::ContactMerged(_)
            | Self::ContactLabelsChanged(_)
            | Self::AgentStatusChanged(_) => None,
        }
    }

    /// The conversation view, for every `conversation.*` event.
    pub fn as_conversation(&self) -> Option<&ConversationView> {
        match self {
            Self::ConversationCreated(c) => Some(&c.conversation),
            Self::ConversationQueued(c)
            | Self::ConversationAssigned(c)
            | Self::ConversationTransferred(c)
            | Self::ConversationResolved(c)
            | Self::ConversationReopened(c)
            | Self::ConversationUpdated(c)
            | Self::ConversationClosed(c) => Some(c),
            _ => None,
        }
    }

    /// The message view, for every `message.*` event.
    pub fn as_message(&self) -> Option<&MessageView> {
        match self {
            Self::MessageCreated(m) | Self::MessageUpdated(m) | Self::MessageFailed(m) => Some(m),
            _ => None,
        }
    }

    /// The wire form as a JSON value (what webhooks and sockets carry as `data`).
    pub fn to_value(&self) -> Result<Value, serde_json::Error> {
        serde_json::to_value(self)
    }

    /// The form stored in the outbox: the wire form plus stored-only routing facts.
    pub fn stored(&self) -> Result<Value, serde_json::Error> {
        let mut v = self.to_value()?;
        if let Self::ConversationCreated(c) = self
            && c.external_id.is_some()
            && let Value::Object(map) = &mut v
        {
            let routing = Routing {
                external_id: c.external_id.clone(),
            };
            map.insert(ROUTING_KEY.to_owned(), serde_json::to_value(routing)?);
        }
        Ok(v)
    }

    /// Decodes a stored payload of type `kind` (from this version or an older one).
    pub fn decode(kind: EventType, mut stored: Value) -> Result<Self, serde_json::Error> {
        use EventType as T;
        let routing = match &mut stored {
            Value::Object(map) => map.remove(ROUTING_KEY),
            _ => None,
        };
        let data = match kind {
            T::ConversationCreated => {
                let routing: Routing = match routing {
                    Some(r) => serde_json::from_value(r)?,
                    None => Routing::default(),
                };
                Self::ConversationCreated(NewConversation {
                    conversation: serde_json::from_value(stored)?,
                    external_id: routing.external_id,
                })
            }
            T::MessageCreated => Self::MessageCreated(serde_json::from_value(stored)?),
            T::MessageUpdated => Self::MessageUpdated(serde_json::from_value(stored)?),
            T::MessageFailed => Self::MessageFailed(serde_json::from_value(stored)?),
            T::ContactCreated => Self::ContactCreated(serde_json::from_value(stored)?),
            T::ContactUpdated => Self::ContactUpdated(serde_json::from_value(stored)?),
            T::ContactMerged => Self::ContactMerged(serde_json::from_value(stored)?),
            T::ConversationLabelsChanged => {
                Self::ConversationLabelsChanged(serde_json::from_value(stored)?)
            }
            T::ContactLabelsChanged => Self::ContactLabelsChanged(serde_json::from_value(stored)?),
            T::AgentStatusChanged => Self::AgentStatusChanged(serde_json::from_value(stored)?),
            T::CsatRequested => Self::CsatRequested(serde_json::from_value(stored)?),
            T::CsatSubmitted => Self::CsatSubmitted(serde_json::from_value(stored)?),
            T::ConversationBotHandoff => {
                Self::ConversationBotHandoff(serde_json::from_value(stored)?)
            }
            conversation => {
                let view = serde_json::from_value(stored)?;
                // Every other type is a conversation type, so this always returns `Some`.
                Self::conversation(conversation, view).ok_or_else(|| {
                    serde::de::Error::custom(format!("{conversation} carries no conversation"))
                })?
            }
        };
        Ok(data)
    }
}

impl Serialize for EventData {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::ConversationCreated(c) => c.conversation.serialize(serializer),
            Self::ConversationQueued(c)
            | Self::ConversationAssigned(c)
            | Self::ConversationTransferred(c)
            | Self::ConversationResolved(c)
            | Self::ConversationReopened(c)
            | Self::ConversationUpdated(c)
            | Self::ConversationClosed(c) => c.serialize(serializer),
            Self::MessageCreated(m) | Self::MessageUpdated(m) | Self::MessageFailed(m) => {
                m.serialize(serializer)
            }
            Self::ContactCreated(c) | Self::ContactUpdated(c) => c.serialize(serializer),
            Self::ContactMerged(c) => c.serialize(serializer),
            Self::ConversationLabelsChanged(l) => l.serialize(serializer),
            Self::ContactLabelsChanged(l) => l.serialize(serializer),
            Self::AgentStatusChanged(a) => a.serialize(serializer),
            Self::CsatRequested(c) | Self::CsatSubmitted(c) => c.serialize(serializer),
            Self::ConversationBotHandoff(h) => h.serialize(serializer),
        }
    }
}
