//! Keeps every node's knowledge index in line with the knowledge base as stored. The node an
//! entry is added, edited or deleted through updates its own index at once and tells the
//! others with a [`Signal::KnowledgeChanged`]; they apply the same change when it arrives.
//! Signals are not stored, so each node also compares a fingerprint of the knowledge base
//! (how many entries, the latest change) every [`RECONCILE_EVERY`], and after missing
//! signals, and rebuilds its index when it moved: a change whose signal was lost while Redis
//! was down reaches every node within a minute, and an idle node reads one row a minute.

use std::time::Duration;

use chrono::{DateTime, Utc};
use kefu_normalizer::StoreError;
use kefu_normalizer::events::Signal;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use crate::state::AppState;

/// How often a node compares its index with the stored knowledge base.
pub const RECONCILE_EVERY: Duration = Duration::from_secs(60);

/// Tells the other nodes that entry `knowledge_id` changed through this one.
pub fn changed(st: &AppState, knowledge_id: i64) {
    st.bus.signal(Signal::KnowledgeChanged {
        knowledge_id,
        origin: st.leases.node().to_owned(),
    });
}

/// Rebuilds this node's index from the stored knowledge base and tells the other nodes to do
/// the same (after an import, which changes many entries at once).
pub async fn imported(st: &AppState) -> Result<(), kefu_ai::AiError> {
    let entries = st.bot.knowledge().all_enabled().await?;
    let index = st.bot.index().clone();
    tokio::task::spawn_blocking(move || index.rebuild(&entries))
        .await
        .map_err(|e| kefu_ai::AiError::Index(e.to_string()))??;
    st.bus.signal(Signal::KnowledgeImported {
        origin: st.leases.node().to_owned(),
    });
    Ok(())
}

/// Applies other nodes' knowledge changes until `shutdown`.
pub async fn run(st: AppState, shutdown: CancellationToken) {
    let mut signals = st.bus.signals();
    let mut every = tokio::time::interval_at(
        tokio::time::Instant::now() + RECONCILE_EVERY,
        RECONCILE_EVERY,
    );
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Unknown: the first reconciliation rebuilds once, covering any change made between the
    // index's first build and now.
    let mut seen = None;
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = every.tick() => reconcile(&st, &mut seen).await,
            s = signals.recv() => match s {
                Ok(s) => {
                    if let Signal::KnowledgeChanged { knowledge_id, origin } = &*s
                        && origin != st.leases.node()
                    {
                        apply(&st, *knowledge_id).await;
                    }
                    if let Signal::KnowledgeImported { origin } = &*s
                        && origin != st.leases.node()
                    {
                        seen = None;
                        reconcile(&st, &mut seen).await;
                    }
                }
                Err(RecvError::Lagged(_)) => {
                    seen = None;
                    reconcile(&st, &mut seen).await;
                }
                Err(RecvError::Closed) => return,
            },
        }
    }
}

/// Brings entry `id` of the index in line with the database.
async fn apply(st: &AppState, id: i64) {
    let index = st.bot.index();
    let done = match st.bot.knowledge().get(id).await {
        // A disabled entry leaves the index.
        Ok(entry) => index.upsert(&entry),
        Err(StoreError::NotFound(_)) => index.remove(id),
        Err(e) => {
            tracing::warn!(knowledge = id, error = %e, "Cannot read a changed knowledge entry; the next reconciliation applies it.");
            return;
        }
    };
    if let Err(e) = done {
        tracing::warn!(knowledge = id, error = %e, "Cannot update the knowledge index.");
    }
}

/// Rebuilds the index when the knowledge base changed since `seen` (or `seen` is unknown).
async fn reconcile(st: &AppState, seen: &mut Option<(i64, Option<DateTime<Utc>>)>) {
    let now = match st.bot.knowledge().fingerprint().await {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(error = %e, "Cannot read the knowledge base to reconcile the index.");
            return;
        }
    };
    if seen.as_ref() == Some(&now) {
        return;
    }
    let entries = match st.bot.knowledge().all_enabled().await {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(error = %e, "Cannot read the knowledge base to rebuild the index.");
            return;
        }
    };
    let index = st.bot.index().clone();
    match tokio::task::spawn_blocking(move || index.rebuild(&entries)).await {
        Ok(Ok(())) => *seen = Some(now),
        Ok(Err(e)) => tracing::warn!(error = %e, "Cannot rebuild the knowledge index."),
        Err(e) => tracing::warn!(error = %e, "Rebuilding the knowledge index stopped."),
    }
}
