//! Keeps every node's channels in line with the inboxes as stored. The node an admin changes an
//! inbox through starts, restarts or stops its channel at once and tells the others with a
//! [`Signal::InboxChanged`]; they do the same when it arrives. Signals are not stored, so each
//! node also compares what it runs with the database every [`RECONCILE_EVERY`] (and after
//! missing signals), which catches a change whose signal was lost while Redis was down.

use std::collections::HashSet;
use std::time::Duration;

use kefu_normalizer::events::Signal;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use crate::state::AppState;

/// How often a node compares its running channels with the stored inboxes.
pub const RECONCILE_EVERY: Duration = Duration::from_secs(60);

/// Tells the other nodes that `inbox_id` changed through this one.
pub fn changed(st: &AppState, inbox_id: i64) {
    st.bus.signal(Signal::InboxChanged {
        inbox_id,
        origin: st.leases.node().to_owned(),
    });
}

/// Applies other nodes' inbox changes until `shutdown`.
pub async fn run(st: AppState, shutdown: CancellationToken) {
    let mut signals = st.bus.signals();
    let mut every = tokio::time::interval_at(
        tokio::time::Instant::now() + RECONCILE_EVERY,
        RECONCILE_EVERY,
    );
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = every.tick() => reconcile(&st).await,
            s = signals.recv() => match s {
                Ok(s) => {
                    if let Signal::InboxChanged { inbox_id, origin } = &*s
                        && origin != st.leases.node()
                    {
                        match st.inboxes.stored(*inbox_id).await {
                            Ok(stored) => st.runner.sync(*inbox_id, stored.as_ref()),
                            Err(e) => tracing::warn!(inbox = inbox_id, error = %e, "Cannot read a changed inbox; the next reconciliation applies it."),
                        }
                    }
                }
                Err(RecvError::Lagged(_)) => reconcile(&st).await,
                Err(RecvError::Closed) => return,
            },
        }
    }
}

/// Starts, restarts and stops channels so that they match the stored inboxes.
async fn reconcile(st: &AppState) {
    let all = match st.inboxes.all().await {
        Ok(all) => all,
        Err(e) => {
            tracing::warn!(error = %e, "Cannot read the inboxes to compare with the running channels.");
            return;
        }
    };
    let live: HashSet<i64> = all.iter().map(|i| i.id).collect();
    for inbox in &all {
        st.runner.sync(inbox.id, Some(inbox));
    }
    for id in st.runner.running() {
        if !live.contains(&id) {
            st.runner.stop(id);
        }
    }
}
