//! What a webhook delivery carries: the message id, the JSON body, which subscriptions want it,
//! and what of the receiver's answer is kept.
//!
//! The body follows the shape the [Standard Webhooks spec](https://www.standardwebhooks.com/)
//! suggests, `{"type": "conversation.created", "timestamp": "2025-01-01T00:00:00.000Z",
//! "data": {...}}`, where `timestamp` is when the event happened (the outbox row's time), not
//! when it is sent. The message id (`webhook-id`) is derived from the outbox event, so every
//! attempt and every manual redelivery of an event carries the same id and receivers can
//! deduplicate on it.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use kefu_normalizer::EventType;
use kefu_normalizer::events::UnknownEventType;

/// Why a subscription's `events` list was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// An empty list would subscribe to nothing.
    #[error("events must list at least one event type, or [\"*\"] for all")]
    Empty,
    /// A name that is not an event type.
    #[error("unknown event type {0:?}; known types: {known}", known = known_types())]
    UnknownType(String),
    /// `"*"` together with names is ambiguous.
    #[error("\"*\" subscribes to all events and cannot be combined with event types")]
    WildcardWithOthers,
}

impl From<UnknownEventType> for FilterError {
    fn from(e: UnknownEventType) -> Self {
        Self::UnknownType(e.0)
    }
}

fn known_types() -> String {
    EventType::ALL.map(EventType::as_str).join(", ")
}

/// Which events a subscription receives: `["*"]` or a list of [`EventType`] names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventFilter {
    /// Every event, including types added in later versions.
    All,
    /// Only these types.
    Only(BTreeSet<EventType>),
}

impl EventFilter {
    /// Parses a subscription's `events` list; duplicates are ignored.
    pub fn parse<S: AsRef<str>>(names: &[S]) -> Result<Self, FilterError> {
        if names.is_empty() {
            return Err(FilterError::Empty);
        }
        if names.iter().any(|n| n.as_ref() == "*") {
            return if names.iter().all(|n| n.as_ref() == "*") {
                Ok(Self::All)
            } else {
                Err(FilterError::WildcardWithOthers)
            };
        }
        let types = names
            .iter()
            .map(|n| n.as_ref().parse::<EventType>())
            .collect::<Result<_, _>>()?;
        Ok(Self::Only(types))
    }

    /// Whether an event of this type goes to the subscription.
    pub fn matches(&self, event_type: EventType) -> bool {
        match self {
            Self::All => true,
            Self::Only(types) => types.contains(&event_type),
        }
    }

    /// The list form, as stored and shown in the API: `["*"]` or names in documentation order.
    pub fn names(&self) -> Vec<&'static str> {
        match self {
            Self::All => vec!["*"],
            Self::Only(types) => types.iter().map(|t| t.as_str()).collect(),
        }
    }
}

impl Serialize for EventFilter {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.names().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for EventFilter {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let names = Vec::<String>::deserialize(deserializer)?;
        Self::parse(&names).map_err(serde::de::Error::custom)
    }
}

/// A `webhook-id`: `msg_<outbox event id>_<event time in unix milliseconds>`.
///
/// The event id makes it stable across attempts and redeliveries; the event time keeps it
/// unique when a database is recreated and outbox ids start again at 1, which would otherwise
/// make a receiver that remembers ids drop new events as duplicates. It contains only
/// `[a-z0-9_]`, never the `.` the signature scheme forbids.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct MessageId(String);

impl MessageId {
    /// The id for the outbox event `event_id` that happened at `occurred_at` (as stored).
    pub fn for_event(event_id: i64, occurred_at: DateTime<Utc>) -> Self {
        Self(format!("msg_{event_id}_{}", occurred_at.timestamp_millis()))
    }

    /// The id as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The outbox event id this message was made from, if it is one of ours.
    pub fn event_id(&self) -> Option<i64> {
        let rest = self.0.strip_prefix("msg_")?;
        let (id, _) = rest.split_once('_')?;
        id.parse().ok()
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The exact body bytes of a delivery: `{"type","timestamp","data"}`, compact, keys in that
/// order, the timestamp in RFC 3339 UTC with milliseconds. Store these bytes with the delivery
/// and sign and send them unchanged on every attempt. `data` is the event's wire form
/// ([`EventData::to_value`](kefu_normalizer::EventData::to_value)).
pub fn body(
    event_type: EventType,
    occurred_at: DateTime<Utc>,
    data: &serde_json::Value,
) -> Vec<u8> {
    // `Value`'s `Display` is compact JSON and cannot fail, unlike `to_vec`; building the object
    // by hand keeps the key order independent of serde_json's `preserve_order` feature.
    let timestamp = occurred_at.to_rfc3339_opts(SecondsFormat::Millis, true);
    format!(
        r#"{{"type":{},"timestamp":{},"data":{data}}}"#,
        serde_json::Value::from(event_type.as_str()),
        serde_json::Value::from(timestamp),
    )
    .into_bytes()
}

/// One event ready to deliver: its `webhook-id`, type and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookMessage {
    /// The `webhook-id`.
    pub id: MessageId,
    /// The event type, for filtering and the delivery log.
    pub event_type: EventType,
    /// The body bytes to sign and send.
    pub body: Vec<u8>,
}

impl WebhookMessage {
    /// The message for a relayed outbox event.
    pub fn from_event(event: &kefu_normalizer::Event) -> Result<Self, serde_json::Error> {
        let kind = event.kind();
        Ok(Self {
            id: MessageId::for_event(event.id, event.timestamp),
            event_type: kind,
            body: body(kind, event.timestamp, &event.data.to_value()?),
        })
    }
}

/// The most of a receiver's response kept in the delivery log.
pub const RESPONSE_EXCERPT_BYTES: usize = 1024;

/// At most [`RESPONSE_EXCERPT_BYTES`] of a response body as valid UTF-8: invalid bytes become
/// U+FFFD, a character cut off by the limit is dropped, and NUL (which PostgreSQL text columns
/// reject) becomes U+FFFD too.
pub fn response_excerpt(bytes: &[u8]) -> String {
    let mut cut = &bytes[..bytes.len().min(RESPONSE_EXCERPT_BYTES)];
    if cut.len() < bytes.len() {
        // Drop a character the limit split in two, rather than showing it as U+FFFD.
        for back in 1..=cut.len().min(3) {
            match std::str::from_utf8(&cut[cut.len() - back..]) {
                Ok(_) => break,
                Err(e) if e.valid_up_to() == 0 && e.error_len().is_none() => {
                    cut = &cut[..cut.len() - back];
                    break;
                }
                Err(_) => {}
            }
        }
    }
    let mut out = String::from_utf8_lossy(cut).replace('\0', "\u{FFFD}");
    // Replacement characters take 3 bytes for each invalid byte, so trim again.
    if out.len() > RESPONSE_EXCERPT_BYTES {
        let mut end = RESPONSE_EXCERPT_BYTES;
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
    }
    out
}

#[cfg(test)]
#[path = "payload_tests.rs"]
mod tests;
