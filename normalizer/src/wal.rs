//! SQLite's write-ahead log, copied back into the database file off the writers' path.
//!
//! By default SQLite checkpoints inside the commit that takes the log past 1,000 pages: that
//! commit waits for the copy and its two `fsync`s, and so does every write queued behind Kefu's
//! single writer slot. At 100 agent replies a second that was two checkpoints a second of 8 ms
//! on average and up to 18 ms each, the slowest replies of the run (BENCHMARKS.md, "SQLite's
//! checkpoints inside commits"). [`run`] checkpoints every [`EVERY`] from a pool connection
//! instead, in `PASSIVE` mode, which waits for no reader and no writer, and every connection
//! raises its own automatic checkpoint to [`BACKSTOP_PAGES`]: a safety net that only a process
//! without this task (or a log a long reader keeps from being copied) reaches. With nothing
//! written since the last checkpoint, a checkpoint copies nothing and syncs nothing.
//! PostgreSQL has its own checkpointer; nothing to do there.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use tokio_util::sync::CancellationToken;

use crate::Db;

/// How often the log is checkpointed.
pub const EVERY: Duration = Duration::from_millis(500);

/// The log size, in pages, at which a committing connection checkpoints by itself (SQLite's
/// `wal_autocheckpoint`; its default is 1,000). 16,000 pages of 4 KiB are 64 MiB.
pub const BACKSTOP_PAGES: u32 = 16_000;

/// What one checkpoint found and did, in log frames (pages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpointed {
    /// Frames in the log.
    pub log: i64,
    /// Frames of it now copied into the database file.
    pub copied: i64,
}

/// Copies what it can of the log into the database file now, without waiting for readers or
/// writers. `None` on PostgreSQL, or when the database is not in WAL mode.
pub async fn checkpoint(db: &Db) -> Result<Option<Checkpointed>, sea_orm::DbErr> {
    if db.is_postgres() {
        return Ok(None);
    }
    let row = db
        .conn()
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA wal_checkpoint(PASSIVE)",
        ))
        .await?;
    let Some(row) = row else { return Ok(None) };
    let log: i64 = row.try_get_by_index(1)?;
    let copied: i64 = row.try_get_by_index(2)?;
    // -1 and -1: not a WAL database (an in-memory one, say).
    Ok((log >= 0).then_some(Checkpointed { log, copied }))
}

/// Checkpoints every [`EVERY`] until `shutdown`.
pub async fn run(db: Db, shutdown: CancellationToken) {
    if db.is_postgres() {
        return;
    }
    let mut every = tokio::time::interval(EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = every.tick() => {}
        }
        match checkpoint(&db).await {
            Ok(_) if failing => {
                failing = false;
                tracing::info!("Checkpointing the database's write-ahead log works again.");
            }
            Ok(_) => {}
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(error = %e, "Checkpointing the database's write-ahead log failed; commits take it over once it grows.");
            }
            Err(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Connections leave the log to [`run`] up to the backstop, and a checkpoint copies every
    /// frame written before it into the database file.
    #[tokio::test]
    async fn commits_leave_the_log_to_the_checkpointer() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("wal.db");
        let url = format!("sqlite://{}?mode=rwc", file.display());
        let db = Db::connect(&url, 2).await?;
        let conn = db.conn();
        let auto = conn
            .query_one_raw(Statement::from_string(
                DbBackend::Sqlite,
                "PRAGMA wal_autocheckpoint",
            ))
            .await?
            .expect("a row")
            .try_get_by_index::<i64>(0)?;
        assert_eq!(auto, i64::from(BACKSTOP_PAGES));
        // About 1,500 pages: past SQLite's default threshold of 1,000, below the backstop.
        conn.execute_unprepared(
            "CREATE TABLE filler (id INTEGER PRIMARY KEY, body TEXT NOT NULL); \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 6000) \
             INSERT INTO filler (body) SELECT printf('%.1000c', 'x') FROM n",
        )
        .await?;
        // The rows are in the log only: the commit did not copy them.
        let before = std::fs::metadata(&file)?.len();
        assert!(before < 1 << 20, "the commit checkpointed: {before} bytes");
        let first = checkpoint(&db).await?.expect("a WAL database");
        assert!(first.log > 1000, "{first:?}");
        assert_eq!(first.copied, first.log, "{first:?}");
        let after = std::fs::metadata(&file)?.len();
        assert!(
            after > 6_000_000,
            "the checkpoint copied the rows: {after} bytes"
        );
        let memory = Db::connect("sqlite::memory:", 1).await?;
        assert_eq!(checkpoint(&memory).await?, None);
        Ok(())
    }
}
