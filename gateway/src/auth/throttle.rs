//! Login throttling (issue 17.3): exponential backoff per account and per client address after
//! repeated failures, plus a governor rate limit per address that turns a login flood away
//! before it reaches password hashing.
//!
//! The state is in memory, per node: with several nodes behind a balancer an attacker gets
//! at most one budget per node, which still bounds guessing to a handful per second.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Failed attempts on one account allowed before the backoff starts.
const ACCOUNT_FREE: u32 = 5;
/// Failed attempts from one address allowed before the backoff starts (an office behind one
/// NAT shares it).
const ADDRESS_FREE: u32 = 30;
/// The first lock; each further failure doubles it.
const BASE_DELAY: Duration = Duration::from_secs(1);
/// The longest lock.
const MAX_DELAY: Duration = Duration::from_secs(15 * 60);
/// Failures this old are forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);
/// Login requests per address: a burst, then this many per second.
const ADDRESS_BURST: u32 = 30;
const ADDRESS_PER_SECOND: u32 = 5;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Account(String),
    Address(IpAddr),
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
    locked_until: Option<Instant>,
}

/// Tracks failed logins and says when to refuse.
pub struct LoginThrottle {
    rate: DefaultKeyedRateLimiter<IpAddr>,
    failures: Mutex<HashMap<Key, Failures>>,
    checks: AtomicU64,
}

impl std::fmt::Debug for LoginThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LoginThrottle(..)")
    }
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self::new()
    }
}

impl LoginThrottle {
    /// An empty throttle.
    pub fn new() -> Self {
        let quota =
            Quota::per_second(NonZeroU32::new(ADDRESS_PER_SECOND).unwrap_or(NonZeroU32::MIN))
                .allow_burst(NonZeroU32::new(ADDRESS_BURST).unwrap_or(NonZeroU32::MIN));
        Self {
            rate: RateLimiter::keyed(quota),
            failures: Mutex::default(),
            checks: AtomicU64::new(0),
        }
    }

    /// Before checking a password: `Err(wait)` when `email` or `address` must wait. A refused
    /// attempt counts as a failure of the account, so hammering a locked account keeps it
    /// locked longer instead of waiting out the lock.
    pub fn admit(&self, email: &str, address: IpAddr) -> Result<(), Duration> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % 1024 == 1023 {
            self.rate.retain_recent();
            self.forget_old();
        }
        self.rate
            .check_key(&address)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))?;
        let now = Instant::now();
        let account = Key::Account(normalize(email));
        let wait = [&account, &Key::Address(address)]
            .into_iter()
            .filter_map(|k| self.locked(k, now))
            .max();
        match wait {
            Some(wait) => {
                self.record(account, ACCOUNT_FREE, now);
                Err(wait)
            }
            None => Ok(()),
        }
    }

    /// After a wrong password (or an unknown email).
    pub fn failed(&self, email: &str, address: IpAddr) {
        let now = Instant::now();
        self.record(Key::Account(normalize(email)), ACCOUNT_FREE, now);
        self.record(Key::Address(address), ADDRESS_FREE, now);
    }

    /// After a successful login: the account starts afresh (the address does not, so one
    /// valid account cannot launder guesses against others).
    pub fn succeeded(&self, email: &str) {
        if let Ok(mut f) = self.failures.lock() {
            f.remove(&Key::Account(normalize(email)));
        }
    }

    fn locked(&self, key: &Key, now: Instant) -> Option<Duration> {
        let f = self.failures.lock().ok()?;
        let until = f.get(key)?.locked_until?;
        (until > now).then(|| until - now)
    }

    fn record(&self, key: Key, free: u32, now: Instant) {
        let Ok(mut map) = self.failures.lock() else {
            return;
        };
        let entry = map.entry(key).or_insert(Failures {
            count: 0,
            last: now,
            locked_until: None,
        });
        if now.duration_since(entry.last) > FORGET_AFTER {
            entry.count = 0;
            entry.locked_until = None;
        }
        entry.count = entry.count.saturating_add(1);
        entry.last = now;
        if entry.count >= free {
            let until = now + backoff(entry.count - free);
            entry.locked_until = Some(entry.locked_until.map_or(until, |u| u.max(until)));
        }
    }

    fn forget_old(&self) {
        let now = Instant::now();
        if let Ok(mut map) = self.failures.lock() {
            map.retain(|_, f| now.duration_since(f.last) <= FORGET_AFTER);
        }
    }
}

/// The lock after `n` failures past the free ones: 1 s, 2 s, 4 s ... up to 15 minutes.
fn backoff(n: u32) -> Duration {
    BASE_DELAY
        .checked_mul(1u32.checked_shl(n.min(20)).unwrap_or(u32::MAX))
        .unwrap_or(MAX_DELAY)
        .min(MAX_DELAY)
}

fn normalize(email: &str) -> String {
    email.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        assert_eq!(backoff(0), Duration::from_secs(1));
        assert_eq!(backoff(3), Duration::from_secs(8));
        assert_eq!(backoff(40), MAX_DELAY);
    }

    #[test]
    fn an_account_is_locked_after_the_free_failures_and_freed_by_success() {
        let t = LoginThrottle::new();
        let ip: IpAddr = [10, 0, 0, 1].into();
        for _ in 0..ACCOUNT_FREE - 1 {
            assert!(t.admit("A@x.com", ip).is_ok());
            t.failed("a@x.com", ip);
        }
        assert!(t.admit("a@x.com", ip).is_ok());
        t.failed("a@x.com", ip);
        let wait = t.admit("a@x.com", ip).expect_err("locked");
        assert!(wait > Duration::ZERO && wait <= BASE_DELAY, "{wait:?}");
        assert!(
            t.admit("b@x.com", ip).is_ok(),
            "other accounts are not locked"
        );
        t.succeeded("a@x.com");
        assert!(t.admit("a@x.com", ip).is_ok());
    }
}
