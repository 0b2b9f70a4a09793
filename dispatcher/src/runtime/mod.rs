//! The channel runtime: one running [`Channel`] per inbox, built from its channel type's
//! factory. Channels that poll (email, push feedback) feed the normalizer from here, and the
//! send worker sends through the running channel of a reply's inbox. The gateway starts and
//! stops channels as inboxes change, and mounts the ingress routes; nothing here is HTTP.
//!
//! - [`Runner`]: starts, restarts and stops channels.
//! - [`Inboxes`]: inbox rows as [`InboxConfig`]s, secrets opened.

mod inboxes;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use kefu_channel::{
    BuildContext, Channel, ChannelContext, ChannelFactory, InboundSink, InboxConfig,
};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use inboxes::{INBOX_TTL, Inboxes, Unseal, pointer_to_path, put_secrets, take_secrets};

/// Channel factories by channel type (`channel.type`).
pub type Factories = BTreeMap<String, Arc<dyn ChannelFactory>>;

/// Keeps one running [`Channel`] per inbox: started at boot, restarted when an inbox changes,
/// stopped when it is deleted or Kefu shuts down.
pub struct Runner {
    factories: Factories,
    sink: Arc<dyn InboundSink>,
    services: BuildContext,
    shutdown: CancellationToken,
    tracker: TaskTracker,
    running: Mutex<Running>,
}

/// Running channels by inbox, each with the token that stops it.
type Running = HashMap<i64, (Arc<dyn Channel>, CancellationToken)>;

impl Runner {
    /// A runner building channels with `factories` and Kefu's `services`; their channels feed
    /// `sink`, keep their state in `services.state`, and stop on `shutdown`.
    pub fn new(
        factories: Factories,
        sink: Arc<dyn InboundSink>,
        services: BuildContext,
        shutdown: CancellationToken,
    ) -> Self {
        Self {
            factories,
            sink,
            services,
            shutdown,
            tracker: TaskTracker::new(),
            running: Mutex::new(HashMap::new()),
        }
    }

    /// Starts (or restarts) the channel of `inbox`.
    pub fn start(&self, inbox: &InboxConfig) {
        self.stop(inbox.id);
        let Some(factory) = self.factories.get(inbox.kind.as_str()) else {
            tracing::warn!(inbox = inbox.id, kind = %inbox.kind, "No channel type registered for this inbox; it stays idle.");
            return;
        };
        let channel = match factory.build(inbox, &self.services) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(inbox = inbox.id, error = %e, "Channel could not be built; fix the inbox settings.");
                return;
            }
        };
        let stop = self.shutdown.child_token();
        let cx = ChannelContext {
            inbox_id: inbox.id,
            inbound: self.sink.clone(),
            state: self.services.state.clone(),
            shutdown: stop.clone(),
        };
        let id = inbox.id;
        self.tracker.spawn(channel.clone().run(cx).then_log(id));
        self.lock().insert(id, (channel, stop));
    }

    /// What factories get when they build a channel (also for channels built for a check).
    pub fn services(&self) -> &BuildContext {
        &self.services
    }

    /// Stops the channel of an inbox, if running.
    pub fn stop(&self, inbox_id: i64) {
        if let Some((_, stop)) = self.lock().remove(&inbox_id) {
            stop.cancel();
        }
    }

    /// The running channel of an inbox.
    pub fn channel(&self, inbox_id: i64) -> Option<Arc<dyn Channel>> {
        self.lock().get(&inbox_id).map(|(c, _)| c.clone())
    }

    /// Waits for every channel task to finish after shutdown.
    pub async fn wait(&self) {
        self.tracker.close();
        self.tracker.wait().await;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Running> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }
}

trait ThenLog {
    async fn then_log(self, inbox: i64);
}

impl<F: std::future::Future<Output = Result<(), kefu_channel::ChannelError>>> ThenLog for F {
    async fn then_log(self, inbox: i64) {
        match self.await {
            Ok(()) => tracing::debug!(inbox, "Channel stopped."),
            Err(e) => tracing::error!(inbox, error = %e, "Channel stopped with an error."),
        }
    }
}
