//! The apalis workers of one process: the send queue and the webhook queue, each on the
//! storage Kefu runs on, until shutdown, and their housekeeping (the shared lost-job
//! [sweep](super::lease::Sweep)).
//!
//! Each worker is supervised: when it stops on an error (its backend failed: the database was
//! unreachable longer than the pool waits), it is marked down in [`WorkerHealth`] and started
//! again after a backoff of 0.5 s doubling to 30 s, so replies and webhooks resume by themselves
//! when the database is back. Jobs a stopped worker held are taken over by apalis' heartbeat;
//! the sweep re-queues anything lost.

use kefu_normalizer::fallback::Fallbacks;
use std::sync::Arc;
use std::time::{Duration, Instant};

use apalis::prelude::BackendExt as _;
use apalis::prelude::{BoxDynError, Data, Strategy, WorkerBuilder, WorkerBuilderExt};
use apalis_postgres::{PostgresStorage, Pubsub};
use apalis_sqlite::SqliteStorage;
use futures::StreamExt;
use kefu_normalizer::leases::Leases;
use tokio_util::sync::CancellationToken;

use super::health::WorkerHealth;
use super::jobs::{Backend, JobStore, SEND_QUEUE, SendJob, WEBHOOK_QUEUE, WebhookJob};
use super::lease::Sweep;
use super::send::Sender;
use super::webhook::WebhookDeliverer;

/// Worker settings.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Sends in flight at once (waiting for a rate limiter counts).
    pub send_concurrency: usize,
    /// Webhook attempts in flight at once.
    pub webhook_concurrency: usize,
    /// How often idle workers look for delayed jobs that came due.
    pub poll_interval: Duration,
    /// apalis' worker heartbeat; jobs of a worker silent for two beats are taken over.
    pub heartbeat: Duration,
    /// Jobs fetched (and locked) per query.
    pub fetch_batch: usize,
    /// How often the housekeeping looks for lost deliveries.
    pub sweep_interval: Duration,
    /// A reply waiting this long past its due time with nobody sending it is re-queued.
    pub stuck_after: Duration,
    /// Finished jobs are deleted this long after they finished.
    pub keep_finished: Duration,
    /// A web chat reply still unseen this long after it was sent goes out by email too, where
    /// the inbox has fallback on ([`Fallbacks::unseen_web_replies`]).
    pub unseen_after: Duration,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            send_concurrency: 32,
            webhook_concurrency: 64,
            poll_interval: Duration::from_millis(500),
            heartbeat: Duration::from_secs(30),
            fetch_batch: 50,
            sweep_interval: Duration::from_secs(30),
            stuck_after: Duration::from_secs(300),
            keep_finished: Duration::from_secs(24 * 3600),
            unseen_after: Duration::from_secs(300),
        }
    }
}

async fn send_job(job: SendJob, sender: Data<Arc<Sender>>) -> Result<(), BoxDynError> {
    sender.run(job).await.map_err(|e| {
        tracing::warn!(error = %e, "A send job failed; apalis retries it.");
        BoxDynError::from(e)
    })
}

async fn webhook_job(
    job: WebhookJob,
    deliverer: Data<Arc<WebhookDeliverer>>,
) -> Result<(), BoxDynError> {
    deliverer.run(job).await.map_err(|e| {
        tracing::warn!(error = %e, "A webhook job failed; apalis retries it.");
        BoxDynError::from(e)
    })
}

async fn stopped(shutdown: CancellationToken) -> Result<(), std::io::Error> {
    shutdown.cancelled().await;
    Ok(())
}

fn worker_name(queue: &str) -> String {
    format!("{queue}@{}", kefu_normalizer::token::random(8))
}

/// The first wait before a stopped worker is started again; it doubles up to
/// [`RESTART_MAX`] while the worker keeps stopping.
const RESTART_MIN: Duration = Duration::from_millis(500);
/// The longest wait between restarts.
const RESTART_MAX: Duration = Duration::from_secs(30);
/// A worker that ran this long before stopping starts again after [`RESTART_MIN`].
const RESTART_RESET: Duration = Duration::from_secs(60);

/// What the housekeeping loop needs beyond the workers: the lease that makes one node run
/// the sweeps, and the store that emails web chat replies left unseen.
pub struct Housekeeping {
    /// Where the `housekeeping` lease is held.
    pub leases: Leases,
    /// Unseen web chat replies, sent again by email.
    pub fallbacks: Fallbacks,
}

/// Runs both workers, supervised, until `shutdown`, reporting their state in `health`.
pub async fn run(
    jobs: JobStore,
    sender: Arc<Sender>,
    deliverer: Arc<WebhookDeliverer>,
    settings: WorkerSettings,
    health: WorkerHealth,
    Housekeeping { leases, fallbacks }: Housekeeping,
    shutdown: CancellationToken,
) {
    // Housekeeping: forget idle recipients' limiters; re-queue replies and webhook deliveries
    // whose job was lost (a crash between recording and queueing, a job apalis gave up on) and
    // prune finished jobs. The limiters are this node's; the sweeps and pruning run on the
    // node holding the lease `housekeeping`.
    let housekeeping = {
        let held = leases.hold("housekeeping");
        let sweeps: [Arc<dyn Sweep>; 2] = [sender.sweeper(settings.stuck_after), deliverer.clone()];
        let sender = sender.clone();
        let shutdown = shutdown.clone();
        let every = settings.sweep_interval;
        let jobs = jobs.clone();
        let keep = settings.keep_finished;
        let unseen_after = settings.unseen_after;
        async move {
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(every) => {
                        sender.limiters().shrink();
                        if !held.now() {
                            continue;
                        }
                        for s in &sweeps {
                            match s.sweep().await {
                                Ok(0) => {}
                                Ok(n) => tracing::warn!(count = n, what = s.what(), "Re-queued work whose job was lost."),
                                Err(e) => tracing::warn!(what = s.what(), error = %e, "Sweeping for lost jobs failed."),
                            }
                        }
                        prune(&jobs, keep).await;
                        match fallbacks.unseen_web_replies(unseen_after, chrono::Utc::now()).await {
                            Ok(0) => {}
                            Ok(n) => tracing::info!(count = n, "Sent unseen web chat replies by email."),
                            Err(e) => tracing::warn!(error = %e, "Looking for unseen web chat replies failed."),
                        }
                    }
                }
            }
        }
    };
    // Each worker and the housekeeping run as tasks of their own. apalis fetches whenever its
    // worker's task is polled (its poll strategy only adds wake-ups), and futures joined in one
    // task are all polled whenever any of them is woken: joined, one worker's fetch finishing
    // made the other fetch, whose reply made the first fetch again — about a thousand empty
    // fetches a second on an idle server, half a core on SQLite.
    let send = tokio::spawn(supervise(
        Queue {
            jobs: jobs.clone(),
            name: SEND_QUEUE,
            settings: settings.clone(),
            concurrency: settings.send_concurrency,
            shutdown: shutdown.clone(),
        },
        health.clone(),
        sender,
        send_job,
    ));
    let hooks = tokio::spawn(supervise(
        Queue {
            jobs,
            name: WEBHOOK_QUEUE,
            settings: settings.clone(),
            concurrency: settings.webhook_concurrency,
            shutdown: shutdown.clone(),
        },
        health,
        deliverer,
        webhook_job,
    ));
    let housekeeping = tokio::spawn(housekeeping);
    for (what, task) in [
        ("send worker", send),
        ("webhook worker", hooks),
        ("housekeeping", housekeeping),
    ] {
        if let Err(e) = task.await {
            tracing::error!(task = what, error = %e, "A job task panicked.");
        }
    }
}

/// Deletes finished jobs older than `keep`, in bounded batches so one pass never holds the
/// job table for long.
async fn prune(jobs: &JobStore, keep: Duration) {
    const BATCH: u32 = 1000;
    let mut total = 0;
    loop {
        match jobs.prune_finished(keep, BATCH).await {
            Ok(n) => {
                total += n;
                if n < u64::from(BATCH) {
                    break;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "Pruning finished jobs failed.");
                break;
            }
        }
    }
    if total > 0 {
        metrics::counter!("kefu_jobs_pruned_total").increment(total);
        tracing::debug!(count = total, "Pruned finished jobs.");
    }
}

macro_rules! strategy {
    ($jobs:expr, $queue:expr, $settings:expr, $extra:expr) => {{
        let mut s = Strategy::new();
        if let Some(extra) = $extra {
            s = s.stream(extra);
        }
        if let Some(n) = $jobs.take_nudges($queue) {
            s = s.stream(n.ready_chunks(256));
        }
        s.stream(ticks($settings.poll_interval))
    }};
}

/// A poll every `period`, as a stream that re-arms its timer each time it is polled.
///
/// apalis' own interval strategy starts its next timer without polling it after a tick; when
/// the fetch that tick caused comes back empty (a retry due a moment later), nothing wakes the
/// worker again until some other job is queued (on a loaded machine, webhook retries waited
/// past the tests' 20 s). `ready_chunks` polls the ticker again after each tick, so the next
/// one always has a waker.
fn ticks(period: Duration) -> impl futures::Stream<Item = Vec<()>> + Unpin + Send + Sync {
    let mut every = tokio::time::interval(period);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    Box::pin(futures::stream::unfold(every, |mut every| async move {
        every.tick().await;
        Some(((), every))
    }))
    .ready_chunks(16)
}

/// One queue's worker settings.
struct Queue {
    jobs: JobStore,
    name: &'static str,
    settings: WorkerSettings,
    concurrency: usize,
    shutdown: CancellationToken,
}

/// Runs the worker of `q` until shutdown, starting it again with backoff whenever it stops.
async fn supervise<Args, D, F, Fut>(q: Queue, health: WorkerHealth, data: D, handler: F)
where
    Args: serde::Serialize + for<'de> serde::Deserialize<'de> + Unpin + Send + Sync + 'static,
    D: Clone + Send + Sync + 'static,
    F: Fn(Args, Data<D>) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), BoxDynError>> + Send + 'static,
{
    let mut wait = RESTART_MIN;
    loop {
        health.up(q.name);
        let started = Instant::now();
        let result = run_queue(&q, data.clone(), handler.clone()).await;
        if q.shutdown.is_cancelled() {
            return;
        }
        let error = result
            .err()
            .unwrap_or_else(|| "the worker stopped without an error".to_owned());
        health.down(q.name, error.clone());
        if started.elapsed() >= RESTART_RESET {
            wait = RESTART_MIN;
        }
        tracing::warn!(queue = q.name, %error, retry_in = ?wait, "A job worker stopped; starting it again.");
        tokio::select! {
            _ = q.shutdown.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
        wait = (wait * 2).min(RESTART_MAX);
    }
}

/// Runs the worker of `q` once: until shutdown, or until it stops on an error.
async fn run_queue<Args, D, F, Fut>(q: &Queue, data: D, handler: F) -> Result<(), String>
where
    Args: serde::Serialize + for<'de> serde::Deserialize<'de> + Unpin + Send + Sync + 'static,
    D: Clone + Send + Sync + 'static,
    F: Fn(Args, Data<D>) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), BoxDynError>> + Send + 'static,
{
    let (jobs, queue, settings, shutdown, concurrency) =
        (&q.jobs, q.name, &q.settings, &q.shutdown, q.concurrency);
    let result = match jobs.backend() {
        Backend::Sqlite(pool) => {
            let config = apalis_sqlite::Config::default()
                .queue(queue)
                .batch_size(settings.fetch_batch)
                // Marks each job done (its result is `()`), so a restart re-runs only jobs
                // that were really in flight, and the housekeeping can prune finished ones.
                .persist_results(true)
                .heartbeat_interval(settings.heartbeat);
            let strategy = strategy!(jobs, queue, settings, None::<futures::stream::Empty<()>>);
            let backend = SqliteStorage::<Args>::new(pool)
                .with_config(config)
                .poll_with_strategy(strategy);
            WorkerBuilder::new(worker_name(queue))
                .backend(backend)
                .data(data)
                .concurrency(concurrency)
                .build(handler)
                .run_until(stopped(shutdown.clone()))
                .await
        }
        Backend::Postgres(pool) => {
            let config = apalis_postgres::Config::default()
                .queue(queue)
                .batch_size(settings.fetch_batch)
                // Marks each job done (its result is `()`), so a restart re-runs only jobs
                // that were really in flight, and the housekeeping can prune finished ones.
                .persist_results(true)
                .heartbeat_interval(settings.heartbeat);
            let pubsub = Pubsub::new(pool.clone(), queue.to_owned());
            let strategy = strategy!(jobs, queue, settings, Some(pubsub));
            let backend = PostgresStorage::<Args>::new(pool)
                .with_config(config)
                .poll_with_strategy(strategy);
            WorkerBuilder::new(worker_name(queue))
                .backend(backend)
                .data(data)
                .concurrency(concurrency)
                .build(handler)
                .run_until(stopped(shutdown.clone()))
                .await
        }
    };
    result.map_err(|e| e.to_string())
}
