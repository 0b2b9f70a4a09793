//! Claim-with-lease and the lost-job sweep, shared by the send and the webhook workers.
//!
//! Jobs only say what to do; the work item (a reply, a webhook delivery) keeps its own state.
//! An attempt first claims its item with a conditional update that takes a [`Lease`]: the
//! item must be unfinished, due (within [`DUE_SLACK`]) and not held by another live lease. The
//! record of the attempt releases the lease. A worker that dies mid-attempt leaves the lease
//! to run out, after which the item may be claimed again.
//!
//! A job can still be lost (a crash between recording an attempt and queueing the next job, a
//! job apalis gave up on after repeated errors). Each engine implements [`Sweep`]: it finds
//! its [`Lost`] items, and [`requeue`] queues one job per item under a key that changes once
//! per sweep window, so a sweep repeated within the window queues nothing twice. A re-queued
//! job beside a live one is harmless: only one of them can claim the item.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::jobs::NewJob;

/// A sweep failed (the database or the job queue).
pub type SweepError = Box<dyn std::error::Error + Send + Sync>;

/// A claim takes items due up to this long from now: apalis runs jobs by the whole second, so
/// a job may start up to a second before its item's due time.
pub const DUE_SLACK: Duration = Duration::from_secs(1);

/// How long a lease outlives the attempt's own time limit, so that an attempt that takes its
/// full time still records within its lease.
pub const LEASE_MARGIN: Duration = Duration::from_secs(60);

/// The lease an attempt holds on its item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    length: Duration,
}

impl Lease {
    /// The lease of attempts limited to `timeout`: the timeout plus [`LEASE_MARGIN`].
    pub fn for_attempts(timeout: Duration) -> Self {
        Self {
            length: timeout + LEASE_MARGIN,
        }
    }

    /// Its length.
    pub fn length(&self) -> Duration {
        self.length
    }

    /// When a lease taken at `now` runs out.
    pub fn until(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now + chrono::Duration::from_std(self.length).unwrap_or_default()
    }
}

/// The latest due time a claim made at `now` accepts (see [`DUE_SLACK`]).
pub fn due_by(now: DateTime<Utc>) -> DateTime<Utc> {
    now + chrono::Duration::from_std(DUE_SLACK).unwrap_or_default()
}

/// Whether an item due at `due_at` (`None`: due since it was created) may be attempted `now`.
pub fn is_due(due_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    due_at.is_none_or(|at| at <= due_by(now))
}

/// Whether a lease running until `until` still holds `now`.
pub fn is_held(until: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    until.is_some_and(|until| until > now)
}

/// An item whose job was lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lost {
    /// The item (a message, a webhook delivery).
    pub id: i64,
    /// Attempts made on it; part of the new job's key, so an item that moved on is re-queued
    /// anew.
    pub attempts: i32,
}

impl From<(i64, i32)> for Lost {
    fn from((id, attempts): (i64, i32)) -> Self {
        Self { id, attempts }
    }
}

/// The sweep window `now` falls in, for windows of `every`.
pub fn window(now: DateTime<Utc>, every: Duration) -> i64 {
    now.timestamp() / i64::try_from(every.as_secs().max(1)).unwrap_or(i64::MAX)
}

/// The jobs that re-queue `lost` items: `job` makes each item's job, keyed
/// `<prefix>:<id>:sweep:<attempts>:<window>`.
pub fn requeue<T>(
    prefix: &str,
    window: i64,
    lost: &[Lost],
    job: impl Fn(&Lost) -> T,
) -> Vec<NewJob<T>> {
    lost.iter()
        .map(|l| {
            NewJob::now(job(l)).key(format!("{prefix}:{}:sweep:{}:{window}", l.id, l.attempts))
        })
        .collect()
}

/// One engine's side of the lost-job sweep, run by the workers' housekeeping.
#[async_trait::async_trait]
pub trait Sweep: Send + Sync {
    /// What is swept, for the log ("replies", "webhook deliveries").
    fn what(&self) -> &'static str;

    /// Re-queues this engine's lost items (see [`requeue`]); returns how many.
    async fn sweep(&self) -> Result<usize, SweepError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + secs, 0).expect("a valid time")
    }

    #[test]
    fn due_and_held_allow_a_second_of_slack_and_nothing_more() {
        let now = at(0);
        for (due, want) in [
            (None, true),
            (Some(at(-60)), true),
            (Some(at(0)), true),
            (Some(at(1)), true),
            (Some(at(2)), false),
        ] {
            assert_eq!(is_due(due, now), want, "{due:?}");
        }
        for (until, want) in [
            (None, false),
            (Some(at(-1)), false),
            (Some(at(0)), false),
            (Some(at(1)), true),
        ] {
            assert_eq!(is_held(until, now), want, "{until:?}");
        }
    }

    #[test]
    fn a_lease_outlives_the_attempt_by_the_margin() {
        let lease = Lease::for_attempts(Duration::from_secs(15));
        assert_eq!(lease.length(), Duration::from_secs(75));
        assert_eq!(lease.until(at(0)), at(75));
    }

    #[test]
    fn requeued_jobs_are_keyed_per_item_attempt_and_window() {
        let lost = [Lost::from((7, 0)), Lost::from((9, 3))];
        let w = window(at(125), Duration::from_secs(60));
        assert_eq!(w, (1_700_000_000 + 125) / 60);
        let jobs = requeue("wh", w, &lost, |l| l.id);
        let keys: Vec<_> = jobs
            .iter()
            .map(|j| (j.job, j.idempotency_key.clone().unwrap_or_default()))
            .collect();
        assert_eq!(
            keys,
            [
                (7, format!("wh:7:sweep:0:{w}")),
                (9, format!("wh:9:sweep:3:{w}"))
            ]
        );
        assert!(jobs.iter().all(|j| j.delay.is_none()));
        // The next window keys them anew; a zero window length counts as a second.
        assert_ne!(window(at(185), Duration::from_secs(60)), w);
        assert_eq!(window(at(5), Duration::ZERO), 1_700_000_005);
    }
}
