//! Durable jobs on apalis, in the same database as everything else: apalis' SQLite storage
//! embedded, its Postgres storage in production. Two queues: one job per outbound message
//! attempt ([`SendJob`]) and one per webhook delivery attempt ([`WebhookJob`]).
//!
//! Jobs only say *what* to do; the state (a message's delivery status, a webhook delivery's
//! attempts) lives in Kefu's own tables, so a job that runs twice finds the work done and stops.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::channel::mpsc::{Receiver, Sender};

use apalis::prelude::{TaskBuilder, TaskSink};
use apalis_postgres::{PgPool, PostgresStorage};
use apalis_sqlite::{SqlitePool, SqliteStorage};
use kefu_normalizer::Db;
use serde::{Deserialize, Serialize};

/// Send one outbound message (attempt `attempt`, from 0).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendJob {
    /// The message.
    pub message_id: i64,
    /// Attempts made before this one.
    pub attempt: u32,
}

/// Make the next attempt of one webhook delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookJob {
    /// The delivery row.
    pub delivery_id: i64,
}

/// The apalis queue names.
pub const SEND_QUEUE: &str = "kefu.send";
/// See [`SEND_QUEUE`].
pub const WEBHOOK_QUEUE: &str = "kefu.webhook";

/// A job could not be queued or the job tables could not be created.
#[derive(Debug, thiserror::Error)]
#[error("job queue: {0}")]
pub struct JobError(pub String);

/// One job to push: what, when, and a key that makes pushing it twice harmless.
#[derive(Debug, Clone)]
pub struct NewJob<T> {
    /// The job.
    pub job: T,
    /// Run no earlier than this from now.
    pub delay: Option<Duration>,
    /// Pushing a second job with the same key does nothing.
    pub idempotency_key: Option<String>,
}

impl<T> NewJob<T> {
    /// A job due now, without a key.
    pub fn now(job: T) -> Self {
        Self {
            job,
            delay: None,
            idempotency_key: None,
        }
    }

    /// Sets the key.
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    /// Sets the delay.
    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = (!delay.is_zero()).then_some(delay);
        self
    }
}

/// The apalis storage for the database Kefu runs on.
#[derive(Clone, Debug)]
pub struct JobStore {
    backend: Backend,
    nudges: Arc<Nudges>,
}

/// Which apalis storage.
#[derive(Clone, Debug)]
pub enum Backend {
    /// Embedded.
    Sqlite(SqlitePool),
    /// Production.
    Postgres(PgPool),
}

/// Wakes this process's workers right after a push of jobs due now, and again when a delayed
/// job it pushed comes due, so neither waits for the next poll (which is then only the safety
/// net for jobs other nodes queued). PostgreSQL also has LISTEN/NOTIFY for inserts.
#[derive(Debug)]
struct Nudges {
    send: Nudge,
    webhook: Nudge,
}

/// A doorbell: a channel of one slot, so nudges nobody takes (a node without workers) cost
/// nothing, and nudges that arrive together wake the worker once.
#[derive(Debug)]
struct Nudge {
    tx: Mutex<Sender<()>>,
    rx: Mutex<Option<Receiver<()>>>,
}

impl Nudge {
    fn new() -> Self {
        let (tx, rx) = futures::channel::mpsc::channel(1);
        Self {
            tx: Mutex::new(tx),
            rx: Mutex::new(Some(rx)),
        }
    }

    /// The doorbell's receiving end: the one made with it the first time (it may hold a nudge
    /// rung before the worker started), a new one after that (a worker started again by its
    /// supervisor), which the doorbell then rings instead.
    fn take(&self) -> Receiver<()> {
        if let Some(rx) = self.rx.lock().unwrap_or_else(|p| p.into_inner()).take() {
            return rx;
        }
        let (tx, rx) = futures::channel::mpsc::channel(1);
        *self.tx.lock().unwrap_or_else(|p| p.into_inner()) = tx;
        rx
    }

    fn sender(&self) -> Sender<()> {
        self.tx.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn ring(&self) {
        // Full means a nudge is already waiting: that one will do.
        let _ = self.sender().try_send(());
    }

    /// Rings once the whole second `due` (Unix time, as apalis stores it) has begun.
    fn ring_at(&self, due: u64) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        // A little past the second, so the worker's clock has surely reached it.
        let wait = Duration::from_secs(due).saturating_sub(since) + Duration::from_millis(20);
        let mut tx = self.sender();
        runtime.spawn(async move {
            tokio::time::sleep(wait).await;
            let _ = tx.try_send(());
        });
    }
}

impl JobStore {
    /// The job store sharing `db`'s connection pool; creates apalis' tables when missing.
    pub async fn setup(db: &Db) -> Result<Self, JobError> {
        let err =
            |e: &dyn std::fmt::Display| JobError(format!("cannot create the job tables: {e}"));
        if db.is_postgres() {
            let pool = db.conn().get_postgres_connection_pool().clone();
            PostgresStorage::<()>::setup(&pool)
                .await
                .map_err(|e| err(&e))?;
            Ok(Self::with(Backend::Postgres(pool)))
        } else {
            let pool = db.conn().get_sqlite_connection_pool().clone();
            // apalis' `setup` would also switch the connection to `synchronous = OFF`; Kefu
            // keeps its own durability settings and only runs the migrations.
            SqliteStorage::<()>::migrations()
                .run(&pool)
                .await
                .map_err(|e| err(&e))?;
            Ok(Self::with(Backend::Sqlite(pool)))
        }
    }

    fn with(backend: Backend) -> Self {
        Self {
            backend,
            nudges: Arc::new(Nudges {
                send: Nudge::new(),
                webhook: Nudge::new(),
            }),
        }
    }

    /// The storage.
    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// The stream of nudges for `queue`'s worker; a worker started again gets a new one, and
    /// the stream handed out before stops receiving.
    pub(crate) fn take_nudges(&self, queue: &str) -> Option<Receiver<()>> {
        Some(self.nudge(queue)?.take())
    }

    fn nudge(&self, queue: &str) -> Option<&Nudge> {
        match queue {
            SEND_QUEUE => Some(&self.nudges.send),
            WEBHOOK_QUEUE => Some(&self.nudges.webhook),
            _ => None,
        }
    }

    /// Queues send jobs.
    pub async fn push_send(&self, jobs: Vec<NewJob<SendJob>>) -> Result<(), JobError> {
        self.push(SEND_QUEUE, jobs).await
    }

    /// Queues webhook jobs.
    pub async fn push_webhook(&self, jobs: Vec<NewJob<WebhookJob>>) -> Result<(), JobError> {
        self.push(WEBHOOK_QUEUE, jobs).await
    }

    async fn push<T>(&self, queue: &str, jobs: Vec<NewJob<T>>) -> Result<(), JobError>
    where
        T: Serialize + for<'de> Deserialize<'de> + Clone + Unpin + Send + Sync + 'static,
    {
        if jobs.is_empty() {
            return Ok(());
        }
        let err = |e: &dyn std::fmt::Display| JobError(format!("cannot queue a job: {e}"));
        let due_now = jobs.iter().any(|j| j.delay.is_none());
        // One clock reading for the stored due times and the wake-ups at them.
        let now = std::time::SystemTime::now();
        let due_later: std::collections::BTreeSet<u64> = jobs
            .iter()
            .filter_map(|j| j.delay.map(|d| due_second(now, d)))
            .collect();
        match &self.backend {
            Backend::Sqlite(pool) => {
                let mut s = SqliteStorage::<T>::new(pool)
                    .with_config(apalis_sqlite::Config::default().queue(queue));
                // One bulk insert for the batch, not a round trip per job.
                s.push_all(futures::stream::iter(
                    jobs.into_iter().map(|j| task(j, now)),
                ))
                .await
                .map_err(|e| err(&e))?;
            }
            Backend::Postgres(pool) => {
                // apalis' Postgres insert fails the whole batch on a key that exists (its
                // SQLite insert skips it): leave out keys already queued, and should another
                // node queue one meanwhile, look again.
                let mut jobs = unique_keys(jobs);
                let mut attempts = 0;
                loop {
                    attempts += 1;
                    jobs = without_queued(pool, queue, jobs)
                        .await
                        .map_err(|e| err(&e))?;
                    if jobs.is_empty() {
                        break;
                    }
                    let mut s = PostgresStorage::<T>::new(pool)
                        .with_config(apalis_postgres::Config::default().queue(queue));
                    match s
                        .push_all(futures::stream::iter(
                            jobs.iter().cloned().map(|j| task(j, now)),
                        ))
                        .await
                    {
                        Ok(()) => break,
                        Err(e) if attempts < 3 && is_unique_violation(&e) => continue,
                        Err(e) => return Err(err(&e)),
                    }
                }
            }
        }
        if let Some(n) = self.nudge(queue) {
            if due_now {
                n.ring();
            }
            for due in due_later {
                n.ring_at(due);
            }
        }
        Ok(())
    }
}

/// The apalis statuses of a job that will not run again.
macro_rules! finished_jobs {
    () => {
        "(status IN ('Done', 'Killed') OR (status = 'Failed' AND attempts >= max_attempts))"
    };
}

impl JobStore {
    /// Deletes up to `limit` jobs that finished (done, killed, or failed with no attempt
    /// left) more than `older_than` ago; returns how many. Jobs still due or running stay.
    pub async fn prune_finished(&self, older_than: Duration, limit: u32) -> Result<u64, JobError> {
        let err = |e: &dyn std::fmt::Display| JobError(format!("cannot prune finished jobs: {e}"));
        let deleted = match &self.backend {
            Backend::Sqlite(pool) => {
                let before = std::time::SystemTime::now()
                    .checked_sub(older_than)
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_secs() as i64);
                sea_orm::sqlx::query(concat!(
                    "DELETE FROM Jobs WHERE id IN (SELECT id FROM Jobs WHERE ",
                    finished_jobs!(),
                    " AND done_at IS NOT NULL AND done_at < ?1 LIMIT ?2)"
                ))
                .bind(before)
                .bind(i64::from(limit))
                .execute(pool)
                .await
                .map_err(|e| err(&e))?
                .rows_affected()
            }
            Backend::Postgres(pool) => sea_orm::sqlx::query(concat!(
                "DELETE FROM apalis.jobs WHERE id IN (SELECT id FROM apalis.jobs WHERE ",
                finished_jobs!(),
                " AND done_at IS NOT NULL AND done_at < NOW() - make_interval(secs => $1) LIMIT $2)"
            ))
            .bind(older_than.as_secs_f64())
            .bind(i64::from(limit))
            .execute(pool)
            .await
            .map_err(|e| err(&e))?
            .rows_affected(),
        };
        Ok(deleted)
    }
}

/// `jobs` with each idempotency key once (the first job that has it).
fn unique_keys<T>(jobs: Vec<NewJob<T>>) -> Vec<NewJob<T>> {
    let mut seen = std::collections::HashSet::new();
    jobs.into_iter()
        .filter(|j| {
            j.idempotency_key
                .as_ref()
                .is_none_or(|k| seen.insert(k.clone()))
        })
        .collect()
}

/// `jobs` without those whose idempotency key is already queued in `queue`.
async fn without_queued<T>(
    pool: &PgPool,
    queue: &str,
    mut jobs: Vec<NewJob<T>>,
) -> Result<Vec<NewJob<T>>, sea_orm::sqlx::Error> {
    let keys: Vec<String> = jobs
        .iter()
        .filter_map(|j| j.idempotency_key.clone())
        .collect();
    if keys.is_empty() {
        return Ok(jobs);
    }
    let queued: std::collections::HashSet<String> = sea_orm::sqlx::query_scalar(
        "SELECT idempotency_key FROM apalis.jobs WHERE job_type = $1 AND idempotency_key = ANY($2)",
    )
    .bind(queue)
    .bind(&keys)
    .fetch_all(pool)
    .await?
    .into_iter()
    .collect();
    jobs.retain(|j| {
        j.idempotency_key
            .as_ref()
            .is_none_or(|k| !queued.contains(k))
    });
    Ok(jobs)
}

/// Whether apalis' insert failed on a unique index (a key queued concurrently).
fn is_unique_violation(e: &(dyn std::error::Error + 'static)) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    let mut cur = Some(e);
    while let Some(e) = cur {
        let db = match (
            e.downcast_ref::<apalis_postgres::Error>(),
            e.downcast_ref::<Sqlx>(),
        ) {
            (Some(apalis_postgres::Error::Database(Sqlx::Database(d))), _)
            | (_, Some(Sqlx::Database(d))) => Some(d),
            _ => None,
        };
        if let Some(d) = db {
            return d.is_unique_violation();
        }
        cur = e.source();
    }
    false
}

/// The whole second (Unix time) a job delayed by `delay` from `now` is due. apalis stores whole
/// seconds and compares them with the current second, so a truncated time could run the job up
/// to a second early: rounded up instead ("no earlier than").
fn due_second(now: std::time::SystemTime, delay: Duration) -> u64 {
    let due = now + delay;
    let since = due
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    since.as_secs() + u64::from(since.subsec_nanos() > 0)
}

fn task<T>(j: NewJob<T>, now: std::time::SystemTime) -> apalis::prelude::Task<T> {
    let mut b = TaskBuilder::new(j.job);
    if let Some(d) = j.delay {
        b = b.run_at_timestamp(due_second(now, d));
    }
    if let Some(k) = j.idempotency_key {
        b = b.idempotency_key(k);
    }
    b.build()
}
