//! The webhook delivery worker: one [`WebhookJob`] makes one attempt of one delivery.
//!
//! A delivery is claimed with a conditional update that also checks per-conversation order:
//! it only proceeds when no earlier delivery of the same conversation to the same endpoint is
//! still unfinished. A blocked job simply ends; the earlier delivery queues its successor when
//! it finishes. The claim is a [lease](crate::outbound::lease), so a worker that dies
//! mid-attempt does not block the delivery forever.
//!
//! - [`client`]: the SSRF-safe HTTP client;
//! - [`endpoints`]: the endpoint cache;
//! - [`claim`]: the batched claim SQL and the sweep's query;
//! - [`record`]: the batched record SQL;
//! - [`slots`]: each endpoint's budget of attempts in flight, so a slow endpoint delays only
//!   its own deliveries;
//! - what an attempt's result leads to is the outbound engine's shared
//!   [decision](crate::outbound::decision).

mod claim;
mod client;
mod endpoints;
mod record;

use std::time::{Duration, Instant};

use chrono::Utc;
use kefu_normalizer::entity::webhook_delivery;
use kefu_normalizer::{Db, StoreError};

use self::client::{Client, Response};
use self::endpoints::EndpointCache;
use self::record::{Record, Recorded, Recorder};
use super::store::WebhookStore;
use super::{ResponseOutcome, RetrySchedule, WebhookHeaders, classify_status};
use crate::batch::Batcher;
use crate::jobs::{JobError, JobStore, NewJob, WebhookJob};
use crate::outbound::decision::{Attempt, Backoff, Decision, Outcome, Policy, decide};
use crate::outbound::lease::{self, Lease, Sweep, SweepError};
use crate::outbound::slots::{self, Slots};

/// How many deliveries of one conversation a job attempts in a row before handing the rest
/// to a new job (so one busy conversation cannot hold a worker forever).
const CHAIN: usize = 50;

/// Most claims in one statement and most results in one transaction.
const BATCH: usize = 64;

/// Delivery settings.
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    /// When to retry.
    pub schedule: RetrySchedule,
    /// An endpoint failing for this long without a success is disabled.
    pub disable_after: Duration,
    /// One attempt's time limit.
    pub timeout: Duration,
    /// Allow targets on private and loopback addresses.
    pub allow_private: bool,
    /// Attempts in flight to one endpoint at most; a delivery over the budget waits (without
    /// spending an attempt) instead of holding a worker.
    pub endpoint_concurrency: usize,
}

impl DeliverySettings {
    /// The schedule and the disable limit as the outbound decision takes them.
    pub fn policy(&self) -> Policy {
        Policy {
            backoff: Backoff::Schedule(self.schedule.clone()),
            disable_after: Some(self.disable_after),
        }
    }
}

impl Default for DeliverySettings {
    fn default() -> Self {
        Self {
            schedule: RetrySchedule::standard().with_jitter(0.1),
            disable_after: Duration::from_secs(5 * 24 * 3600),
            timeout: Duration::from_secs(15),
            allow_private: false,
            endpoint_concurrency: 16,
        }
    }
}

/// Makes webhook delivery attempts.
///
/// Concurrent attempts share their database work: claims are made in batches (one statement
/// for every delivery waiting to be claimed) and results are recorded in batches (one
/// transaction, one commit, for every attempt that finished meanwhile), and endpoints with their
/// decrypted secrets are cached for [`ENDPOINT_TTL`](endpoints::ENDPOINT_TTL). Only the HTTP
/// request is per delivery.
pub struct WebhookDeliverer {
    db: Db,
    jobs: JobStore,
    client: Client,
    /// The settings' retry schedule and disable limit, as the outbound decision takes them.
    policy: Policy,
    endpoints: EndpointCache,
    claims: Batcher<i64, Result<Option<webhook_delivery::Model>, String>>,
    records: Batcher<Record, Result<Recorded, String>>,
    slots: Slots,
}

/// A webhook job could not finish its bookkeeping.
#[derive(Debug, thiserror::Error)]
pub enum WebhookJobError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The job queue failed.
    #[error(transparent)]
    Jobs(#[from] JobError),
    /// A batched claim or record failed (the batch's error, in words).
    #[error("{0}")]
    Batch(String),
}

impl From<sea_orm::DbErr> for WebhookJobError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Store(e.into())
    }
}

impl WebhookDeliverer {
    /// A deliverer; builds its HTTP client (no redirects, checked DNS) and starts its batching
    /// tasks on the current runtime.
    pub fn new(
        db: Db,
        store: WebhookStore,
        jobs: JobStore,
        settings: DeliverySettings,
    ) -> Result<Self, String> {
        let client = Client::new(settings.timeout, settings.allow_private)?;
        let lease = Lease::for_attempts(settings.timeout);
        let claims = {
            let db = db.clone();
            Batcher::spawn(2, BATCH, move |ids| {
                claim::claim_batch(db.clone(), lease, ids)
            })
        };
        let records = {
            let recorder = Recorder::new(db.clone(), jobs.clone());
            Batcher::spawn(2, BATCH, move |recs| {
                let recorder = recorder.clone();
                async move { recorder.record(recs).await }
            })
        };
        Ok(Self {
            endpoints: EndpointCache::new(store, db.clone()),
            db,
            jobs,
            client,
            policy: settings.policy(),
            claims,
            records,
            slots: Slots::new(settings.endpoint_concurrency),
        })
    }

    /// Claims the delivery (if it is due, unfinished and first in its conversation's order).
    async fn claim(&self, id: i64) -> Result<Option<webhook_delivery::Model>, WebhookJobError> {
        self.claims
            .call(id)
            .await
            .unwrap_or_else(|| Err("the claim batcher stopped".into()))
            .map_err(WebhookJobError::Batch)
    }

    /// Makes one attempt of delivery `job.delivery_id`, if it is due. When that finishes the
    /// delivery, the next one of the same conversation (which waited for it) is claimed and
    /// attempted right here, up to [`CHAIN`] in a row, instead of waiting for a job of its own.
    #[tracing::instrument(name = "webhook_job", skip_all, fields(delivery = job.delivery_id))]
    pub async fn run(&self, job: WebhookJob) -> Result<(), WebhookJobError> {
        // `None`: finished, claimed elsewhere, not due, or waiting for an earlier one.
        let mut claimed = self.claim(job.delivery_id).await?;
        let mut chained = 0;
        while let Some(d) = claimed.take() {
            let recorded = self.attempt(&d).await?;
            if !recorded.finished {
                break;
            }
            chained += 1;
            let Some(next) = recorded.successor else {
                break;
            };
            if chained >= CHAIN {
                self.jobs
                    .push_webhook(vec![
                        NewJob::now(WebhookJob { delivery_id: next })
                            .key(format!("wh:{next}:after:{}:{}", d.id, d.attempts)),
                    ])
                    .await?;
                break;
            }
            claimed = self.claim(next).await?;
        }
        Ok(())
    }

    /// One attempt of a claimed delivery.
    async fn attempt(&self, d: &webhook_delivery::Model) -> Result<Recorded, WebhookJobError> {
        let now = Utc::now();
        let Some(endpoint) = self.endpoints.get(d.endpoint_id).await? else {
            // Deleted with its deliveries.
            return Ok(Recorded {
                finished: false,
                successor: None,
            });
        };
        if !endpoint.model.enabled {
            return record::fail_unattempted(&self.db, d, "the endpoint is disabled", now).await;
        }
        // Held for the request: a slow endpoint holds at most its budget of workers, and its
        // other deliveries wait their turn without spending an attempt.
        let Some(slot) = self.slots.take(d.endpoint_id, slots::SLOT_WAIT).await else {
            metrics::counter!("kefu_webhook_attempts_paced_total").increment(1);
            return record::postpone(&self.db, &self.jobs, d, now + slots::WAIT).await;
        };
        let attempt = d.attempts + 1;
        let started = Instant::now();
        let response = match &endpoint.secrets {
            Ok((current, previous)) => {
                let headers = WebhookHeaders::new(
                    &d.msg_id,
                    Utc::now(),
                    d.body.as_bytes(),
                    current,
                    previous.as_ref(),
                );
                self.client
                    .post(&endpoint.model.url, &headers, d.body.clone())
                    .await
            }
            Err(e) => Response::not_sent(e.clone()),
        };
        drop(slot);
        let latency = started.elapsed();
        metrics::histogram!("kefu_webhook_attempt_seconds").record(latency.as_secs_f64());
        let outcome = match response.status {
            Some(s) => classify_status(s),
            None => ResponseOutcome::Retry,
        };
        let label = match outcome {
            ResponseOutcome::Delivered => "succeeded",
            ResponseOutcome::Retry => "retry",
            ResponseOutcome::DisableEndpoint => "gone",
        };
        metrics::counter!("kefu_webhook_attempts_total", "outcome" => label).increment(1);
        let now = Utc::now();

        // What to do next, decided before writing anything.
        let decision = decide(
            &self.policy,
            Attempt {
                made: u32::try_from(attempt).unwrap_or(u32::MAX),
                now,
                failing_since: endpoint.model.failing_since,
            },
            match outcome {
                ResponseOutcome::Delivered => Outcome::Succeeded,
                ResponseOutcome::DisableEndpoint => Outcome::Gone,
                ResponseOutcome::Retry => Outcome::Failed {
                    retry_after: response.retry_after,
                },
            },
        );
        let toggles = (decision != Decision::Record) != endpoint.model.failing_since.is_some();
        if toggles || matches!(decision, Decision::Disable(_)) {
            self.endpoints.forget(d.endpoint_id);
        }
        let record = Record {
            delivery: d.clone(),
            endpoint,
            attempt,
            response,
            latency_ms: i32::try_from(latency.as_millis()).unwrap_or(i32::MAX),
            decision,
            now,
        };
        self.records
            .call(record)
            .await
            .unwrap_or_else(|| Err("the record batcher stopped".into()))
            .map_err(WebhookJobError::Batch)
    }

    /// Re-queues deliveries whose job was lost: due for over a minute but still pending, or
    /// claimed by a worker whose lease ran out. Returns how many.
    #[tracing::instrument(name = "webhook_sweep", skip_all)]
    pub async fn sweep(&self) -> Result<usize, WebhookJobError> {
        let now = Utc::now();
        let lost = claim::lost(&self.db, now).await?;
        self.jobs
            .push_webhook(lease::requeue(
                "wh",
                lease::window(now, Duration::from_secs(60)),
                &lost,
                |l| WebhookJob { delivery_id: l.id },
            ))
            .await?;
        Ok(lost.len())
    }
}

#[async_trait::async_trait]
impl Sweep for WebhookDeliverer {
    fn what(&self) -> &'static str {
        "webhook deliveries"
    }

    async fn sweep(&self) -> Result<usize, SweepError> {
        Ok(WebhookDeliverer::sweep(self).await?)
    }
}
