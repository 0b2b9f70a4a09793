//! [`Leases`]: work that must run on one node at a time — an inbox's poller (an IMAP mailbox,
//! a WeCom account's sync cursor), the assigner, the housekeeping sweeps — has one owner, and
//! another node takes it over within seconds when the owner dies.
//!
//! Each node runs one keeper task ([`Leases::run`]). Every [`RENEW_EVERY`] it renews, in one
//! statement, every lease it holds, and tries, in one more, to take those it wants but does not
//! hold, that are free or have run out. A lease runs [`TTL`] past its renewal, by the database's
//! clock, so the nodes' clocks need not agree. [`Leases::run_held`] runs a piece of work only
//! while this node holds its lease, and cancels it when the lease is lost: the keeper could not
//! renew it in time (the database was unreachable, the node stalled), or another node holds it.
//! The work is cancelled before the lease can have run out: [`TTL`] minus [`MARGIN`] after the
//! last renewal began. A node shutting down releases its leases, so another takes them at its
//! next renewal instead of after [`TTL`].
//!
//! A killed node's leases run out after [`TTL`]; the next renewal of another node (at most
//! [`RENEW_EVERY`] later) takes them: a takeover within 8 s.
//!
//! On SQLite there is one process per database (a lock file refuses a second), so every lease
//! is held at once, with no table and no timer.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use tokio::sync::{Notify, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::db::Db;
use crate::error::StoreError;

/// How long a lease lasts past its last renewal.
pub const TTL: Duration = Duration::from_secs(6);

/// How often the keeper renews and takes leases.
pub const RENEW_EVERY: Duration = Duration::from_secs(2);

/// How long before a lease could run out its work is cancelled when renewals fail.
pub const MARGIN: Duration = Duration::from_secs(1);

/// The database's clock in milliseconds since the Unix epoch.
const NOW_MS: &str = "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)";

/// Leases of this node; cheap to clone.
#[derive(Clone)]
pub struct Leases {
    inner: Arc<Inner>,
}

struct Inner {
    /// `None` on SQLite: every lease is held.
    db: Option<Db>,
    node: String,
    /// The leases work is waiting for, each with the registration that wants it and until
    /// when this node holds it.
    wanted: Mutex<HashMap<String, Wanted>>,
    /// The last registration handed out.
    registrations: std::sync::atomic::AtomicU64,
    /// Something new is wanted: take it now rather than at the next renewal.
    wake: Notify,
}

impl std::fmt::Debug for Leases {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Leases")
            .field("node", &self.inner.node)
            .field("shared", &self.inner.db.is_some())
            .finish()
    }
}

impl Leases {
    /// The leases of this process on `db`: shared with other nodes on PostgreSQL, always held on
    /// SQLite. `node` names this process in the lease table (for operators); it must be unique
    /// among the running nodes, so it carries a random part.
    pub fn new(db: &Db, node: &str) -> Self {
        let suffix: u32 = rand::random();
        Self {
            inner: Arc::new(Inner {
                db: db.is_postgres().then(|| db.clone()),
                node: format!("{node}-{suffix:08x}"),
                wanted: Mutex::new(HashMap::new()),
                registrations: Default::default(),
                wake: Notify::new(),
            }),
        }
    }

    /// The name this node holds leases under.
    pub fn node(&self) -> &str {
        &self.inner.node
    }

    /// Whether this node holds `name` now.
    pub fn holds(&self, name: &str) -> bool {
        self.inner.db.is_none()
            || self
                .wanted()
                .get(name)
                .is_some_and(|w| w.until.borrow().is_some_and(|t| t > Instant::now()))
    }

    /// Runs `work` whenever this node holds the lease `name`, until `shutdown`. `work` gets a
    /// token cancelled when the lease is lost (or at shutdown) and must return soon after;
    /// it is started again when the lease is held again. Only one `run_held` per name at a time
    /// on one node.
    pub async fn run_held<F, Fut>(&self, name: &str, shutdown: CancellationToken, mut work: F)
    where
        F: FnMut(CancellationToken) -> Fut,
        Fut: Future<Output = ()>,
    {
        if self.inner.db.is_none() {
            work(shutdown).await;
            return;
        }
        let (registration, mut held) = self.want(name);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                changed = held.wait_for(|until| until.is_some_and(|t| t > Instant::now())) => {
                    if changed.is_err() { break }
                }
            }
            tracing::info!(lease = name, "Holding the lease; starting its work.");
            let stop = shutdown.child_token();
            let run = work(stop.clone());
            tokio::pin!(run);
            let done_by_itself = tokio::select! {
                () = &mut run => Some(()),
                () = lost(held.clone()) => {
                    tracing::warn!(lease = name, "Lost the lease; stopping its work.");
                    stop.cancel();
                    run.await;
                    None
                }
            };
            stop.cancel();
            // Work that ended by itself is done (a channel with nothing to poll).
            if shutdown.is_cancelled() || done_by_itself.is_some() {
                break;
            }
        }
        self.unwant(name, registration);
    }

    /// Wants the lease `name` for as long as the returned [`Held`] lives, for periodic work that
    /// asks before each run whether this node holds it. Only one per name at a time on one node.
    pub fn hold(&self, name: &str) -> Held {
        let (registration, rx) = match self.inner.db {
            Some(_) => {
                let (registration, rx) = self.want(name);
                (registration, Some(rx))
            }
            None => (0, None),
        };
        Held {
            rx,
            registration,
            name: name.to_owned(),
            leases: self.clone(),
        }
    }

    /// Registers work wanting `name` (replacing an earlier registration, whose work then stops).
    fn want(&self, name: &str) -> (u64, watch::Receiver<Option<Instant>>) {
        let registration = self
            .inner
            .registrations
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        let (tx, rx) = watch::channel(None);
        self.wanted().insert(
            name.to_owned(),
            Wanted {
                registration,
                until: tx,
            },
        );
        self.inner.wake.notify_one();
        (registration, rx)
    }

    /// Drops the registration, unless a newer one replaced it.
    fn unwant(&self, name: &str, registration: u64) {
        let mut wanted = self.wanted();
        if wanted
            .get(name)
            .is_some_and(|w| w.registration == registration)
        {
            wanted.remove(name);
            drop(wanted);
            self.inner.wake.notify_one();
        }
    }

    fn wanted(&self) -> std::sync::MutexGuard<'_, HashMap<String, Wanted>> {
        self.inner.wanted.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The keeper: renews and takes leases until `shutdown`, then releases them. Nothing to do
    /// on SQLite.
    pub async fn run(self, shutdown: CancellationToken) {
        let Some(db) = self.inner.db.clone() else {
            return;
        };
        loop {
            let began = Instant::now();
            // A renewal that hangs (the database unreachable) is given up in time for the next;
            // work stops on its own when its lease's deadline passes.
            tokio::select! {
                () = shutdown.cancelled() => break,
                renewed = tokio::time::timeout(RENEW_EVERY, self.renew(&db)) => match renewed {
                    Ok(Ok(held)) => self.publish(&held, began + TTL - MARGIN),
                    Ok(Err(e)) => tracing::warn!(error = %e, "Renewing leases failed; retrying."),
                    Err(_) => tracing::warn!("Renewing leases timed out; retrying."),
                },
            }
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = self.inner.wake.notified() => {}
                () = tokio::time::sleep_until(began + RENEW_EVERY) => {}
            }
        }
        self.release(&db).await;
    }

    /// Renews what this node holds and takes what it wants and is free; returns the names
    /// held now.
    async fn renew(&self, db: &Db) -> Result<BTreeSet<String>, StoreError> {
        let ttl_ms = i64::try_from(TTL.as_millis()).unwrap_or(i64::MAX);
        let node = self.inner.node.clone();
        let wanted: Vec<String> = self.wanted().keys().cloned().collect();
        let conn = db.conn();
        // Renew the held ones, and let go of those no longer wanted.
        let mut held: BTreeSet<String> = conn
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                format!(
                    "UPDATE leases SET expires_ms = {NOW_MS} + $1 \
                     WHERE holder = $2 AND name = ANY(CAST($3 AS text[])) RETURNING name"
                ),
                [ttl_ms.into(), node.clone().into(), wanted.clone().into()],
            ))
            .await?
            .iter()
            .filter_map(|r| r.try_get::<String>("", "name").ok())
            .collect();
        conn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "DELETE FROM leases WHERE holder = $1 AND NOT (name = ANY(CAST($2 AS text[])))",
            [node.clone().into(), wanted.clone().into()],
        ))
        .await?;
        let missing: Vec<String> = wanted.into_iter().filter(|n| !held.contains(n)).collect();
        if !missing.is_empty() {
            let taken = conn
                .query_all_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    format!(
                        "INSERT INTO leases (name, holder, expires_ms) \
                         SELECT n, $2, {NOW_MS} + $3 FROM unnest(CAST($1 AS text[])) AS n \
                         ON CONFLICT (name) DO UPDATE \
                         SET holder = excluded.holder, expires_ms = excluded.expires_ms \
                         WHERE leases.expires_ms < {NOW_MS} RETURNING name"
                    ),
                    [missing.into(), node.into(), ttl_ms.into()],
                ))
                .await?;
            for r in &taken {
                if let Ok(name) = r.try_get::<String>("", "name") {
                    tracing::info!(lease = %name, "Took the lease.");
                    held.insert(name);
                }
            }
        }
        metrics::gauge!("kefu_leases_held").set(held.len() as f64);
        Ok(held)
    }

    /// Tells each waiting piece of work until when it holds its lease (`None`: it does not).
    fn publish(&self, held: &BTreeSet<String>, until: Instant) {
        for (name, w) in self.wanted().iter() {
            let v = held.contains(name).then_some(until);
            w.until
                .send_if_modified(|old| std::mem::replace(old, v) != v);
        }
    }

    /// Gives up every lease of this node (at shutdown), so others need not wait for [`TTL`].
    async fn release(&self, db: &Db) {
        self.publish(&BTreeSet::new(), Instant::now());
        let released = db
            .conn()
            .execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "DELETE FROM leases WHERE holder = $1",
                [self.inner.node.clone().into()],
            ))
            .await;
        if let Err(e) = released {
            tracing::warn!(error = %e, "Releasing leases failed; other nodes take them when they run out.");
        }
    }
}

/// A registration of work wanting a lease.
struct Wanted {
    registration: u64,
    /// Until when this node holds the lease (`None`: it does not).
    until: watch::Sender<Option<Instant>>,
}

/// A lease this node wants, from [`Leases::hold`]; dropping it gives the lease up.
pub struct Held {
    /// `None` on SQLite: always held.
    rx: Option<watch::Receiver<Option<Instant>>>,
    registration: u64,
    name: String,
    leases: Leases,
}

impl Held {
    /// Whether this node holds the lease now.
    pub fn now(&self) -> bool {
        self.rx
            .as_ref()
            .is_none_or(|rx| rx.borrow().is_some_and(|t| t > Instant::now()))
    }

    /// Returns once this node holds the lease (at once when it does).
    pub async fn acquired(&mut self) {
        if let Some(rx) = &mut self.rx {
            // The sender lives in the wanted map until this guard drops.
            let _ = rx
                .wait_for(|until| until.is_some_and(|t| t > Instant::now()))
                .await;
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if self.rx.is_some() {
            self.leases.unwant(&self.name, self.registration);
        }
    }
}

/// Returns once the lease watched by `held` is no longer held: the keeper said so, or its
/// deadline passed without a renewal.
async fn lost(mut held: watch::Receiver<Option<Instant>>) {
    loop {
        let until = *held.borrow_and_update();
        let Some(until) = until else { return };
        tokio::select! {
            changed = held.changed() => if changed.is_err() { return },
            () = tokio::time::sleep_until(until) => return,
        }
    }
}
