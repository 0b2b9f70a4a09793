//! Realtime hubs: visitors' widgets (`/ws/web_chat`) and agents' consoles (`/ws/agent`).
//!
//! Committed events arrive from the event bus (after the outbox relay). The hub forwards a
//! conversation's visible messages to the widgets of that conversation's visitor and every event
//! to agent consoles. Typing indicators are ephemeral: they travel through the hub only.

pub mod agent;
pub mod visitor;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use kefu_normalizer::EventBus;
use serde_json::json;
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

/// Read buffer per connection: widget frames are small, so 1 KiB (it grows for a larger frame)
/// instead of tungstenite's 128 KiB default keeps tens of thousands of idle connections cheap.
pub const READ_BUFFER: usize = 1024;
/// Write buffer per connection (frames are flushed once it holds this much).
pub const WRITE_BUFFER: usize = 1024;
/// Largest accepted frame from a browser.
pub const MAX_FRAME: usize = 16 * 1024;

/// A frame already serialized once, shared by every connection it goes to.
pub type Frame = Arc<str>;

type Conns = HashMap<i64, Vec<(u64, mpsc::Sender<Frame>)>>;

/// Routes realtime frames between the bus, visitors and agents.
pub struct Hub {
    visitors: Mutex<Conns>,
    next_id: AtomicU64,
    /// Visitor typing, for agent consoles: `(conversation_id, on)`.
    pub visitor_typing: broadcast::Sender<(i64, bool)>,
}

impl Hub {
    /// An empty hub.
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            visitors: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            visitor_typing: broadcast::channel(1024).0,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Conns> {
        self.visitors.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a visitor connection for a conversation; returns its id for [`leave`](Self::leave).
    pub fn join(&self, conversation: i64, tx: mpsc::Sender<Frame>) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.lock().entry(conversation).or_default().push((id, tx));
        metrics::gauge!("kefu_webchat_connections").increment(1.0);
        id
    }

    /// Removes a visitor connection.
    pub fn leave(&self, conversation: i64, id: u64) {
        let mut g = self.lock();
        if let Some(list) = g.get_mut(&conversation) {
            list.retain(|(c, _)| *c != id);
            if list.is_empty() {
                g.remove(&conversation);
            }
        }
        metrics::gauge!("kefu_webchat_connections").decrement(1.0);
    }

    /// Sends a frame to every visitor tab of a conversation. A tab whose queue is full is
    /// dropped from the hub; it reconnects and replays what it missed.
    pub fn to_visitors(&self, conversation: i64, frame: Frame) {
        let mut g = self.lock();
        if let Some(list) = g.get_mut(&conversation) {
            list.retain(|(_, tx)| tx.try_send(frame.clone()).is_ok());
        }
    }

    /// Forwards committed events to visitors until shutdown.
    pub async fn run(self: Arc<Self>, bus: Arc<dyn EventBus>, shutdown: CancellationToken) {
        let mut rx = bus.subscribe();
        loop {
            let ev = tokio::select! {
                _ = shutdown.cancelled() => break,
                ev = rx.recv() => ev,
            };
            let ev = match ev {
                Ok(ev) => ev,
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(
                        missed = n,
                        "Visitor hub lagged behind the bus; widgets will catch up on reconnect."
                    );
                    continue;
                }
                Err(broadcast::error::RecvError::Closed) => break,
            };
            let Some(conv) = ev.conversation_id else {
                continue;
            };
            let frame = match ev.kind.as_str() {
                "message.created" | "message.updated" if ev.data["private"] != json!(true) => {
                    json!({"type": "message", "message": ev.data})
                }
                "conversation.assigned"
                | "conversation.resolved"
                | "conversation.reopened"
                | "conversation.queued" => {
                    json!({"type": "status", "conversation_status": ev.data["status"], "conversation_id": conv})
                }
                _ => continue,
            };
            self.to_visitors(conv, frame.to_string().into());
        }
    }
}
