//! The event bus a node starts with: in process on one node, Redis across several, with the
//! counters the nodes share on the same Redis.

use std::sync::Arc;
use std::time::Duration;

use kefu_channel::SharedCounters;
use kefu_normalizer::{EventBus, InProcessBus, RedisBus};
use tokio_util::sync::CancellationToken;

use crate::app::StartError;
use crate::config::Config;

/// Events buffered per local subscriber before it lags (and refetches what it missed).
const BUS_CAPACITY: usize = 4096;

/// How long a start waits for the Redis bus's subscription before serving without it.
const BUS_JOIN_WAIT: Duration = Duration::from_secs(3);

/// The Redis bus when `redis_url` is set (waiting briefly until it is subscribed, so this node
/// hears the others' events from its first request), with the counters the nodes share on the
/// same Redis; the in-process bus otherwise, and no shared counters. An unreachable Redis does
/// not stop the start: the bus retries and `/readyz` says `degraded`.
pub(crate) async fn event_bus(
    config: &Config,
    shutdown: &CancellationToken,
) -> Result<(Arc<dyn EventBus>, Option<Arc<dyn SharedCounters>>), StartError> {
    let Some(url) = &config.redis_url else {
        return Ok((Arc::new(InProcessBus::new(BUS_CAPACITY)), None));
    };
    let namespace = &config.redis_namespace;
    let bus = RedisBus::start(url, namespace, BUS_CAPACITY, shutdown.child_token())
        .map_err(|e| StartError(e.to_string()))?;
    if bus.wait_subscribed(BUS_JOIN_WAIT).await {
        tracing::info!(%namespace, "Joined the Redis event bus.");
    } else {
        tracing::warn!(%namespace, "Redis did not answer; serving without the bus until it does.");
    }
    let counters = Arc::new(bus.counters(namespace, shutdown.child_token()));
    Ok((Arc::new(bus), Some(counters)))
}
