//! [`ChannelState`] on the database: adapters' cursors survive restarts, their
//! [`exclusive`](ChannelState::exclusive) work runs on one node at a time, and what they
//! [`remember`](ChannelState::remember) (callback nonces seen) is one answer for every node.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use kefu_channel::{ChannelState, Exclusive, IngestError, LocalLocks};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Set, Statement,
    TransactionTrait, TryInsertResult,
};
use sha2::{Digest, Sha256};

use crate::db::Db;
use crate::entity::channel_state;

/// Per-inbox key/value state in the `channel_state` table.
#[derive(Debug, Clone)]
pub struct DbChannelState {
    db: Db,
    /// Holders within this node queue here first, so that a burst of callbacks waits on one
    /// database connection rather than one each.
    local: LocalLocks,
    /// Calls of [`ChannelState::remember`], which prunes the entries that ran out every
    /// [`PRUNE_EVERY`] calls.
    remembered: Arc<AtomicU64>,
}

/// The prefix of [`ChannelState::remember`]'s keys in the table.
const REMEMBERED: &str = "remembered:";
/// How often `remember` deletes the inbox's entries that ran out.
const PRUNE_EVERY: u64 = 64;

impl DbChannelState {
    /// State stored in `db`.
    pub fn new(db: Db) -> Self {
        Self {
            db,
            local: LocalLocks::default(),
            remembered: Arc::default(),
        }
    }

    /// Takes the advisory lock of `(inbox_id, key)` in a transaction that holds it until the
    /// transaction ends: dropping it rolls back, which releases the lock, also when this node
    /// dies (PostgreSQL ends the session).
    async fn advisory(
        &self,
        inbox_id: i64,
        key: &str,
        wait: Duration,
    ) -> Result<sea_orm::DatabaseTransaction, IngestError> {
        let unavailable = |e: sea_orm::DbErr| IngestError::Unavailable(e.to_string());
        let txn = self.db.conn().begin().await.map_err(unavailable)?;
        // `SET LOCAL` takes no bind parameters; the value is a number formatted here. This
        // transaction only holds the lock while its caller works (pages of a provider's API),
        // so it is exempt from the idle limit every other transaction has (`Db::connect`).
        let ms = wait.as_millis().clamp(1, i32::MAX as u128);
        txn.execute_unprepared(&format!(
            "SET LOCAL lock_timeout = {ms}; SET LOCAL idle_in_transaction_session_timeout = 0"
        ))
        .await
        .map_err(unavailable)?;
        let locked = txn
            .execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_advisory_xact_lock($1)",
                [lock_key(inbox_id, key).into()],
            ))
            .await;
        match locked {
            Ok(_) => Ok(txn),
            // 55P03 lock_not_available: the holder kept it past `wait`.
            Err(e) if e.to_string().contains("lock timeout") => {
                Err(kefu_channel::exclusive_busy(inbox_id, key, wait))
            }
            Err(e) => Err(unavailable(e)),
        }
    }
}

/// The advisory lock key of `(inbox_id, key)`: the first 8 bytes of a SHA-256 over both. The
/// one-argument `bigint` locks are a key space apart from the relay's two-argument ones.
fn lock_key(inbox_id: i64, key: &str) -> i64 {
    let digest = Sha256::new()
        .chain_update(inbox_id.to_be_bytes())
        .chain_update(key.as_bytes())
        .finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

#[async_trait]
impl ChannelState for DbChannelState {
    async fn get(&self, inbox_id: i64, key: &str) -> Result<Option<String>, IngestError> {
        channel_state::Entity::find_by_id((inbox_id, key.to_owned()))
            .one(self.db.conn())
            .await
            .map(|r| r.map(|r| r.value))
            .map_err(|e| IngestError::Unavailable(e.to_string()))
    }

    async fn put(&self, inbox_id: i64, key: &str, value: &str) -> Result<(), IngestError> {
        let row = channel_state::ActiveModel {
            inbox_id: Set(inbox_id),
            key: Set(key.to_owned()),
            value: Set(value.to_owned()),
            updated_at: Set(Utc::now()),
        };
        channel_state::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([channel_state::Column::InboxId, channel_state::Column::Key])
                    .update_columns([
                        channel_state::Column::Value,
                        channel_state::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec(self.db.conn())
            .await
            .map(|_| ())
            .map_err(|e| IngestError::Unavailable(e.to_string()))
    }

    async fn exclusive(
        &self,
        inbox_id: i64,
        key: &str,
        wait: Duration,
    ) -> Result<Exclusive, IngestError> {
        let started = tokio::time::Instant::now();
        let local = self.local.lock(inbox_id, key, wait).await?;
        // On SQLite one process owns the database (a lock file refuses a second), so the
        // in-process lock is the whole story.
        if !self.db.is_postgres() {
            return Ok(Exclusive::new(local));
        }
        let left = wait.saturating_sub(started.elapsed());
        let txn = self.advisory(inbox_id, key, left).await?;
        // Fields drop in order: the database lock goes first, then the next holder on this
        // node may try for it.
        Ok(Exclusive::new((txn, local)))
    }

    async fn remember(
        &self,
        inbox_id: i64,
        key: &str,
        value: &str,
        ttl: Duration,
    ) -> Result<Option<String>, IngestError> {
        let unavailable = |e: sea_orm::DbErr| IngestError::Unavailable(e.to_string());
        let key = format!("{REMEMBERED}{key}");
        let now = Utc::now();
        let cutoff = chrono::Duration::from_std(ttl)
            .ok()
            .and_then(|d| now.checked_sub_signed(d))
            .unwrap_or(chrono::DateTime::<Utc>::MIN_UTC);
        let conn = self.db.conn();
        if self
            .remembered
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(PRUNE_EVERY)
        {
            channel_state::Entity::delete_many()
                .filter(channel_state::Column::InboxId.eq(inbox_id))
                .filter(channel_state::Column::Key.starts_with(REMEMBERED))
                .filter(channel_state::Column::UpdatedAt.lt(cutoff))
                .exec(conn)
                .await
                .map_err(unavailable)?;
        }
        // A few rounds at most: each one either stores the value, finds a live one, or lost a
        // race with a prune or a takeover, after which the next round settles it.
        for _ in 0..3 {
            let row = channel_state::ActiveModel {
                inbox_id: Set(inbox_id),
                key: Set(key.clone()),
                value: Set(value.to_owned()),
                updated_at: Set(now),
            };
            // On the primary key (inbox, key): a conflict inserts nothing.
            let inserted = channel_state::Entity::insert(row)
                .on_conflict_do_nothing()
                .exec_without_returning(conn)
                .await
                .map_err(unavailable)?;
            if matches!(inserted, TryInsertResult::Inserted(n) if n > 0) {
                return Ok(None);
            }
            // Taken: by a live entry, or by one that ran out, which this call takes over.
            let taken_over = channel_state::Entity::update_many()
                .col_expr(channel_state::Column::Value, Expr::value(value))
                .col_expr(channel_state::Column::UpdatedAt, Expr::value(now))
                .filter(channel_state::Column::InboxId.eq(inbox_id))
                .filter(channel_state::Column::Key.eq(&key))
                .filter(channel_state::Column::UpdatedAt.lt(cutoff))
                .exec(conn)
                .await
                .map_err(unavailable)?;
            if taken_over.rows_affected > 0 {
                return Ok(None);
            }
            if let Some(live) = channel_state::Entity::find_by_id((inbox_id, key.clone()))
                .one(conn)
                .await
                .map_err(unavailable)?
            {
                return Ok(Some(live.value));
            }
        }
        Err(IngestError::Unavailable(format!(
            "could not remember {key} of inbox {inbox_id}: the entry kept changing"
        )))
    }
}
