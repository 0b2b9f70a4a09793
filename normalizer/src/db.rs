//! Database connection: one [`Db`] for SQLite (embedded) and PostgreSQL (production).

use std::time::Duration;

use kefu_migrations::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

use crate::error::StoreError;

/// A connection pool plus what Kefu needs to know about its backend.
#[derive(Debug, Clone)]
pub struct Db {
    conn: DatabaseConnection,
}

impl Db {
    /// Connects to `url` (`sqlite://path?mode=rwc` or `postgres://...`). For SQLite, the parent
    /// folder is created and the file uses WAL so readers never block the writer.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        if let Some(path) = sqlite_path(url) {
            if let Some(dir) = std::path::Path::new(&path)
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
        }
        let mut opts = ConnectOptions::new(url);
        opts.max_connections(max_connections)
            .min_connections(1)
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(Duration::from_secs(10))
            .sqlx_logging(false);
        opts.map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        });
        let conn = Database::connect(opts)
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot connect to the database: {e}")))?;
        Ok(Self { conn })
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        Migrator::up(&self.conn, None)
            .await
            .map_err(|e| StoreError::Unavailable(format!("migration failed: {e}")))
    }

    /// The pool, for reads.
    pub fn conn(&self) -> &DatabaseConnection {
        &self.conn
    }

    /// `true` on PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.conn.get_database_backend() == DbBackend::Postgres
    }

    /// Starts a transaction that will write. On SQLite it takes the write lock at `BEGIN`
    /// (`BEGIN IMMEDIATE`), so concurrent writers queue on the busy timeout instead of failing
    /// when a read transaction tries to upgrade.
    pub async fn begin_write(&self) -> Result<DatabaseTransaction, DbErr> {
        self.conn
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..TransactionOptions::default()
            })
            .await
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.conn
            .ping()
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))
    }
}

fn sqlite_path(url: &str) -> Option<String> {
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
