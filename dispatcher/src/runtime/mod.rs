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
use kefu_normalizer::leases::Leases;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use inboxes::{INBOX_TTL, Inboxes, Unseal, pointer_to_path, put_secrets, take_secrets};

/// Channel factories by channel type (`channel.type`).
pub type Factories = BTreeMap<String, Arc<dyn ChannelFactory>>;

/// Keeps one running [`Channel`] per inbox: started at boot, restarted when an inbox changes,
/// stopped when it is deleted or Kefu shuts down.
///
/// Every node builds every inbox's channel (any node may send a reply through it), but a
/// channel's background work ([`Channel::run`]: an IMAP mailbox's poller, WeCom's catch-up
/// pulls) runs on one node at a time, the holder of the lease `inbox:<id>`.
pub struct Runner {
    factories: Factories,
    leases: Leases,
    sink: Arc<dyn InboundSink>,
    services: BuildContext,
    shutdown: CancellationToken,
    tracker: TaskTracker,
    running: Mutex<Running>,
}

/// Running channels by inbox, each with the token that stops it and the settings it runs with.
type Running = HashMap<i64, (Arc<dyn Channel>, CancellationToken, InboxConfig)>;

impl Runner {
    /// A runner building channels with `factories` and Kefu's `services`; their channels feed
    /// `sink`, keep their state in `services.state`, and stop on `shutdown`.
    pub fn new(
        factories: Factories,
        leases: Leases,
        sink: Arc<dyn InboundSink>,
        services: BuildContext,
        shutdown: CancellationToken,
    ) -> Self {
        Self {
            factories,
            leases,
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
        let id = inbox.id;
        let work = {
            let channel = channel.clone();
            let sink = self.sink.clone();
            let state = self.services.state.clone();
            move |held: CancellationToken| {
                let cx = ChannelContext {
                    inbox_id: id,
                    inbound: sink.clone(),
                    state: state.clone(),
                    shutdown: held,
                };
                channel.clone().run(cx).then_log(id)
            }
        };
        let leases = self.leases.clone();
        let token = stop.clone();
        self.tracker.spawn(async move {
            leases.run_held(&format!("inbox:{id}"), token, work).await;
        });
        self.lock().insert(id, (channel, stop, inbox.clone()));
    }

    /// What factories get when they build a channel (also for channels built for a check).
    pub fn services(&self) -> &BuildContext {
        &self.services
    }

    /// Stops the channel of an inbox, if running.
    pub fn stop(&self, inbox_id: i64) {
        if let Some((_, stop, _)) = self.lock().remove(&inbox_id) {
            stop.cancel();
        }
    }

    /// Brings an inbox's channel in line with the inbox as stored (`None`: deleted): started
    /// when new, restarted when its settings changed, stopped when deleted. Nodes call it for
    /// changes made through other nodes.
    pub fn sync(&self, inbox_id: i64, stored: Option<&InboxConfig>) {
        match stored {
            None => self.stop(inbox_id),
            Some(inbox) => {
                let same = self
                    .lock()
                    .get(&inbox_id)
                    .is_some_and(|(_, _, running)| running == inbox);
                if !same {
                    self.start(inbox);
                }
            }
        }
    }

    /// The inboxes whose channels run.
    pub fn running(&self) -> Vec<i64> {
        self.lock().keys().copied().collect()
    }

    /// The running channel of an inbox.
    pub fn channel(&self, inbox_id: i64) -> Option<Arc<dyn Channel>> {
        self.lock().get(&inbox_id).map(|(c, _, _)| c.clone())
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
