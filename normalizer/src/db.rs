//! Database connection: one [`Db`] for SQLite (embedded) and PostgreSQL (production).

use std::sync::Arc;
use std::time::Duration;

use kefu_migrations::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, ExecResult, QueryResult, SqliteTransactionMode, Statement, TransactionOptions,
    TransactionTrait,
};
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::{Mutex, Notify, OwnedMutexGuard};

use crate::error::StoreError;

/// A connection pool plus what Kefu needs to know about its backend.
#[derive(Debug, Clone)]
pub struct Db {
    conn: DatabaseConnection,
    /// SQLite has one writer at a time. Queuing writers here, in arrival order, replaces
    /// SQLite's busy-wait (sleep and poll) with a fair hand-over, which keeps tail latency low.
    sqlite_writer: Option<Arc<Mutex<()>>>,
    /// Wakes the outbox relay when a write transaction that emitted events commits.
    outbox_wake: Arc<Notify>,
    /// Each inbox's channel type, which never changes once the inbox is stored.
    channel_types: ChannelTypes,
}

/// Inboxes' channel types by inbox id, read once per database: a type is set when the inbox
/// is created and never changed, so the map needs no invalidation, on one node or several.
#[derive(Debug, Clone, Default)]
pub(crate) struct ChannelTypes(Arc<std::sync::Mutex<std::collections::HashMap<i64, String>>>);

impl ChannelTypes {
    /// The channel type of inbox `inbox_id` (deleted or not), read through `conn` once.
    pub(crate) async fn get<C: ConnectionTrait>(
        &self,
        conn: &C,
        inbox_id: i64,
    ) -> Result<Option<String>, DbErr> {
        if let Some(t) = self.lock().get(&inbox_id) {
            return Ok(Some(t.clone()));
        }
        let t = crate::delivery::channel_type(conn, inbox_id).await?;
        if let Some(t) = &t {
            self.lock().insert(inbox_id, t.clone());
        }
        Ok(t)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<i64, String>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A write transaction. On SQLite it also holds the process-wide writer slot until it ends.
/// Events emitted in it ([`WriteTx::emit`]) wake the outbox relay when it commits.
pub struct WriteTx {
    tx: DatabaseTransaction,
    outbox_wake: Arc<Notify>,
    channel_types: ChannelTypes,
    emitted: AtomicBool,
    _slot: Option<OwnedMutexGuard<()>>,
    _held: Held,
}

/// A write transaction held this long is logged: on SQLite every other writer waits for it.
const LONG_WRITE: Duration = Duration::from_secs(2);

/// Where a write transaction was begun and when; logs it when it ends late.
struct Held {
    begun_at: &'static std::panic::Location<'static>,
    since: std::time::Instant,
}

impl Drop for Held {
    fn drop(&mut self) {
        let held = self.since.elapsed();
        if held >= LONG_WRITE {
            tracing::warn!(
                held_ms = u64::try_from(held.as_millis()).unwrap_or(u64::MAX),
                begun_at = %self.begun_at,
                "A write transaction was held for long; other writers waited for it."
            );
        }
    }
}

impl WriteTx {
    /// Commits, then wakes the outbox relay if events were emitted.
    pub async fn commit(self) -> Result<(), DbErr> {
        self.tx.commit().await?;
        if self.emitted.load(Ordering::Relaxed) {
            self.outbox_wake.notify_one();
        }
        Ok(())
    }

    /// Called by every outbox append: the relay is woken once this transaction commits.
    pub(crate) fn wake_relay_on_commit(&self) {
        self.emitted.store(true, Ordering::Relaxed);
    }

    /// The channel type of inbox `inbox_id`, cached for the database (see [`ChannelTypes`]).
    pub(crate) async fn channel_type(&self, inbox_id: i64) -> Result<Option<String>, DbErr> {
        self.channel_types.get(&self.tx, inbox_id).await
    }

    /// Rolls back.
    pub async fn rollback(self) -> Result<(), DbErr> {
        self.tx.rollback().await
    }
}

impl std::ops::Deref for WriteTx {
    type Target = DatabaseTransaction;

    fn deref(&self) -> &DatabaseTransaction {
        &self.tx
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for WriteTx {
    fn get_database_backend(&self) -> DbBackend {
        self.tx.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.tx.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.tx.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.tx.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.tx.query_all_raw(stmt).await
    }
}

/// Sets how long PostgreSQL lets a transaction of Kefu's sit idle before ending it.
const IDLE_IN_TRANSACTION_TIMEOUT: &str = "SET idle_in_transaction_session_timeout = '15s'";

impl Db {
    /// Connects to `url` (`sqlite://path?mode=rwc` or `postgres://...`). For SQLite, the parent
    /// folder is created and the file uses WAL so readers never block the writer.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let sqlite = url.starts_with("sqlite:");
        if let Some(path) = sqlite_path(url)
            && let Some(dir) = std::path::Path::new(&path)
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Unavailable(format!(
                    "cannot create database folder {}: {e}",
                    dir.display()
                ))
            })?;
        }
        let mut opts = ConnectOptions::new(url);
        // PostgreSQL: every connection is opened at start and kept. Growing the pool under load
        // opened connections in the middle of ingest groups (with TLS, ~90 ms each here: the
        // slowest 1 % of a 3,000 msg/s run waited for them), and a new connection prepares
        // every statement again.
        let min_connections = if sqlite { 1 } else { max_connections };
        opts.max_connections(max_connections)
            .min_connections(min_connections)
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(Duration::from_secs(10))
            .sqlx_logging(false);
        // sqlx pings a connection (a round trip to the server, or to SQLite's worker thread)
        // on every acquire by default, which under load doubled the round trips of a single
        // statement. A connection idle for a second or more is still pinged, so one broken
        // while the server was unreachable is found before it is used.
        opts.test_before_acquire_if_idle_for(Duration::from_secs(1));
        // Grouped ingest issues statements whose text varies with the group size; a larger cache
        // keeps them prepared instead of re-parsing and re-planning them on every group.
        opts.map_sqlx_postgres_opts(|o| o.statement_cache_capacity(2048));
        // A transaction left open between statements (its task stuck, or a node stopping in
        // the middle of one) keeps its row locks until it ends, and every node that touches
        // those rows waits behind it: in a cluster test, a stopping node left one open and the
        // other node's lease renewals and pool stalled for good. Kefu's transactions never
        // wait on anything but the database, so PostgreSQL may end one idle this long.
        opts.map_sqlx_postgres_pool_opts(|o| {
            o.after_connect(|conn, _| {
                Box::pin(async move {
                    use sea_orm::sqlx::Executor;
                    conn.execute(IDLE_IN_TRANSACTION_TIMEOUT).await.map(|_| ())
                })
            })
        });
        opts.map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                // Checkpoints run off the writers' path (`wal::run`); see `wal`.
                .pragma("wal_autocheckpoint", crate::wal::BACKSTOP_PAGES.to_string())
        });
        let conn = Database::connect(opts)
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot connect to the database: {e}")))?;
        if conn.get_database_backend() == DbBackend::Postgres {
            open_all(conn.get_postgres_connection_pool(), max_connections).await;
        }
        let sqlite_writer =
            (conn.get_database_backend() == DbBackend::Sqlite).then(|| Arc::new(Mutex::new(())));
        Ok(Self {
            conn,
            sqlite_writer,
            outbox_wake: Arc::new(Notify::new()),
            channel_types: ChannelTypes::default(),
        })
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        Migrator::up(&self.conn, None)
            .await
            .map_err(|e| StoreError::Unavailable(format!("migration failed: {e}")))
    }

    /// Closes every connection of the pool.
    pub async fn close(self) {
        if let Err(e) = self.conn.close().await {
            tracing::warn!(error = %e, "Closing the database pool failed.");
        }
    }

    /// The pool, for reads.
    pub fn conn(&self) -> &DatabaseConnection {
        &self.conn
    }

    /// What [`WriteTx::commit`] notifies after events were emitted: the outbox relay waits on
    /// it. Shared by every clone of this `Db`.
    pub fn outbox_wake(&self) -> Arc<Notify> {
        self.outbox_wake.clone()
    }

    /// The channel type of inbox `inbox_id`, cached (see [`ChannelTypes`]).
    pub(crate) async fn channel_type(&self, inbox_id: i64) -> Result<Option<String>, DbErr> {
        self.channel_types.get(&self.conn, inbox_id).await
    }

    /// `true` on PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.conn.get_database_backend() == DbBackend::Postgres
    }

    /// On SQLite, the process-wide writer slot that [`Db::begin_write`] takes, for a single
    /// write statement run on the pool outside a write transaction: held while the statement
    /// runs, it queues the statement fairly behind the writers already waiting instead of
    /// leaving it to SQLite's busy handler, which polls with sleeps of up to 100 ms and so can
    /// starve it behind back-to-back transactions. `None` on PostgreSQL.
    pub async fn write_slot(&self) -> Option<OwnedMutexGuard<()>> {
        match &self.sqlite_writer {
            Some(m) => Some(m.clone().lock_owned().await),
            None => None,
        }
    }

    /// Starts a transaction that will write. On SQLite it takes the write lock at `BEGIN`
    /// (`BEGIN IMMEDIATE`), so concurrent writers queue on the busy timeout instead of failing
    /// when a read transaction tries to upgrade.
    #[track_caller]
    pub fn begin_write(&self) -> impl Future<Output = Result<WriteTx, DbErr>> + Send + '_ {
        let begun_at = std::panic::Location::caller();
        async move {
            let slot = match &self.sqlite_writer {
                Some(m) => Some(m.clone().lock_owned().await),
                None => None,
            };
            let tx = self
                .conn
                .begin_with_options(TransactionOptions {
                    sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                    ..TransactionOptions::default()
                })
                .await?;
            Ok(WriteTx {
                tx,
                outbox_wake: self.outbox_wake.clone(),
                channel_types: self.channel_types.clone(),
                emitted: AtomicBool::new(false),
                _slot: slot,
                _held: Held {
                    begun_at,
                    since: std::time::Instant::now(),
                },
            })
        }
    }

    /// What in the database server's settings will make Kefu slow, each with what to do.
    pub async fn advice(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.is_postgres() {
            let autovacuum = self
                .conn
                .query_one_raw(Statement::from_string(
                    DbBackend::Postgres,
                    "SELECT current_setting('autovacuum') AS autovacuum",
                ))
                .await
                .ok()
                .flatten()
                .and_then(|row| row.try_get::<String>("", "autovacuum").ok());
            if autovacuum.as_deref() == Some("off") {
                out.push(
                    "PostgreSQL's autovacuum is off: tables are never analyzed, so prepared \
                     statements keep plans made for empty tables (sequential scans) and dead rows \
                     pile up. Turn autovacuum on, or run VACUUM ANALYZE regularly.",
                );
            }
        }
        out
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.conn
            .ping()
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))
    }
}

/// Opens every connection of the pool now, before serving, rather than in the background while
/// the first requests already wait for them.
async fn open_all(pool: &sea_orm::sqlx::PgPool, n: u32) {
    let mut opening = tokio::task::JoinSet::new();
    for _ in 0..n {
        let pool = pool.clone();
        opening.spawn(async move { pool.acquire().await });
    }
    let mut open = Vec::with_capacity(n as usize);
    while let Some(done) = opening.join_next().await {
        match done {
            Ok(Ok(c)) => open.push(c),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "Could not open every database connection at start; the pool opens them when needed.");
            }
            Err(_) => {}
        }
    }
}

/// The file of a `sqlite:` URL (`sqlite://kefu-data/kefu.db?mode=rwc` → `kefu-data/kefu.db`);
/// `None` for in-memory SQLite and other databases.
pub fn sqlite_path(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::sqlite_path;

    #[test]
    fn sqlite_paths() {
        assert_eq!(
            sqlite_path("sqlite://kefu-data/kefu.db?mode=rwc").as_deref(),
            Some("kefu-data/kefu.db")
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://localhost/kefu"), None);
    }
}
