//! When to try a webhook delivery again, and when to give up on an endpoint.
//!
//! The schedule follows the example in the
//! [Standard Webhooks spec](https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#deliverability-and-reliability),
//! shortened to eight attempts spread over about a day: immediately, then after 5 s, 5 min,
//! 30 min, 2 h, 5 h, 10 h and 10 h. Each wait is jittered by ±10% so that endpoints that failed
//! together (an outage) are not retried in lockstep. A receiver's `Retry-After` (on 429/503) is
//! honoured when it asks for a longer wait, up to a cap so that a hostile or buggy receiver
//! cannot park deliveries forever.
//!
//! Responses: any 2xx is a success; 410 Gone means the receiver wants no more deliveries, so the
//! endpoint is disabled at once; everything else (3xx included — redirects are not followed)
//! is a failure to retry. An endpoint that keeps failing for longer than a configured time is
//! disabled ([`should_disable`]).

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use rand::Rng;

/// The waits before attempts 1 to 8.
pub const STANDARD_DELAYS: [Duration; 8] = [
    Duration::ZERO,
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(10 * 3600),
];

/// The longest `Retry-After` honoured by default.
pub const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// A retry schedule: the wait before each attempt, with jitter.
#[derive(Debug, Clone, PartialEq)]
pub struct RetrySchedule {
    delays: Vec<Duration>,
    jitter: f64,
    max_retry_after: Duration,
}

impl Default for RetrySchedule {
    fn default() -> Self {
        Self::standard()
    }
}

impl RetrySchedule {
    /// Immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; ±10% jitter.
    pub fn standard() -> Self {
        Self::new(STANDARD_DELAYS.to_vec())
    }

    /// A custom schedule (e.g. milliseconds in tests): `delays[n]` is the wait before attempt
    /// `n + 1`, so its length is the number of attempts. ±10% jitter.
    pub fn new(delays: Vec<Duration>) -> Self {
        Self {
            delays,
            jitter: 0.1,
            max_retry_after: DEFAULT_MAX_RETRY_AFTER,
        }
    }

    /// Replaces the jitter fraction (clamped to 0–1); 0 makes the schedule exact.
    pub fn with_jitter(mut self, fraction: f64) -> Self {
        self.jitter = if fraction.is_finite() {
            fraction.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self
    }

    /// Replaces the cap on honoured `Retry-After` values.
    pub fn with_max_retry_after(mut self, max: Duration) -> Self {
        self.max_retry_after = max;
        self
    }

    /// How many attempts the schedule allows in total.
    pub fn attempts(&self) -> u32 {
        u32::try_from(self.delays.len()).unwrap_or(u32::MAX)
    }

    /// When to make the next attempt, given that `attempts_made` attempts have already been
    /// made (0 for a new delivery, which is due `now`). `None` when the last attempt has been
    /// made: the delivery has failed for good.
    pub fn next_attempt(
        &self,
        attempts_made: u32,
        now: DateTime<Utc>,
        retry_after: Option<Duration>,
    ) -> Option<DateTime<Utc>> {
        self.next_attempt_with(&mut rand::rng(), attempts_made, now, retry_after)
    }

    /// [`Self::next_attempt`] with the caller's random generator (a seeded one in tests).
    pub fn next_attempt_with<R: Rng + ?Sized>(
        &self,
        rng: &mut R,
        attempts_made: u32,
        now: DateTime<Utc>,
        retry_after: Option<Duration>,
    ) -> Option<DateTime<Utc>> {
        let base = *self.delays.get(usize::try_from(attempts_made).ok()?)?;
        let factor = if self.jitter > 0.0 {
            1.0 + rng.random_range(-self.jitter..=self.jitter)
        } else {
            1.0
        };
        // `try_` rather than `mul_f64`, which panics when a huge custom delay overflows.
        let mut wait = Duration::try_from_secs_f64(base.as_secs_f64() * factor).unwrap_or(base);
        if let Some(asked) = retry_after {
            wait = wait.max(asked.min(self.max_retry_after));
        }
        let wait = TimeDelta::from_std(wait).ok()?;
        now.checked_add_signed(wait)
    }
}

/// [`RetrySchedule::next_attempt`] on the standard schedule.
pub fn next_attempt(
    attempts_made: u32,
    now: DateTime<Utc>,
    retry_after: Option<Duration>,
) -> Option<DateTime<Utc>> {
    RetrySchedule::standard().next_attempt(attempts_made, now, retry_after)
}

/// Whether an endpoint that has failed without a success since `first_failure_at` has failed
/// for long enough (`disable_after`, e.g. five days) to be disabled.
pub fn should_disable(
    first_failure_at: DateTime<Utc>,
    now: DateTime<Utc>,
    disable_after: Duration,
) -> bool {
    match TimeDelta::from_std(disable_after) {
        Ok(limit) => now.signed_duration_since(first_failure_at) >= limit,
        Err(_) => false, // longer than chrono can represent: never
    }
}

/// What a receiver's response status means for the delivery and the endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseOutcome {
    /// 2xx: delivered.
    Delivered,
    /// Any other status: schedule the next attempt.
    Retry,
    /// 410 Gone: stop, and disable the endpoint.
    DisableEndpoint,
}

/// Classifies a response status per the spec (redirects are failures, never followed).
pub fn classify_status(status: u16) -> ResponseOutcome {
    match status {
        200..=299 => ResponseOutcome::Delivered,
        410 => ResponseOutcome::DisableEndpoint,
        _ => ResponseOutcome::Retry,
    }
}

/// Parses a `Retry-After` header: delay-seconds or an HTTP date
/// ([RFC 9110 §10.2.3](https://www.rfc-editor.org/rfc/rfc9110#section-10.2.3)).
/// A date in the past means no wait; garbage means the header is ignored.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Absurdly many digits saturate instead of being ignored.
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let at = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    Some(
        at.signed_duration_since(now)
            .to_std()
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
#[path = "schedule_tests.rs"]
mod tests;
