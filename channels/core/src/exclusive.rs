//! [`Exclusive`]: a hold on a piece of per-inbox work that must not overlap itself, such as a
//! pull that moves a sync cursor, and [`LocalLocks`], the in-process half of such holds.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::IngestError;

/// Held while work that must not overlap runs; dropping it lets the next holder in.
/// Returned by [`ChannelState::exclusive`](crate::ChannelState::exclusive).
#[must_use = "the hold ends when this is dropped"]
pub struct Exclusive(#[allow(dead_code)] Box<dyn Send>);

impl Exclusive {
    /// A hold that lasts as long as `guard`.
    pub fn new(guard: impl Send + 'static) -> Self {
        Self(Box::new(guard))
    }
}

impl std::fmt::Debug for Exclusive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Exclusive")
    }
}

/// The lock of each `(inbox, key)` used so far.
type LockMap = HashMap<(i64, String), Arc<tokio::sync::Mutex<()>>>;

/// One lock per `(inbox, key)` within this process. Holders queue in arrival order.
#[derive(Debug, Default, Clone)]
pub struct LocalLocks {
    locks: Arc<Mutex<LockMap>>,
}

impl LocalLocks {
    /// Waits at most `wait` for `key` of `inbox_id`, then holds it until the guard drops.
    pub async fn lock(
        &self,
        inbox_id: i64,
        key: &str,
        wait: Duration,
    ) -> Result<tokio::sync::OwnedMutexGuard<()>, IngestError> {
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
            // One entry per (inbox, key) ever used: a few per inbox, never dropped.
            locks.entry((inbox_id, key.to_owned())).or_default().clone()
        };
        tokio::time::timeout(wait, lock.lock_owned())
            .await
            .map_err(|_| exclusive_busy(inbox_id, key, wait))
    }
}

/// The error of a hold not had within `wait`.
pub fn exclusive_busy(inbox_id: i64, key: &str, wait: Duration) -> IngestError {
    IngestError::Unavailable(format!(
        "{key} of inbox {inbox_id} stayed held by other work for {} ms",
        wait.as_millis()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_holder_waits_for_the_first_and_gives_up_after_its_wait() {
        let locks = LocalLocks::default();
        let first = locks
            .lock(1, "k", Duration::from_secs(1))
            .await
            .expect("free");
        // Another key and another inbox are free.
        drop(locks.lock(1, "other", Duration::ZERO).await.expect("free"));
        drop(locks.lock(2, "k", Duration::ZERO).await.expect("free"));
        let err = locks
            .lock(1, "k", Duration::from_millis(20))
            .await
            .expect_err("held");
        assert!(err.to_string().contains("k of inbox 1"), "{err}");
        drop(first);
        drop(locks.lock(1, "k", Duration::ZERO).await.expect("free"));
    }
}
