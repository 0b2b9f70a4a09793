//! Realtime hubs: visitors' widgets (`/ws/web_chat`) and agents' consoles (`/ws/agent`).
//!
//! Committed events arrive from the event bus (after the outbox relay). The hub forwards a
//! conversation's visible messages to the widgets of that conversation's visitor and every event
//! to agent consoles. Typing indicators are ephemeral [`Signal`]s: they cross the nodes on the
//! bus but are never stored.
//!
//! App users (an `app_push` inbox's users on `/ws/web_chat`) may also write through the app API,
//! which can open a conversation their open socket does not follow yet: the hub tells their
//! sockets about every conversation opened for them (`conversation.created` carries whose it
//! is), and they follow it. The hub is also the
//! app channel's [`LivePresence`]: a reply to a conversation some socket follows is not pushed.
//! With several nodes, each records on the bus which conversations its sockets follow
//! ([`EventBus::set_followed`]), so a user chatting on another node gets no push either.

pub mod agent;
mod agent_filter;
pub mod visitor;
pub mod visitor_files;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use kefu_channel::LivePresence;
use kefu_normalizer::accounts::Agents;
use kefu_normalizer::events::PRESENCE_RENEW;
use kefu_normalizer::events::{NewConversation, Signal};
use kefu_normalizer::{EventBus, EventData};
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
/// App users' sockets by inbox and external id, told the ids of conversations opened for them.
type AppUsers = HashMap<i64, HashMap<String, Vec<(u64, mpsc::Sender<i64>)>>>;

/// Routes realtime frames between the bus, visitors and agents.
pub struct Hub {
    /// Where this node says which conversations its sockets follow.
    bus: Arc<dyn EventBus>,
    /// Follows and unfollows for the bus, in order, to the presence task.
    presence: mpsc::UnboundedSender<(i64, bool)>,
    presence_rx: Mutex<Option<mpsc::UnboundedReceiver<(i64, bool)>>>,
    visitors: Mutex<Conns>,
    app_users: Mutex<AppUsers>,
    next_id: AtomicU64,
    /// Names of assigned agents, for the widget's header.
    agents: Agents,
}

impl Hub {
    /// An empty hub, telling `bus` which conversations its sockets follow and reading agents'
    /// names from `agents`.
    pub fn new(bus: Arc<dyn EventBus>, agents: Agents) -> Arc<Self> {
        let (presence, presence_rx) = mpsc::unbounded_channel();
        Arc::new(Self {
            bus,
            presence,
            presence_rx: Mutex::new(Some(presence_rx)),
            visitors: Mutex::new(HashMap::new()),
            app_users: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            agents,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Conns> {
        self.visitors.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a visitor connection for a conversation; returns its id for [`leave`](Self::leave).
    pub fn join(&self, conversation: i64, tx: mpsc::Sender<Frame>) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let first = {
            let mut g = self.lock();
            let tabs = g.entry(conversation).or_default();
            tabs.push((id, tx));
            tabs.len() == 1
        };
        if first {
            self.tell_bus(conversation, true);
        }
        metrics::gauge!("kefu_webchat_connections").increment(1.0);
        id
    }

    /// Tells the other nodes (through the presence task, in order) that this node's sockets
    /// follow, or no longer follow, `conversation`.
    fn tell_bus(&self, conversation: i64, followed: bool) {
        let _ = self.presence.send((conversation, followed));
    }

    /// Removes a visitor connection.
    pub fn leave(&self, conversation: i64, id: u64) {
        let last = {
            let mut g = self.lock();
            let mut last = false;
            if let Some(list) = g.get_mut(&conversation) {
                list.retain(|(c, _)| *c != id);
                if list.is_empty() {
                    g.remove(&conversation);
                    last = true;
                }
            }
            last
        };
        if last {
            self.tell_bus(conversation, false);
        }
        metrics::gauge!("kefu_webchat_connections").decrement(1.0);
    }

    /// Records follows and unfollows on the bus in the order they happened, and renews, every
    /// [`PRESENCE_RENEW`], what this node's sockets follow, until shutdown.
    async fn presence(
        self: Arc<Self>,
        mut changes: mpsc::UnboundedReceiver<(i64, bool)>,
        shutdown: CancellationToken,
    ) {
        let mut every = tokio::time::interval(PRESENCE_RENEW);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut batch = Vec::new();
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = every.tick() => {
                    let followed: Vec<i64> = self.lock().keys().copied().collect();
                    for chunk in followed.chunks(1000) {
                        self.bus.set_followed(chunk, true).await;
                    }
                }
                n = changes.recv_many(&mut batch, 1000) => {
                    if n == 0 {
                        return;
                    }
                    // Runs of the same kind go in one call, keeping the order between runs.
                    for run in batch.chunk_by(|a, b| a.1 == b.1) {
                        let ids: Vec<i64> = run.iter().map(|(c, _)| *c).collect();
                        self.bus.set_followed(&ids, run[0].1).await;
                    }
                    batch.clear();
                }
            }
        }
    }

    /// Sends a frame to every visitor tab of a conversation. A tab whose queue is full is
    /// dropped from the hub; it reconnects and replays what it missed.
    pub fn to_visitors(&self, conversation: i64, frame: Frame) {
        let mut g = self.lock();
        if let Some(list) = g.get_mut(&conversation) {
            list.retain(|(_, tx)| tx.try_send(frame.clone()).is_ok());
        }
    }

    /// What the widget shows of agent `id`: `{id, name}`, or `null` when unknown.
    pub async fn agent_card(&self, id: Option<i64>) -> serde_json::Value {
        let Some(id) = id else {
            return serde_json::Value::Null;
        };
        match self.agents.get(id).await {
            Ok(Some(a)) => json!({"id": a.id, "name": a.name, "avatar_url": a.avatar_url}),
            Ok(None) => serde_json::Value::Null,
            Err(e) => {
                tracing::warn!(agent = id, error = %e, "Agent name unavailable for the widget.");
                serde_json::Value::Null
            }
        }
    }

    fn app_users(&self) -> std::sync::MutexGuard<'_, AppUsers> {
        self.app_users.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers an app user's socket to learn about conversations opened for the user
    /// elsewhere (the app API); returns its id for [`forget_app_user`](Self::forget_app_user).
    pub fn watch_app_user(&self, inbox: i64, external_id: &str, tx: mpsc::Sender<i64>) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.app_users()
            .entry(inbox)
            .or_default()
            .entry(external_id.to_owned())
            .or_default()
            .push((id, tx));
        id
    }

    /// Removes an app user's socket.
    pub fn forget_app_user(&self, inbox: i64, external_id: &str, id: u64) {
        let mut g = self.app_users();
        if let Some(users) = g.get_mut(&inbox) {
            if let Some(list) = users.get_mut(external_id) {
                list.retain(|(c, _)| *c != id);
                if list.is_empty() {
                    users.remove(external_id);
                }
            }
            if users.is_empty() {
                g.remove(&inbox);
            }
        }
    }

    /// Tells an app user's sockets that `conversation` was opened for them.
    fn tell_app_user(&self, inbox: i64, external_id: &str, conversation: i64) {
        if let Some(list) = self
            .app_users()
            .get_mut(&inbox)
            .and_then(|u| u.get_mut(external_id))
        {
            list.retain(|(_, tx)| {
                !matches!(
                    tx.try_send(conversation),
                    Err(mpsc::error::TrySendError::Closed(_))
                )
            });
        }
    }

    /// Forwards committed events and agents' typing (from every node) to visitors until
    /// shutdown.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        let changes = self
            .presence_rx
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(changes) = changes {
            tokio::spawn(self.clone().presence(changes, shutdown.clone()));
        }
        let mut rx = self.bus.subscribe();
        let mut signals = self.bus.signals();
        loop {
            let ev = tokio::select! {
                _ = shutdown.cancelled() => break,
                ev = rx.recv() => ev,
                s = signals.recv() => {
                    match s.as_deref() {
                        Ok(Signal::AgentTyping { conversation_id, on, name }) => {
                            let frame = json!({"type": "typing", "on": on, "name": name});
                            self.to_visitors(*conversation_id, frame.to_string().into());
                        }
                        Ok(Signal::AgentRead { conversation_id, seq }) => {
                            let frame = json!({"type": "status", "conversation_id": conversation_id, "agent_read_seq": seq});
                            self.to_visitors(*conversation_id, frame.to_string().into());
                        }
                        _ => {}
                    }
                    continue;
                }
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
            let frame = match &ev.data {
                EventData::ConversationCreated(NewConversation {
                    conversation,
                    external_id: Some(external_id),
                }) => {
                    // Whose it is travels with the event, so routing it costs no query.
                    self.tell_app_user(conversation.inbox_id, external_id, conv);
                    continue;
                }
                EventData::MessageCreated(m) if !m.private => {
                    // A satisfaction question: the widget shows its rating card.
                    let token = m
                        .content
                        .extra
                        .as_ref()
                        .and_then(|e| e["csat"]["token"].as_str());
                    if let Some(token) = token {
                        let frame = json!({"type": "message", "message": m});
                        self.to_visitors(conv, frame.to_string().into());
                        json!({"type": "csat", "conversation_id": conv, "token": token})
                    } else {
                        json!({"type": "message", "message": m})
                    }
                }
                EventData::MessageUpdated(m) if !m.private => {
                    json!({"type": "message", "message": m})
                }
                EventData::ConversationAssigned(c) => {
                    // The widget's header shows who helps: the name is looked up off the loop.
                    let hub = self.clone();
                    let status = c.status;
                    let agent = c.assignee_id;
                    tokio::spawn(async move {
                        let card = hub.agent_card(agent).await;
                        let frame = json!({"type": "status", "conversation_status": status, "conversation_id": conv, "agent": card});
                        hub.to_visitors(conv, frame.to_string().into());
                    });
                    continue;
                }
                EventData::ConversationResolved(c)
                | EventData::ConversationReopened(c)
                | EventData::ConversationQueued(c) => {
                    json!({"type": "status", "conversation_status": c.status, "conversation_id": conv})
                }
                _ => continue,
            };
            self.to_visitors(conv, frame.to_string().into());
        }
    }
}

#[async_trait::async_trait]
impl LivePresence for Hub {
    async fn is_live(&self, _inbox_id: i64, conversation_id: i64) -> bool {
        let here = self
            .lock()
            .get(&conversation_id)
            .is_some_and(|tabs| tabs.iter().any(|(_, tx)| !tx.is_closed()));
        here || self.bus.followed_elsewhere(conversation_id).await
    }
}
