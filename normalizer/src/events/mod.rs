//! Events: appended to the outbox inside the transaction that caused them, then relayed to an
//! [`EventBus`] after commit — at least once, in commit order per conversation.
//!
//! - [`EventType`] names what happened; [`EventData`] carries it, one variant per type over the
//!   [view types](crate::views), so producers cannot send a type with the wrong shape and
//!   consumers match instead of digging into JSON.
//! - [`WriteTx::emit`](crate::db::WriteTx::emit) appends an event; committing that
//!   transaction wakes the [`OutboxRelay`], so no writer has to remember to.
//! - [`RedisBus`] carries relayed events to every node through Redis pub/sub; [`InProcessBus`]
//!   is the single-node bus. Either way subscribers read a local broadcast channel.
//! - On PostgreSQL the outbox is split into [`RELAY_PARTITIONS`] partitions by conversation; a
//!   relay takes one partition at a time under an advisory lock, so several nodes relay side by
//!   side and each event is published once.
//!
//! Why an outbox: publishing after commit from the request handler loses events when the process
//! dies in between; publishing before commit announces changes that may roll back. The relay
//! reads committed rows in id order. Within one conversation rows are written under the
//! conversation's row lock, so their ids follow commit order.

mod data;
mod kind;
mod outbox;
mod partition;
mod redis_bus;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};
use tokio::sync::broadcast;

pub use data::{EventData, NewConversation, ROUTING_KEY};
pub use kind::{EventType, UnknownEventType};
/// Decodes an outbox row (for readers that follow the outbox themselves, such as search).
pub(crate) use outbox::decode as decode_row;
pub use outbox::{ConsumeError, OutboxConsumer, OutboxRelay, RETAIN_RELAYED, emit_all, mark};
pub use partition::{RELAY_LOCK_CLASS, RELAY_PARTITIONS, partition_of};
pub use redis_bus::{BusError, RedisBus, decode_wire, encode_wire};

/// One committed state change, as consumers see it: `{type, timestamp, data}` on the wire.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The outbox id; increases with commit order per conversation.
    pub id: i64,
    /// When it happened.
    pub timestamp: DateTime<Utc>,
    /// The conversation it concerns, if any.
    pub conversation_id: Option<i64>,
    /// The changed thing; its variant is the event's type.
    pub data: EventData,
}

impl Event {
    /// `conversation.created`, `message.created`...
    pub fn kind(&self) -> EventType {
        self.data.kind()
    }
}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wire<'a> {
            #[serde(rename = "type")]
            kind: EventType,
            timestamp: DateTime<Utc>,
            data: &'a EventData,
        }
        Wire {
            kind: self.kind(),
            timestamp: self.timestamp,
            data: &self.data,
        }
        .serialize(serializer)
    }
}

/// Where relayed events go: in-process subscribers on one node, Redis pub/sub across nodes.
#[async_trait::async_trait]
pub trait EventBus: Send + Sync + 'static {
    /// Publishes one committed event.
    fn publish(&self, event: Arc<Event>);
    /// A new subscription, receiving events published from now on (by any node).
    fn subscribe(&self) -> broadcast::Receiver<Arc<Event>>;
    /// Publishes a batch in order and returns once it has left this node, so that whatever is
    /// published after this call returns (by any node) reaches subscribers after it. The relay
    /// awaits it before marking a batch: the next relay of the same partition, perhaps on
    /// another node, then publishes strictly later.
    async fn publish_batch(&self, events: &[Arc<Event>]) {
        for e in events {
            self.publish(e.clone());
        }
    }
    /// Whether the bus reaches the other nodes; always healthy for the in-process bus.
    fn health(&self) -> BusHealth {
        BusHealth::ok("in_process")
    }
}

/// How a bus is doing, for `/readyz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BusHealth {
    /// `in_process` or `redis`.
    pub kind: &'static str,
    /// `false` while events cannot reach the other nodes (this node's sockets still get this
    /// node's events).
    pub ok: bool,
    /// Why not, while not ok.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl BusHealth {
    /// A healthy bus of `kind`.
    pub fn ok(kind: &'static str) -> Self {
        Self {
            kind,
            ok: true,
            error: None,
        }
    }
}

/// The single-node bus: a broadcast channel. A subscriber that lags more than the capacity
/// behind is told so (`RecvError::Lagged`) and refetches what it missed.
#[derive(Debug)]
pub struct InProcessBus {
    tx: broadcast::Sender<Arc<Event>>,
}

impl InProcessBus {
    /// A bus buffering up to `capacity` events per subscriber.
    pub fn new(capacity: usize) -> Self {
        Self {
            tx: broadcast::channel(capacity).0,
        }
    }
}

#[async_trait::async_trait]
impl EventBus for InProcessBus {
    fn publish(&self, event: Arc<Event>) {
        // No subscribers is not an error: nobody is watching right now.
        let _ = self.tx.send(event);
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }
}
