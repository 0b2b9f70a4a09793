//! Login throttling (issue 17.3): exponential backoff per account and per client address after
//! repeated failures, plus a governor rate limit per address that turns a login flood away
//! before it reaches password hashing.
//!
//! The account half is in the database ([`LoginFailures`]), so the nodes behind a balancer
//! share one budget of guesses per account. The address half is in each node's memory: an
//! address spread over N nodes gets N budgets, which still bounds guessing to a handful per
//! second and node, while the account lock holds whatever the address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use kefu_normalizer::accounts::LoginFailures;
use kefu_normalizer::accounts::login_failures::{FORGET_AFTER, backoff};

/// Failed attempts from one address allowed before the backoff starts (an office behind one
/// NAT shares it).
const ADDRESS_FREE: u32 = 30;
/// Login requests per address: a burst, then this many per second.
const ADDRESS_BURST: u32 = 30;
const ADDRESS_PER_SECOND: u32 = 5;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
    locked_until: Option<Instant>,
}

/// Tracks failed logins and says when to refuse.
pub struct LoginThrottle {
    rate: DefaultKeyedRateLimiter<IpAddr>,
    addresses: Mutex<HashMap<IpAddr, Failures>>,
    accounts: LoginFailures,
    checks: AtomicU64,
}

impl std::fmt::Debug for LoginThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LoginThrottle(..)")
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl LoginThrottle {
    /// A throttle whose account failures are stored by `accounts`.
    pub fn new(accounts: LoginFailures) -> Self {
        let quota =
            Quota::per_second(NonZeroU32::new(ADDRESS_PER_SECOND).unwrap_or(NonZeroU32::MIN))
                .allow_burst(NonZeroU32::new(ADDRESS_BURST).unwrap_or(NonZeroU32::MIN));
        Self {
            rate: RateLimiter::keyed(quota),
            addresses: Mutex::default(),
            accounts,
            checks: AtomicU64::new(0),
        }
    }

    /// Before checking a password: `Err(wait)` when `email` or `address` must wait. A refused
    /// attempt counts as a failure of the account, so hammering a locked account keeps it
    /// locked longer instead of waiting out the lock.
    pub async fn admit(&self, email: &str, address: IpAddr) -> Result<(), Duration> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % 1024 == 1023 {
            self.rate.retain_recent();
            self.forget_old();
        }
        self.rate
            .check_key(&address)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))?;
        let now = now_ms();
        // Without the database nothing can sign in anyway: the password check that follows
        // fails with the outage, so a failed lookup here lets the attempt through to it.
        let account = self
            .accounts
            .locked(email, now)
            .await
            .inspect_err(|e| tracing::warn!(error = %e, "Reading login failures failed."))
            .ok()
            .flatten();
        let wait = account.into_iter().chain(self.address_lock(address)).max();
        match wait {
            Some(wait) => {
                self.account_failed(email, now).await;
                Err(wait)
            }
            None => Ok(()),
        }
    }

    /// After a wrong password (or an unknown email).
    pub async fn failed(&self, email: &str, address: IpAddr) {
        self.account_failed(email, now_ms()).await;
        self.address_failed(address, Instant::now());
    }

    /// After a successful login: the account starts afresh (the address does not, so one
    /// valid account cannot launder guesses against others).
    pub async fn succeeded(&self, email: &str) {
        if let Err(e) = self.accounts.succeeded(email).await {
            tracing::warn!(error = %e, "Clearing login failures failed.");
        }
    }

    async fn account_failed(&self, email: &str, now_ms: i64) {
        if let Err(e) = self.accounts.failed(email, now_ms).await {
            tracing::warn!(error = %e, "Recording a login failure failed.");
        }
    }

    fn address_lock(&self, address: IpAddr) -> Option<Duration> {
        let now = Instant::now();
        let map = self.addresses.lock().unwrap_or_else(|p| p.into_inner());
        let until = map.get(&address)?.locked_until?;
        (until > now).then(|| until - now)
    }

    fn address_failed(&self, address: IpAddr, now: Instant) {
        let mut map = self.addresses.lock().unwrap_or_else(|p| p.into_inner());
        let entry = map.entry(address).or_insert(Failures {
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
        if entry.count >= ADDRESS_FREE {
            let until = now + backoff(entry.count - ADDRESS_FREE);
            entry.locked_until = Some(entry.locked_until.map_or(until, |u| u.max(until)));
        }
    }

    fn forget_old(&self) {
        let now = Instant::now();
        let mut map = self.addresses.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, f| now.duration_since(f.last) <= FORGET_AFTER);
    }
}
