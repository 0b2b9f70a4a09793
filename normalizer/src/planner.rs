//! The query planner's statistics on SQLite. Without them SQLite guesses that a condition such
//! as `status IN (...)` picks few rows and sorts what it picks, where reading an index in the
//! list's order stops after one page: measured on 100,000 conversations, the "waiting" and
//! "priority" sorts and an agent's own view took 60–190 ms a page without statistics and a
//! few milliseconds with them (BENCHMARKS.md, "Conversation list").
//!
//! SQLite keeps the statistics in the database file (`sqlite_stat1`) and refreshes them only
//! when asked; its documentation advises `PRAGMA optimize` when a long-lived connection opens
//! and then periodically. [`run`] does that at start and every [`EVERY`]: `0x10002` looks at
//! every table and analyzes those that were never analyzed or whose size changed much since,
//! within a bounded sample, so a run takes milliseconds. PostgreSQL's autovacuum keeps its own
//! statistics; nothing to do there.

use std::time::Duration;

use sea_orm::ConnectionTrait;
use tokio_util::sync::CancellationToken;

use crate::Db;

/// How often the statistics are refreshed.
pub const EVERY: Duration = Duration::from_secs(3600);

/// Refreshes SQLite's planner statistics now, for the tables that need it.
pub async fn refresh(db: &Db) -> Result<(), sea_orm::DbErr> {
    if db.is_postgres() {
        return Ok(());
    }
    db.conn()
        .execute_unprepared("PRAGMA optimize=0x10002")
        .await
        .map(|_| ())
}

/// Refreshes the statistics at start and every [`EVERY`] until `shutdown`.
pub async fn run(db: Db, shutdown: CancellationToken) {
    if db.is_postgres() {
        return;
    }
    loop {
        if let Err(e) = refresh(&db).await {
            tracing::warn!(error = %e, "Refreshing the query planner's statistics failed.");
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(EVERY) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pragma analyzes a table that was never analyzed (SQLite's own rules decide which:
    /// this checks that the bundled SQLite's do what the module relies on).
    #[tokio::test]
    async fn a_grown_table_gets_statistics() -> anyhow::Result<()> {
        let db = Db::connect("sqlite::memory:", 1).await?;
        let conn = db.conn();
        conn.execute_unprepared(
            "CREATE TABLE grown (id INTEGER PRIMARY KEY, status TEXT NOT NULL); \
             CREATE INDEX ix_grown_status ON grown (status); \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000) \
             INSERT INTO grown (status) SELECT CASE i % 3 WHEN 0 THEN 'a' ELSE 'b' END FROM n",
        )
        .await?;
        refresh(&db).await?;
        let stats = conn
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Sqlite,
                "SELECT stat FROM sqlite_stat1 WHERE idx = 'ix_grown_status'",
            ))
            .await?
            .map(|r| r.try_get::<String>("", "stat"))
            .transpose()?;
        let stats = stats.expect("statistics for the index");
        assert!(stats.starts_with("5000 "), "{stats}");
        Ok(())
    }
}
