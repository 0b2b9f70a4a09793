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
//! - [`RedisCounters`] count abuse limits once across the nodes, on the bus's Redis.
//! - [`Signal`]s (typing indicators) are ephemeral: never stored, they cross the nodes on the
//!   same bus, and one that is lost is simply not shown.
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
mod redis_counters;
#[cfg(test)]
mod relay_tests;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize, Serializer};
use tokio::sync::broadcast;

pub use data::{EventData, NewConversation, ROUTING_KEY};
pub use kind::{EventType, UnknownEventType};
/// Decodes an outbox row (for readers that follow the outbox themselves, such as search).
pub(crate) use outbox::decode as decode_row;
pub use outbox::{ConsumeError, OutboxConsumer, OutboxRelay, RETAIN_RELAYED, emit_all, mark};
pub use partition::{RELAY_LOCK_CLASS, RELAY_PARTITIONS, partition_of};
pub use redis_bus::{BusError, PRESENCE_RENEW, PRESENCE_TTL, RedisBus, decode_wire, encode_wire};
pub use redis_counters::{PLACE_RENEW, PLACE_TTL, RedisCounters};

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

/// Something other nodes or sockets act on at once and nobody stores (typing, a changed inbox):
/// it crosses the nodes on the bus, outside the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Signal {
    /// A visitor started or stopped typing in a conversation (for agent consoles).
    VisitorTyping {
        /// The conversation.
        conversation_id: i64,
        /// Typing now.
        on: bool,
    },
    /// An inbox was created, changed or deleted through node `origin`: the other nodes start,
    /// restart or stop its channel.
    InboxChanged {
        /// The inbox.
        inbox_id: i64,
        /// The node it was changed through (which has applied the change already).
        origin: String,
    },
    /// An agent started or stopped typing in a conversation (for the visitor's widget).
    AgentTyping {
        /// The conversation.
        conversation_id: i64,
        /// Typing now.
        on: bool,
        /// The agent's display name.
        name: String,
    },
    /// An agent read a conversation up to `seq` (for the visitor's "Seen").
    AgentRead {
        /// The conversation.
        conversation_id: i64,
        /// The agent's read marker after the read.
        seq: i64,
    },
    /// A knowledge-base entry was added, edited or deleted through node `origin`: the other
    /// nodes bring their search index in line.
    KnowledgeChanged {
        /// The entry.
        knowledge_id: i64,
        /// The node it was changed through (which has updated its index already).
        origin: String,
    },
    /// Many knowledge-base entries changed at once (a CSV import) through node `origin`: the
    /// other nodes rebuild their search index.
    KnowledgeImported {
        /// The node it was imported through (which has rebuilt its index already).
        origin: String,
    },
}

/// Where relayed events go: in-process subscribers on one node, Redis pub/sub across nodes.
#[async_trait::async_trait]
pub trait EventBus: Send + Sync + 'static {
    /// Sends a signal to the subscribers of every node (this one's too); best effort.
    fn signal(&self, signal: Signal);
    /// A new subscription to signals from every node.
    fn signals(&self) -> broadcast::Receiver<Arc<Signal>>;
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
    /// Records that this node's sockets follow (`true`) or no longer follow `conversations`, for
    /// [`followed_elsewhere`](Self::followed_elsewhere) on the other nodes. Nothing to do on
    /// one node.
    async fn set_followed(&self, _conversations: &[i64], _followed: bool) {}
    /// Whether a live socket on another node follows `conversation`; never on one node.
    async fn followed_elsewhere(&self, _conversation: i64) -> bool {
        false
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
    signals: broadcast::Sender<Arc<Signal>>,
}

/// Signals buffered per subscriber: typing indicators come a few a second per conversation.
pub(crate) const SIGNAL_CAPACITY: usize = 1024;

impl InProcessBus {
    /// A bus buffering up to `capacity` events per subscriber.
    pub fn new(capacity: usize) -> Self {
        Self {
            tx: broadcast::channel(capacity).0,
            signals: broadcast::channel(SIGNAL_CAPACITY).0,
        }
    }
}

#[async_trait::async_trait]
impl EventBus for InProcessBus {
    fn signal(&self, signal: Signal) {
        // Nobody listening (no console open) is fine.
        let _ = self.signals.send(Arc::new(signal));
    }

    fn signals(&self) -> broadcast::Receiver<Arc<Signal>> {
        self.signals.subscribe()
    }

    fn publish(&self, event: Arc<Event>) {
        // No subscribers is not an error: nobody is watching right now.
        let _ = self.tx.send(event);
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }
}
