//! `kefu-bench ingest --metrics true`: what writing the reports' metric events (and their
//! hourly and daily rollups) adds to ingest.
//!
//! The outbox consumer writes them ([`Metrics::record`]), one batch at a time, after ingest
//! committed the events. The bench drains the outbox through a relay whose only consumer is
//! [`Metrics`], timing the `record` calls alone (not the relay's own reads and marks, which
//! run whether or not reports exist), and compares that time with the time ingest took for
//! the same messages: on one database writer, the share is what metric writing takes from
//! ingest's throughput.
//!
//! `--relay plain|metrics` measures the same end to end instead: a relay runs while the
//! messages come in (with [`Metrics`] as its consumer, or none), and the clock stops when it
//! has caught up; the two runs' throughputs differ by what metric writing costs.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kefu_normalizer::reports::Metrics;
use kefu_normalizer::{ConsumeError, Db, Event, InProcessBus, OutboxConsumer, OutboxRelay};

/// Records metrics and counts the time it took.
pub struct Timed {
    metrics: Metrics,
    nanos: AtomicU64,
    events: AtomicUsize,
}

#[async_trait::async_trait]
impl OutboxConsumer for Timed {
    async fn consume(&self, events: &[Arc<Event>]) -> Result<(), ConsumeError> {
        let started = Instant::now();
        self.metrics.record(events).await?;
        let spent = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.nanos.fetch_add(spent, Ordering::Relaxed);
        self.events.fetch_add(events.len(), Ordering::Relaxed);
        Ok(())
    }
}

/// Relays every committed event of `db` to [`Metrics`]; returns the time spent recording and
/// how many events were relayed.
pub async fn drain(db: &Db) -> anyhow::Result<(Duration, usize)> {
    let timed = Arc::new(Timed {
        metrics: Metrics::new(db.clone()),
        nanos: AtomicU64::new(0),
        events: AtomicUsize::new(0),
    });
    let relay =
        OutboxRelay::new(db.clone(), Arc::new(InProcessBus::new(1024))).consumer(timed.clone());
    while relay
        .relay_batch()
        .await
        .map_err(|e| anyhow::anyhow!("relaying the outbox: {e}"))?
        > 0
    {}
    Ok((
        Duration::from_nanos(timed.nanos.load(Ordering::Relaxed)),
        timed.events.load(Ordering::Relaxed),
    ))
}

/// What relays the outbox during a measured run (`--relay`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relay {
    /// Publishes and marks, with no consumer.
    Plain,
    /// Also writes the metric events and rollups.
    Metrics,
}

impl Relay {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plain => "plain",
            Self::Metrics => "metrics",
        }
    }
}

impl std::str::FromStr for Relay {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "plain" => Ok(Self::Plain),
            "metrics" => Ok(Self::Metrics),
            other => anyhow::bail!("--relay: `plain` or `metrics`, not `{other}`"),
        }
    }
}

/// Starts a relay of `kind` over `db`; cancelling the token makes it drain what is committed
/// and end.
pub fn spawn(
    db: &Db,
    kind: Relay,
) -> (
    tokio_util::sync::CancellationToken,
    tokio::task::JoinHandle<()>,
) {
    let mut relay = OutboxRelay::new(db.clone(), Arc::new(InProcessBus::new(1024)));
    if kind == Relay::Metrics {
        relay = relay.consumer(Arc::new(Timed {
            metrics: Metrics::new(db.clone()),
            nanos: AtomicU64::new(0),
            events: AtomicUsize::new(0),
        }));
    }
    let stop = tokio_util::sync::CancellationToken::new();
    (stop.clone(), tokio::spawn(relay.run(stop)))
}
