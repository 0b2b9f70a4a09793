//! Outbound delivery: one [`SendJob`] per attempt at sending an agent reply through its
//! inbox's channel, paced by governor limiters, retried with backoff and jitter when retrying
//! helps, and recorded on the message (`pending` → `sent`/`delivered`/`failed`).
//!
//! Pacing is not failure: waiting for an inbox's or recipient's limiter, for a slot of the
//! inbox's budget of sends in flight (a slow provider holds only its own inbox's workers), or a
//! channel's own [`SendError::Paced`] (a push device's limit in Kefu), delays the send without
//! spending an attempt. Only the provider's answers (its 429 included) count as attempts.
//!
//! What an answer leads to (sent, retried at, failed for good) is the outbound engine's shared
//! [decision](crate::outbound::decision); the claim of a message is a
//! [lease](crate::outbound::lease), and lost jobs are found by the shared sweep. The channel
//! comes from the [channel runtime](crate::runtime) through [`RunningChannels`].

mod channels;
mod limits;

use std::sync::Arc;
use std::time::{Duration, Instant};

use kefu_channel::SendError;
use kefu_normalizer::{Deliveries, DeliveryOutcome, StoreError};
use rand::Rng;

pub use channels::{RateLimit, RunningChannels};
pub use limits::{Limiters, SendLimits};

use crate::jobs::{JobError, JobStore, NewJob, SendJob};
use crate::outbound::decision::{Attempt, Backoff, Decision, Outcome, Policy, decide, exponential};
use crate::outbound::lease::{self, Lease, Lost, Sweep, SweepError};
use crate::outbound::slots::{self, Slots};

/// How sends are retried.
#[derive(Debug, Clone)]
pub struct SendPolicy {
    /// Attempts before a retryable failure becomes permanent.
    pub max_attempts: u32,
    /// The first retry's delay; each further retry doubles it.
    pub base_delay: Duration,
    /// The longest delay between attempts (a provider's `Retry-After` may ask for more).
    pub max_delay: Duration,
    /// How long one `send` may take before it counts as a retryable timeout.
    pub timeout: Duration,
    /// Sends in flight through one inbox at once (see [`slots`](crate::outbound::slots)).
    pub inbox_concurrency: usize,
}

impl Default for SendPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            base_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(600),
            timeout: Duration::from_secs(60),
            inbox_concurrency: 8,
        }
    }
}

impl SendPolicy {
    /// The wait before retry number `attempt` (1 for the first retry): exponential, with
    /// jitter between half and the full delay so retries of a burst spread out, and never
    /// shorter than what the provider asked for.
    pub fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        exponential(
            &mut rand::rng(),
            self.base_delay,
            self.max_delay,
            attempt,
            retry_after,
        )
    }

    /// The policy as the outbound decision takes it: exponential backoff, never disabled.
    pub fn decision_policy(&self) -> Policy {
        Policy {
            backoff: Backoff::Exponential {
                max_attempts: self.max_attempts,
                base: self.base_delay,
                max: self.max_delay,
            },
            disable_after: None,
        }
    }
}

/// Runs send jobs.
pub struct Sender {
    deliveries: Deliveries,
    channels: RunningChannels,
    limiters: Limiters,
    /// Each inbox's budget of sends in flight.
    slots: Slots,
    jobs: JobStore,
    policy: SendPolicy,
}

impl Sender {
    /// A sender recording on `deliveries`, sending through `channels`, re-queueing on `jobs`.
    pub fn new(
        deliveries: Deliveries,
        channels: RunningChannels,
        jobs: JobStore,
        policy: SendPolicy,
    ) -> Self {
        Self {
            deliveries,
            channels,
            limiters: Limiters::new(),
            slots: Slots::new(policy.inbox_concurrency),
            jobs,
            policy,
        }
    }

    /// The limiters (shrunk periodically by the worker).
    pub fn limiters(&self) -> &Limiters {
        &self.limiters
    }

    /// Makes one attempt. Errors are the database's or the job queue's: the job is then
    /// retried by apalis; the send itself is never repeated once recorded.
    #[tracing::instrument(name = "send_job", skip_all, fields(message = job.message_id, attempt = job.attempt))]
    pub async fn run(&self, job: SendJob) -> Result<(), SendJobError> {
        let Some(pending) = self.deliveries.pending(job.message_id).await? else {
            return Ok(()); // delivered, failed or deleted meanwhile
        };
        // Not due yet, or another attempt is sending it: a job that runs early or twice (a
        // swept job beside a slow one) leaves it alone, without waiting for a limiter.
        let now = chrono::Utc::now();
        let m = &pending.message;
        if !lease::is_due(m.delivery_due_at, now) || lease::is_held(m.delivery_claimed_until, now) {
            return Ok(());
        }
        // Attempts ever made on this message, across manual retries: a job key built from it
        // is never reused (the job's own `attempt` restarts at 0 after a manual retry).
        let made = pending.message.delivery_attempts;
        let out = pending.outbound;
        let Some((channel, own_limits)) = self.channels.resolve(out.inbox_id).await else {
            self.deliveries
                .record(
                    out.message_id,
                    out.conversation_id,
                    DeliveryOutcome::Failed {
                        code: "inbox_unavailable".into(),
                        reason:
                            "the inbox this conversation came through was deleted or is not running"
                                .into(),
                        details: None,
                    },
                )
                .await?;
            return Ok(());
        };
        let caps = channel.capabilities();
        let limits = SendLimits {
            inbox: own_limits.inbox.or(caps.send_quota),
            recipient: own_limits.recipient.or(caps.per_recipient_quota),
        };
        self.limiters
            .until_ready(out.inbox_id, limits, &out.recipient.external_id)
            .await;
        // A provider answering slowly holds at most its inbox's budget of workers; over it, the
        // send is given back without spending an attempt, so other inboxes' replies go on.
        let Some(slot) = self.slots.take(out.inbox_id, slots::SLOT_WAIT).await else {
            let wait = slots::WAIT.to_std().unwrap_or_default();
            return self
                .pace(
                    &job,
                    made,
                    "the inbox's other sends are in flight",
                    wait,
                    &channel.kind().to_string(),
                )
                .await;
        };
        // Held for one attempt; `record` releases it. A crash mid-send leaves it to expire.
        let now = chrono::Utc::now();
        let until = Lease::for_attempts(self.policy.timeout).until(now);
        if !self
            .deliveries
            .claim(out.message_id, now, until, lease::due_by(now))
            .await?
        {
            return Ok(());
        }

        let kind = channel.kind().to_string();
        let started = Instant::now();
        let result = match tokio::time::timeout(self.policy.timeout, channel.send(&out)).await {
            Ok(r) => r,
            Err(_) => Err(SendError::Retryable {
                reason: format!(
                    "the provider did not answer within {} s",
                    self.policy.timeout.as_secs()
                ),
                after: None,
            }),
        };
        drop(slot);
        metrics::histogram!("kefu_delivery_send_seconds", "channel" => kind.clone())
            .record(started.elapsed().as_secs_f64());
        if let Err(SendError::Paced { reason, after }) = &result {
            return self.pace(&job, made, reason, *after, &kind).await;
        }

        let attempt = job.attempt + 1;
        let now = chrono::Utc::now();
        let decision = decide(
            &self.policy.decision_policy(),
            Attempt {
                made: attempt,
                now,
                failing_since: None,
            },
            match &result {
                Ok(_) => Outcome::Succeeded,
                Err(SendError::Permanent { .. }) => Outcome::Refused,
                Err(SendError::Retryable { after, .. } | SendError::RateLimited { after }) => {
                    Outcome::Failed {
                        retry_after: *after,
                    }
                }
                // Handled above: pacing is not an attempt.
                Err(SendError::Paced { .. }) => return Ok(()),
            },
        );
        let mut retry = None;
        let outcome = match (result, decision) {
            (Ok(receipt), _) => DeliveryOutcome::Sent {
                provider_ref: receipt.provider_ref,
                delivered: receipt.delivered,
                details: receipt.details,
            },
            (Err(SendError::Permanent { code, reason }), _) => DeliveryOutcome::Failed {
                code,
                reason,
                details: None,
            },
            (Err(e), Decision::RetryAt(due_at)) => {
                let delay = (due_at - now).to_std().unwrap_or_default();
                tracing::info!(message = out.message_id, attempt, delay_ms = delay.as_millis() as u64, error = %e, "Delivery failed; retrying.");
                retry = Some(delay);
                DeliveryOutcome::Retrying {
                    error: e.to_string(),
                    due_at,
                }
            }
            // Used up (a channel is never disabled: its policy has no limit for that).
            (Err(e), _) => DeliveryOutcome::Failed {
                code: "retries_exhausted".into(),
                reason: format!("gave up after {attempt} attempts; the last said: {e}"),
                details: None,
            },
        };
        let label = match &outcome {
            DeliveryOutcome::Sent { .. } => "sent",
            DeliveryOutcome::Retrying { .. } => "retrying",
            DeliveryOutcome::Failed { .. } => "failed",
        };
        metrics::counter!("kefu_deliveries_total", "channel" => kind, "outcome" => label)
            .increment(1);
        if let DeliveryOutcome::Failed { code, reason, .. } = &outcome {
            tracing::warn!(message = out.message_id, %code, %reason, "Delivery failed for good.");
        }
        self.deliveries
            .record(out.message_id, out.conversation_id, outcome)
            .await?;
        // Queued after the record, which released the claim and set when the next attempt is
        // due. A crash in between leaves an overdue pending reply, which the sweep re-queues.
        if let Some(delay) = retry {
            self.jobs
                .push_send(vec![
                    NewJob::now(SendJob {
                        message_id: out.message_id,
                        attempt,
                    })
                    .after(delay)
                    .key(format!("send:{}:{}", out.message_id, made + 1)),
                ])
                .await?;
        }
        Ok(())
    }

    /// Kefu's own pacing held the send back (a push device's limit): the message goes back
    /// to `pending`, due after `after`, with the same attempt count, and a job for that time
    /// is queued. Pacing is not failure, so no attempt is spent. A little jitter keeps a
    /// backlog of replies to one device from waking all at once.
    async fn pace(
        &self,
        job: &SendJob,
        made: i32,
        reason: &str,
        after: Duration,
        channel: &str,
    ) -> Result<(), SendJobError> {
        let delay = after
            .max(Duration::from_millis(100))
            .mul_f64(rand::rng().random_range(1.0..=1.25));
        let due_at = chrono::Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default();
        tracing::debug!(message = job.message_id, delay_ms = delay.as_millis() as u64, %reason, "Delivery paced; sending later.");
        metrics::counter!("kefu_deliveries_total", "channel" => channel.to_owned(), "outcome" => "paced")
            .increment(1);
        if !self.deliveries.postpone(job.message_id, due_at).await? {
            return Ok(());
        }
        self.jobs
            .push_send(vec![NewJob::now(job.clone()).after(delay).key(format!(
                "send:{}:{made}:paced:{}",
                job.message_id,
                due_at.timestamp_micros()
            ))])
            .await?;
        Ok(())
    }

    /// Re-queues replies that wait for delivery although no job is working on them (the job
    /// was lost, or apalis gave up on it after repeated errors): pending, unclaimed and due for
    /// longer than `grace`. Returns how many. A re-queued job next to a live one is harmless:
    /// only one of them can claim the message.
    #[tracing::instrument(name = "send_sweep", skip_all)]
    pub async fn sweep(&self, grace: Duration) -> Result<usize, SendJobError> {
        let lost: Vec<Lost> = self
            .deliveries
            .overdue(grace, 500)
            .await?
            .into_iter()
            .map(Lost::from)
            .collect();
        let window = lease::window(chrono::Utc::now(), grace);
        self.jobs
            .push_send(lease::requeue("send", window, &lost, |l| SendJob {
                message_id: l.id,
                attempt: u32::try_from(l.attempts).unwrap_or(0),
            }))
            .await?;
        Ok(lost.len())
    }

    /// This sender's side of the housekeeping sweep: replies overdue by more than `grace`.
    pub fn sweeper(self: &Arc<Self>, grace: Duration) -> Arc<dyn Sweep> {
        Arc::new(LostReplies {
            sender: self.clone(),
            grace,
        })
    }
}

/// [`Sender::sweep`] as the workers' housekeeping runs it.
struct LostReplies {
    sender: Arc<Sender>,
    grace: Duration,
}

#[async_trait::async_trait]
impl Sweep for LostReplies {
    fn what(&self) -> &'static str {
        "replies"
    }

    async fn sweep(&self) -> Result<usize, SweepError> {
        Ok(self.sender.sweep(self.grace).await?)
    }
}

/// Queues the first send attempt of each message; queueing a message twice does nothing.
pub async fn queue_first_attempts(jobs: &JobStore, message_ids: &[i64]) -> Result<(), JobError> {
    jobs.push_send(
        message_ids
            .iter()
            .map(|&id| {
                NewJob::now(SendJob {
                    message_id: id,
                    attempt: 0,
                })
                .key(format!("send:{id}:0"))
            })
            .collect(),
    )
    .await
}

/// A send job could not finish its bookkeeping.
#[derive(Debug, thiserror::Error)]
pub enum SendJobError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The job queue failed.
    #[error(transparent)]
    Jobs(#[from] JobError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_jitter_and_caps() {
        let p = SendPolicy {
            base_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(30),
            ..SendPolicy::default()
        };
        for (attempt, full) in [(1, 2), (2, 4), (3, 8), (4, 16), (5, 30), (12, 30)] {
            let d = p.backoff(attempt, None);
            let full = Duration::from_secs(full);
            assert!(d <= full && d >= full / 2, "attempt {attempt}: {d:?}");
        }
    }

    #[test]
    fn backoff_honors_retry_after_beyond_the_cap() {
        let p = SendPolicy::default();
        assert!(p.backoff(1, Some(Duration::from_secs(3600))) >= Duration::from_secs(3600));
    }
}
