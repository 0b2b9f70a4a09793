//! The outbound engine's one decision: what an attempt's result means for the work item
//! (a reply send or a webhook delivery) and for its receiver.
//!
//! `result × attempt × policy → record / retry at / give up / disable`, pure apart from the
//! random jitter (which callers may seed). Both workers ask it after every attempt and only
//! then write anything, so the rules for retrying, giving up and disabling live here and
//! nowhere else:
//!
//! - a success is recorded, whatever else holds;
//! - a receiver that asks for no more (a webhook endpoint's 410 Gone) is disabled at once;
//! - a retryable failure disables the receiver once it has failed without a success for the
//!   policy's `disable_after` (webhook endpoints; sends have no such limit), else is retried
//!   at the backoff's next time, else (the attempts are used up) is given up;
//! - a permanent failure is given up at once.
//!
//! Pacing (a send held back by Kefu's own limits) is not an attempt and never gets here.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use rand::Rng;

use super::webhook::{RetrySchedule, should_disable};

/// What one attempt came to, as far as what happens next goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The receiver accepted it.
    Succeeded,
    /// It failed and another attempt may succeed; `retry_after` is the wait the receiver
    /// asked for, if it did.
    Failed {
        /// The receiver's `Retry-After` (or the channel's equivalent).
        retry_after: Option<Duration>,
    },
    /// It failed and no further attempt can succeed (a channel's permanent error).
    Refused,
    /// The receiver wants no more attempts at all (a webhook endpoint's 410 Gone).
    Gone,
}

/// When failed attempts are tried again, and how many attempts there are.
#[derive(Debug, Clone, PartialEq)]
pub enum Backoff {
    /// Reply sends: `base` for the first retry, doubling per retry up to `max`, jittered
    /// between half and the full wait so the retries of a burst spread out, and never shorter
    /// than what the receiver asked for. At most `max_attempts` attempts.
    Exponential {
        /// Attempts in all before a retryable failure becomes final.
        max_attempts: u32,
        /// The first retry's wait.
        base: Duration,
        /// The longest wait (a receiver's `Retry-After` may ask for more).
        max: Duration,
    },
    /// Webhook deliveries: a fixed schedule of waits (see [`RetrySchedule`]).
    Schedule(RetrySchedule),
}

impl Backoff {
    /// When to make the next attempt after `made` attempts (at least 1), or `None` when they
    /// are used up.
    pub fn next_with<R: Rng + ?Sized>(
        &self,
        rng: &mut R,
        made: u32,
        now: DateTime<Utc>,
        retry_after: Option<Duration>,
    ) -> Option<DateTime<Utc>> {
        match self {
            Backoff::Exponential {
                max_attempts,
                base,
                max,
            } => {
                if made >= *max_attempts {
                    return None;
                }
                let wait = exponential(rng, *base, *max, made, retry_after);
                // Only a `Retry-After` of centuries leaves chrono's range; it has always meant
                // no wait rather than an error.
                Some(now + TimeDelta::from_std(wait).unwrap_or_default())
            }
            Backoff::Schedule(s) => s.next_attempt_with(rng, made, now, retry_after),
        }
    }
}

/// The wait before retry number `retry` (1 for the first) of an exponential backoff.
pub(crate) fn exponential<R: Rng + ?Sized>(
    rng: &mut R,
    base: Duration,
    max: Duration,
    retry: u32,
    retry_after: Option<Duration>,
) -> Duration {
    let exp = base
        .saturating_mul(1u32 << retry.saturating_sub(1).min(20))
        .min(max);
    let jittered = exp.mul_f64(rng.random_range(0.5..=1.0));
    match retry_after {
        Some(asked) => jittered.max(asked),
        None => jittered,
    }
}

/// How one engine retries, and when it gives up on a receiver altogether.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// Retry times and the number of attempts.
    pub backoff: Backoff,
    /// A receiver failing without a success for this long is disabled; `None`: never.
    pub disable_after: Option<Duration>,
}

/// The attempt being decided on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    /// Attempts made, this one included (1 for the first).
    pub made: u32,
    /// When it finished.
    pub now: DateTime<Utc>,
    /// Since when the receiver has failed without a success; `None` when its last attempt
    /// succeeded (this failure then starts the streak, at `now`).
    pub failing_since: Option<DateTime<Utc>>,
}

/// Why an item is given up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GiveUp {
    /// The failure was permanent.
    Refused,
    /// The failure was retryable, but the attempts are used up.
    Exhausted,
}

/// What to do after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Record the success; the item is finished.
    Record,
    /// Record the failure and attempt again at this time.
    RetryAt(DateTime<Utc>),
    /// Record the failure as final.
    GiveUp(GiveUp),
    /// Disable the receiver, for this reason; the item fails with it.
    Disable(String),
}

impl Decision {
    /// Whether the item is finished (succeeded, or failed for good).
    pub fn finished(&self) -> bool {
        !matches!(self, Decision::RetryAt(_))
    }
}

/// Decides what follows `attempt`, which came to `outcome`, under `policy`.
pub fn decide(policy: &Policy, attempt: Attempt, outcome: Outcome) -> Decision {
    decide_with(&mut rand::rng(), policy, attempt, outcome)
}

/// [`decide`] with the caller's random generator (for the backoff's jitter).
pub fn decide_with<R: Rng + ?Sized>(
    rng: &mut R,
    policy: &Policy,
    attempt: Attempt,
    outcome: Outcome,
) -> Decision {
    let retry_after = match outcome {
        Outcome::Succeeded => return Decision::Record,
        Outcome::Refused => return Decision::GiveUp(GiveUp::Refused),
        Outcome::Gone => return Decision::Disable("the endpoint answered 410 Gone".to_owned()),
        Outcome::Failed { retry_after } => retry_after,
    };
    let since = attempt.failing_since.unwrap_or(attempt.now);
    if let Some(limit) = policy.disable_after
        && should_disable(since, attempt.now, limit)
    {
        return Decision::Disable(format!(
            "failing without a success since {}",
            since.to_rfc3339()
        ));
    }
    match policy
        .backoff
        .next_with(rng, attempt.made, attempt.now, retry_after)
    {
        Some(at) => Decision::RetryAt(at),
        None => Decision::GiveUp(GiveUp::Exhausted),
    }
}

#[cfg(test)]
#[path = "decision_tests.rs"]
mod tests;
