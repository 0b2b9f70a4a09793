//! [`RedisBus`]: relayed events reach every node through one Redis pub/sub channel.
//!
//! The relay of whichever node holds an outbox partition publishes each event once, as
//! `PUBLISH <namespace>:events <wire form>`; every node (the publisher too) has one subscriber
//! task that decodes what arrives and feeds its local broadcast channel, which the hub, the
//! assigner and the indexer read through [`EventBus::subscribe`] as on one node. Local
//! subscribers get their own node's events back from Redis, so all nodes see all events in the
//! one order Redis executed the publishes in.
//!
//! **Wire form**: `{"id", "type", "timestamp", "conversation_id", "payload"}`, where `payload`
//! is the outbox's stored form ([`EventData::stored`]) and is decoded by the same
//! [`EventData::decode`] as an outbox row; a type this node does not know (a newer node
//! published it) is skipped.
//!
//! **Why one channel**: every node decodes every event. That costs about 30 µs per event even in
//! an unoptimized build (BENCHMARKS.md, "Event bus"), so at the design's rates (2,000–3,000
//! events per second for 1,000 messages per second) a node spends under a tenth of a core on
//! it; routing by interest (a channel per conversation or agent) would trade that for
//! subscription churn on every assignment.
//!
//! **Presence**: which conversations a live socket follows, across nodes (so that a reply to an
//! app user chatting on another node is not also pushed). Each node keeps, per conversation its
//! sockets follow, an entry in the sorted set `<namespace>:live:<conversation>`: its node id,
//! scored with when the entry runs out ([`PRESENCE_TTL`]); it renews its entries every
//! [`PRESENCE_RENEW`] and removes them when its last socket on a conversation closes. A dead
//! node's entries run out by themselves.
//!
//! **Signals** (typing indicators) go the same way on `<namespace>:signals`, encoded as JSON;
//! they are not stored, so one published while Redis is down reaches only this node.
//!
//! **Redis down**: a batch that cannot be published (or published while this node's own
//! subscription is down, so it would not come back) goes to the local channel directly, so
//! this node's sockets keep getting this node's events; other nodes' clients catch up by `seq`
//! when they reconnect, since the outbox, not the bus, is the truth. Both connections are
//! retried with exponential backoff (0.2 s doubling to 5 s), and [`EventBus::health`] says
//! `ok: false` with the reason meanwhile (`/readyz` reports `degraded`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use redis::aio::MultiplexedConnection;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::broadcast;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::redis_counters::RedisCounters;
use super::{BusHealth, Event, EventBus, EventData, EventType, SIGNAL_CAPACITY, Signal};

/// The first wait before reconnecting to Redis.
const MIN_BACKOFF: Duration = Duration::from_millis(200);
/// The longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How long connecting, subscribing or one pipeline of publishes may take.
pub(super) const REDIS_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a node's presence entry lasts unless renewed.
pub const PRESENCE_TTL: Duration = Duration::from_secs(60);
/// How often a node renews its presence entries.
pub const PRESENCE_RENEW: Duration = Duration::from_secs(20);

/// Why the Redis bus could not start, or an event could not cross it.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// `redis_url` is not a Redis URL this client understands.
    #[error("invalid redis_url: {0}")]
    Url(String),
    /// An event could not be encoded or decoded.
    #[error("malformed event on the bus: {0}")]
    Malformed(#[from] serde_json::Error),
    /// The event's type is unknown to this node (a newer node published it).
    #[error(transparent)]
    UnknownType(#[from] super::UnknownEventType),
}

/// An event on the wire between nodes.
#[derive(Serialize, Deserialize)]
struct Wire {
    id: i64,
    #[serde(rename = "type")]
    kind: String,
    timestamp: DateTime<Utc>,
    conversation_id: Option<i64>,
    /// The outbox's stored form of the data.
    payload: Value,
}

/// `event` as the bytes published on Redis.
pub fn encode_wire(event: &Event) -> Result<Vec<u8>, BusError> {
    Ok(serde_json::to_vec(&Wire {
        id: event.id,
        kind: event.kind().as_str().to_owned(),
        timestamp: event.timestamp,
        conversation_id: event.conversation_id,
        payload: event.data.stored()?,
    })?)
}

/// The event in bytes received from Redis.
pub fn decode_wire(bytes: &[u8]) -> Result<Event, BusError> {
    let wire: Wire = serde_json::from_slice(bytes)?;
    let kind: EventType = wire.kind.parse()?;
    Ok(Event {
        id: wire.id,
        timestamp: wire.timestamp,
        conversation_id: wire.conversation_id,
        data: EventData::decode(kind, wire.payload)?,
    })
}

/// The bus across nodes. Cheap to share: wrap it in an `Arc` once.
pub struct RedisBus {
    inner: Arc<Inner>,
}

pub(super) struct Inner {
    client: redis::Client,
    channel: String,
    signal_channel: String,
    /// `<namespace>:live:`, the prefix of presence keys.
    presence_prefix: String,
    /// This node's id in presence entries.
    pub(super) node: String,
    local: broadcast::Sender<Arc<Event>>,
    local_signals: broadcast::Sender<Arc<Signal>>,
    publisher: tokio::sync::Mutex<Publisher>,
    /// `true` while the subscriber task is subscribed.
    subscribed: AtomicBool,
    /// Why the subscriber or the publisher is down.
    subscriber_error: Mutex<Option<String>>,
    publisher_error: Mutex<Option<String>>,
}

/// The publishing connection, opened on first use and again after a failure.
struct Publisher {
    conn: Option<MultiplexedConnection>,
    retry_at: Instant,
    backoff: Duration,
}

impl RedisBus {
    /// A bus on the Redis at `url`, on channel `<namespace>:events`, buffering up to
    /// `capacity` events per local subscriber. Starts the subscriber task, which runs until
    /// `shutdown`; an unreachable Redis is not an error here (it is retried and reported by
    /// [`EventBus::health`]), a malformed URL is.
    pub fn start(
        url: &str,
        namespace: &str,
        capacity: usize,
        shutdown: CancellationToken,
    ) -> Result<Self, BusError> {
        let client = redis::Client::open(url).map_err(|e| BusError::Url(e.to_string()))?;
        let inner = Arc::new(Inner {
            client,
            channel: format!("{namespace}:events"),
            signal_channel: format!("{namespace}:signals"),
            presence_prefix: format!("{namespace}:live:"),
            node: format!("{:016x}", rand::random::<u64>()),
            local: broadcast::channel(capacity).0,
            local_signals: broadcast::channel(SIGNAL_CAPACITY).0,
            publisher: tokio::sync::Mutex::new(Publisher {
                conn: None,
                retry_at: Instant::now(),
                backoff: MIN_BACKOFF,
            }),
            subscribed: AtomicBool::new(false),
            subscriber_error: Mutex::new(Some("not subscribed yet".into())),
            publisher_error: Mutex::new(None),
        });
        tokio::spawn(inner.clone().subscribe_loop(shutdown));
        Ok(Self { inner })
    }

    /// Counters shared by every node on this bus's Redis (under `<namespace>:limits:`), on
    /// the bus's connection; their upkeep task runs until `shutdown`.
    pub fn counters(&self, namespace: &str, shutdown: CancellationToken) -> RedisCounters {
        RedisCounters::start(self.inner.clone(), namespace, shutdown)
    }

    /// Waits until the subscriber task is subscribed (tests, and a node's start when it wants
    /// to be part of the cluster before serving); `false` after `timeout`.
    pub async fn wait_subscribed(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while !self.inner.subscribed.load(Ordering::Acquire) {
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        true
    }
}

#[async_trait::async_trait]
impl EventBus for RedisBus {
    fn signal(&self, signal: Signal) {
        let inner = self.inner.clone();
        tokio::spawn(async move {
            let Ok(bytes) = serde_json::to_vec(&signal) else {
                return;
            };
            let channel = inner.signal_channel.clone();
            if !(inner.send(&channel, &[bytes]).await && inner.subscribed.load(Ordering::Acquire)) {
                let _ = inner.local_signals.send(Arc::new(signal));
            }
        });
    }

    fn signals(&self) -> broadcast::Receiver<Arc<Signal>> {
        self.inner.local_signals.subscribe()
    }

    async fn set_followed(&self, conversations: &[i64], followed: bool) {
        let inner = &self.inner;
        if conversations.is_empty() {
            return;
        }
        let ttl_ms = u64::try_from(PRESENCE_TTL.as_millis()).unwrap_or(u64::MAX);
        let until = Utc::now().timestamp_millis() + i64::try_from(ttl_ms).unwrap_or(i64::MAX);
        let mut pipe = redis::pipe();
        for c in conversations {
            let key = format!("{}{c}", inner.presence_prefix);
            if followed {
                pipe.zadd(&key, &inner.node, until).ignore();
                pipe.pexpire(&key, i64::try_from(ttl_ms).unwrap_or(i64::MAX))
                    .ignore();
            } else {
                pipe.zrem(&key, &inner.node).ignore();
            }
        }
        if let Some(mut conn) = inner.connection().await
            && let Err(e) = tokio::time::timeout(REDIS_TIMEOUT, pipe.query_async::<()>(&mut conn))
                .await
                .map_err(|_| "timed out".to_owned())
                .and_then(|r| r.map_err(|e| e.to_string()))
        {
            tracing::debug!(error = %e, "Could not record presence on Redis.");
        }
    }

    async fn followed_elsewhere(&self, conversation: i64) -> bool {
        let inner = &self.inner;
        let Some(mut conn) = inner.connection().await else {
            return false;
        };
        let key = format!("{}{conversation}", inner.presence_prefix);
        let now = Utc::now().timestamp_millis();
        let nodes: Vec<String> = match tokio::time::timeout(
            REDIS_TIMEOUT,
            redis::cmd("ZRANGEBYSCORE")
                .arg(&key)
                .arg(now)
                .arg("+inf")
                .query_async(&mut conn),
        )
        .await
        {
            Ok(Ok(nodes)) => nodes,
            _ => return false,
        };
        nodes.iter().any(|n| *n != inner.node)
    }

    fn publish(&self, event: Arc<Event>) {
        let inner = self.inner.clone();
        tokio::spawn(async move { inner.publish_batch(&[event]).await });
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.inner.local.subscribe()
    }

    async fn publish_batch(&self, events: &[Arc<Event>]) {
        self.inner.publish_batch(events).await;
    }

    fn health(&self) -> BusHealth {
        let problems: Vec<String> = [&self.inner.subscriber_error, &self.inner.publisher_error]
            .into_iter()
            .filter_map(|m| m.lock().unwrap_or_else(|p| p.into_inner()).clone())
            .collect();
        BusHealth {
            kind: "redis",
            ok: problems.is_empty(),
            error: (!problems.is_empty()).then(|| problems.join("; ")),
        }
    }
}

impl Inner {
    async fn publish_batch(&self, events: &[Arc<Event>]) {
        if events.is_empty() {
            return;
        }
        let mut payloads = Vec::with_capacity(events.len());
        for e in events {
            match encode_wire(e) {
                Ok(bytes) => payloads.push(bytes),
                // Cannot happen for events that were decoded from the outbox; still, the
                // local sockets get the batch below.
                Err(err) => {
                    tracing::warn!(event = e.id, error = %err, "Cannot encode an event for the bus.")
                }
            }
        }
        let sent = payloads.len() == events.len() && self.send(&self.channel, &payloads).await;
        if sent && self.subscribed.load(Ordering::Acquire) {
            metrics::counter!("kefu_bus_published_total").increment(events.len() as u64);
            return;
        }
        // It will not come back from Redis: this node's subscribers get it directly.
        metrics::counter!("kefu_bus_local_only_total").increment(events.len() as u64);
        for e in events {
            let _ = self.local.send(e.clone());
        }
    }

    /// The publishing connection (a clone, shared), opened when needed; `None` while Redis
    /// cannot be reached.
    pub(super) async fn connection(&self) -> Option<MultiplexedConnection> {
        let mut p = self.publisher.lock().await;
        if p.conn.is_none() && !self.connect(&mut p).await {
            return None;
        }
        p.conn.clone()
    }

    /// Opens the publishing connection unless waiting out a backoff; `false` when it is not open.
    async fn connect(&self, p: &mut Publisher) -> bool {
        if Instant::now() < p.retry_at {
            return false;
        }
        match tokio::time::timeout(
            REDIS_TIMEOUT,
            self.client.get_multiplexed_async_connection(),
        )
        .await
        {
            Ok(Ok(conn)) => {
                p.conn = Some(conn);
                p.backoff = MIN_BACKOFF;
                if set(&self.publisher_error, None) {
                    tracing::info!(channel = %self.channel, "Publishing to the Redis event bus again.");
                }
                true
            }
            Ok(Err(e)) => self.publisher_failed(p, e.to_string()),
            Err(_) => self.publisher_failed(p, "connecting timed out".into()),
        }
    }

    /// Publishes `payloads` on `channel` in one pipeline; `false` when Redis cannot be reached
    /// now.
    async fn send(&self, channel: &str, payloads: &[Vec<u8>]) -> bool {
        let mut p = self.publisher.lock().await;
        if p.conn.is_none() && !self.connect(&mut p).await {
            return false;
        }
        let Some(conn) = p.conn.as_mut() else {
            return false;
        };
        let mut pipe = redis::pipe();
        for bytes in payloads {
            pipe.publish(channel, bytes.as_slice()).ignore();
        }
        match tokio::time::timeout(REDIS_TIMEOUT, pipe.query_async::<()>(conn)).await {
            Ok(Ok(())) => true,
            Ok(Err(e)) => self.publisher_failed(&mut p, e.to_string()),
            Err(_) => self.publisher_failed(&mut p, "publishing timed out".into()),
        }
    }

    /// Drops the publishing connection and schedules the next attempt; returns `false`.
    fn publisher_failed(&self, p: &mut Publisher, error: String) -> bool {
        p.conn = None;
        p.retry_at = Instant::now() + p.backoff;
        p.backoff = (p.backoff * 2).min(MAX_BACKOFF);
        if !set(
            &self.publisher_error,
            Some(format!("publishing to Redis: {error}")),
        ) {
            tracing::warn!(channel = %self.channel, %error, "Cannot publish to the Redis event bus; this node's sockets get its events directly meanwhile.");
        }
        metrics::gauge!("kefu_bus_redis_up").set(0.0);
        false
    }

    /// Subscribes, feeds the local channel, and resubscribes with backoff until `shutdown`.
    async fn subscribe_loop(self: Arc<Self>, shutdown: CancellationToken) {
        let mut backoff = MIN_BACKOFF;
        // Whether the current outage was logged (once per outage, and at the first start).
        let mut logged = false;
        loop {
            let connect = async {
                let mut pubsub = self.client.get_async_pubsub().await?;
                pubsub
                    .subscribe(&[self.channel.as_str(), self.signal_channel.as_str()])
                    .await?;
                Ok::<_, redis::RedisError>(pubsub)
            };
            let attempt = tokio::select! {
                _ = shutdown.cancelled() => return,
                r = tokio::time::timeout(REDIS_TIMEOUT, connect) => r,
            };
            let error = match attempt {
                Ok(Ok(pubsub)) => {
                    backoff = MIN_BACKOFF;
                    logged = false;
                    self.subscribed.store(true, Ordering::Release);
                    set(&self.subscriber_error, None);
                    metrics::gauge!("kefu_bus_redis_up").set(1.0);
                    tracing::info!(channel = %self.channel, "Subscribed to the Redis event bus.");
                    let mut messages = pubsub.into_on_message();
                    loop {
                        let msg = tokio::select! {
                            _ = shutdown.cancelled() => return,
                            m = messages.next() => m,
                        };
                        let Some(msg) = msg else { break };
                        if msg.get_channel_name() == self.signal_channel {
                            self.deliver_signal(msg.get_payload_bytes());
                        } else {
                            self.deliver(msg.get_payload_bytes());
                        }
                    }
                    self.subscribed.store(false, Ordering::Release);
                    "the subscription's connection closed".to_owned()
                }
                Ok(Err(e)) => e.to_string(),
                Err(_) => "connecting timed out".to_owned(),
            };
            metrics::gauge!("kefu_bus_redis_up").set(0.0);
            set(
                &self.subscriber_error,
                Some(format!("subscribing to Redis: {error}")),
            );
            if !std::mem::replace(&mut logged, true) {
                tracing::warn!(channel = %self.channel, %error, "Not subscribed to the Redis event bus; retrying.");
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// Decodes one signal and hands it to this node's subscribers.
    fn deliver_signal(&self, bytes: &[u8]) {
        match serde_json::from_slice::<Signal>(bytes) {
            Ok(signal) => {
                let _ = self.local_signals.send(Arc::new(signal));
            }
            Err(e) => {
                tracing::debug!(error = %e, "Skipping a signal this node does not understand.")
            }
        }
    }

    /// Decodes one message and hands it to this node's subscribers.
    fn deliver(&self, bytes: &[u8]) {
        match decode_wire(bytes) {
            Ok(event) => {
                metrics::counter!("kefu_bus_received_total").increment(1);
                let _ = self.local.send(Arc::new(event));
            }
            Err(BusError::UnknownType(e)) => {
                tracing::debug!(error = %e, "Skipping a bus event of a type this node does not know.");
            }
            Err(e) => {
                metrics::counter!("kefu_bus_malformed_total").increment(1);
                tracing::warn!(error = %e, "Skipping a malformed bus event.");
            }
        }
    }
}

/// Sets a problem slot; returns whether it held a problem before (to log transitions once).
fn set(slot: &Mutex<Option<String>>, value: Option<String>) -> bool {
    let mut s = slot.lock().unwrap_or_else(|p| p.into_inner());
    std::mem::replace(&mut *s, value).is_some()
}
