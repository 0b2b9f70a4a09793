//! [`LoginFailures`]: the account half of the sign-in throttle, in the database so that every
//! node counts the same guesses. After [`ACCOUNT_FREE`] failures an account is locked for
//! [`backoff`] (1 s, doubling with each further failure, up to [`MAX_DELAY`]); a success clears
//! it, and failures an hour old are forgotten.
//!
//! Rows are keyed by the SHA-256 of the normalized email, whether or not an agent has it, so
//! the lock does not reveal which emails exist and the table stores none an attacker made up.
//! The caller passes the time, so the rules are tested without waiting.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, Set};

use crate::db::Db;
use crate::entity::login_failure::{self, Column as C};
use crate::error::StoreError;

/// Failed attempts on one account allowed before the backoff starts.
pub const ACCOUNT_FREE: u32 = 5;
/// The first lock; each further failure doubles it.
pub const BASE_DELAY: Duration = Duration::from_secs(1);
/// The longest lock.
pub const MAX_DELAY: Duration = Duration::from_secs(15 * 60);
/// Failures this old are forgotten.
pub const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);

/// The lock after `n` failures past the free ones: 1 s, 2 s, 4 s ... up to [`MAX_DELAY`].
pub fn backoff(n: u32) -> Duration {
    BASE_DELAY
        .checked_mul(1u32.checked_shl(n.min(20)).unwrap_or(u32::MAX))
        .unwrap_or(MAX_DELAY)
        .min(MAX_DELAY)
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// The record after one more failure at `now_ms`: `(failures, locked_until_ms)`.
fn after_failure(
    prev: Option<&login_failure::Model>,
    now_ms: i64,
    free: u32,
) -> (i32, Option<i64>) {
    let fresh = prev.filter(|p| now_ms.saturating_sub(p.last_failed_ms) <= millis(FORGET_AFTER));
    let failures = fresh.map_or(0, |p| p.failures).saturating_add(1);
    let mut locked = fresh.and_then(|p| p.locked_until_ms);
    let count = u32::try_from(failures).unwrap_or(u32::MAX);
    if count >= free {
        let until = now_ms.saturating_add(millis(backoff(count - free)));
        locked = Some(locked.map_or(until, |l| l.max(until)));
    }
    (failures, locked)
}

/// The row key of `email`.
fn account_key(email: &str) -> String {
    super::token_hash(&email.trim().to_lowercase())
}

/// Failed sign-ins per account; cheap to clone.
#[derive(Debug, Clone)]
pub struct LoginFailures {
    db: Db,
    /// Calls so far: every 1024th forgets old rows.
    calls: Arc<AtomicU64>,
}

impl LoginFailures {
    /// The store over `db`.
    pub fn new(db: Db) -> Self {
        Self {
            db,
            calls: Arc::default(),
        }
    }

    /// How long sign-ins of `email` must still wait at `now_ms`; `None` when they need not.
    pub async fn locked(&self, email: &str, now_ms: i64) -> Result<Option<Duration>, StoreError> {
        if self.calls.fetch_add(1, Ordering::Relaxed) % 1024 == 1023 {
            self.forget_old(now_ms).await?;
        }
        let row = login_failure::Entity::find_by_id(account_key(email))
            .one(self.db.conn())
            .await?;
        Ok(row
            .and_then(|r| r.locked_until_ms)
            .filter(|&until| until > now_ms)
            .map(|until| Duration::from_millis(u64::try_from(until - now_ms).unwrap_or(0))))
    }

    /// Counts a failed sign-in of `email` at `now_ms` (a wrong password, or an attempt while
    /// locked, so that hammering a locked account keeps it locked).
    pub async fn failed(&self, email: &str, now_ms: i64) -> Result<(), StoreError> {
        let key = account_key(email);
        let tx = self.db.begin_write().await?;
        let mut find = login_failure::Entity::find_by_id(key.clone());
        if self.db.is_postgres() {
            // SQLite's write transaction already excludes other writers.
            find = find.lock_exclusive();
        }
        let prev = find.one(&*tx).await?;
        let (failures, locked) = after_failure(prev.as_ref(), now_ms, ACCOUNT_FREE);
        let row = login_failure::ActiveModel {
            account: Set(key),
            failures: Set(failures),
            last_failed_ms: Set(now_ms),
            locked_until_ms: Set(locked),
        };
        // Two first failures at once on PostgreSQL may both write 1: a lost count, not a
        // lost lock, since locks only come with later failures, which find the row.
        login_failure::Entity::insert(row)
            .on_conflict(
                OnConflict::column(C::Account)
                    .update_columns([C::Failures, C::LastFailedMs, C::LockedUntilMs])
                    .to_owned(),
            )
            .exec(&*tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// After a successful sign-in: the account starts afresh.
    pub async fn succeeded(&self, email: &str) -> Result<(), StoreError> {
        login_failure::Entity::delete_by_id(account_key(email))
            .exec(self.db.conn())
            .await?;
        Ok(())
    }

    /// Deletes the rows whose last failure is older than [`FORGET_AFTER`] and whose lock ended.
    async fn forget_old(&self, now_ms: i64) -> Result<(), StoreError> {
        use sea_orm::sea_query::ExprTrait as _;
        login_failure::Entity::delete_many()
            .filter(C::LastFailedMs.lt(now_ms.saturating_sub(millis(FORGET_AFTER))))
            .filter(C::LockedUntilMs.is_null().or(C::LockedUntilMs.lt(now_ms)))
            .exec(self.db.conn())
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(failures: i32, last: i64, locked: Option<i64>) -> login_failure::Model {
        login_failure::Model {
            account: "k".into(),
            failures,
            last_failed_ms: last,
            locked_until_ms: locked,
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        assert_eq!(backoff(0), Duration::from_secs(1));
        assert_eq!(backoff(3), Duration::from_secs(8));
        assert_eq!(backoff(40), MAX_DELAY);
    }

    #[test]
    fn the_lock_starts_after_the_free_failures_doubles_and_is_forgotten_after_an_hour() {
        assert_eq!(after_failure(None, 1_000, 5), (1, None));
        assert_eq!(after_failure(Some(&row(3, 900, None)), 1_000, 5), (4, None));
        assert_eq!(
            after_failure(Some(&row(4, 900, None)), 1_000, 5),
            (5, Some(2_000))
        );
        assert_eq!(
            after_failure(Some(&row(6, 900, Some(3_000))), 1_000, 5),
            (7, Some(5_000))
        );
        // A longer lock already there stays.
        assert_eq!(
            after_failure(Some(&row(5, 900, Some(60_000))), 1_000, 5),
            (6, Some(60_000))
        );
        // An hour and more later the count starts again.
        let later = 900 + millis(FORGET_AFTER) + 1;
        assert_eq!(
            after_failure(Some(&row(9, 900, Some(2_000))), later, 5),
            (1, None)
        );
    }
}
