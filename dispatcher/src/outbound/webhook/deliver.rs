//! The webhook delivery worker: one [`WebhookJob`] makes one attempt of one delivery.
//!
//! A delivery is claimed with a conditional update that also checks per-conversation order:
//! it only proceeds when no earlier delivery of the same conversation to the same endpoint is
//! still unfinished. A blocked job simply ends; the earlier delivery queues its successor when
//! it finishes. The claim is a lease, so a worker that dies mid-attempt does not block the
//! delivery forever.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use kefu_normalizer::entity::{webhook_attempt, webhook_delivery, webhook_endpoint};
use kefu_normalizer::{Db, StoreError};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::store::WebhookStore;
use super::{
    ResponseOutcome, RetrySchedule, Secret, WebhookHeaders, classify_status, parse_retry_after,
    response_excerpt, should_disable, target,
};
use crate::batch::Batcher;
use crate::jobs::{JobError, JobStore, NewJob, WebhookJob};

/// No earlier delivery of the same conversation to the same endpoint is unfinished.
const FIRST_IN_ORDER: &str = "NOT EXISTS (SELECT 1 FROM webhook_deliveries p \
     WHERE p.endpoint_id = webhook_deliveries.endpoint_id \
     AND p.conversation_id = webhook_deliveries.conversation_id \
     AND p.id < webhook_deliveries.id \
     AND p.status IN ('pending', 'sending'))";

/// How many deliveries of one conversation a job attempts in a row before handing the rest
/// to a new job (so one busy conversation cannot hold a worker forever).
const CHAIN: usize = 50;

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
}

impl Default for DeliverySettings {
    fn default() -> Self {
        Self {
            schedule: RetrySchedule::standard().with_jitter(0.1),
            disable_after: Duration::from_secs(5 * 24 * 3600),
            timeout: Duration::from_secs(15),
            allow_private: false,
        }
    }
}

/// Resolves names for webhook requests and refuses private addresses after resolution, so a
/// name that passed the subscription check cannot be re-pointed at an internal service.
struct CheckedResolver {
    allow_private: bool,
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let addrs = target::check_resolved(&host, addrs, allow_private)?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Makes webhook delivery attempts.
///
/// Concurrent attempts share their database work: claims are made in batches (one statement
/// for every delivery waiting to be claimed) and results are recorded in batches (one
/// transaction, one commit, for every attempt that finished meanwhile), and endpoints with their
/// decrypted secrets are cached for [`ENDPOINT_TTL`]. Only the HTTP request is per delivery.
pub struct WebhookDeliverer {
    db: Db,
    jobs: JobStore,
    client: reqwest::Client,
    settings: DeliverySettings,
    endpoints: EndpointCache,
    claims: Batcher<i64, Result<Option<webhook_delivery::Model>, String>>,
    records: Batcher<Record, Result<Recorded, String>>,
}

/// How long an endpoint (URL, enabled flag, secrets) read from the database is used before it
/// is read again: the longest a change made on another node takes to reach this one's
/// attempts. Changes made through this node's API are seen at once.
pub const ENDPOINT_TTL: Duration = Duration::from_secs(1);

/// Most claims in one statement and most results in one transaction.
const BATCH: usize = 64;

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

struct Response {
    status: Option<u16>,
    excerpt: Option<String>,
    error: Option<String>,
    retry_after: Option<Duration>,
}

/// An endpoint as attempts use it.
struct CachedEndpoint {
    model: webhook_endpoint::Model,
    secrets: Result<(Secret, Option<Secret>), String>,
}

/// Endpoints by id, each kept for [`ENDPOINT_TTL`] or until the store changes an endpoint.
struct EndpointCache {
    store: WebhookStore,
    db: Db,
    entries: std::sync::Mutex<HashMap<i64, Cached>>,
}

/// An entry: when it was read, the store's change count then, and the endpoint.
type Cached = (Instant, u64, Arc<CachedEndpoint>);

impl EndpointCache {
    /// The endpoint, or `None` when it was deleted.
    async fn get(&self, id: i64) -> Result<Option<Arc<CachedEndpoint>>, WebhookJobError> {
        let changes = self.store.changes();
        if let Some((at, seen, e)) = self.lock().get(&id)
            && at.elapsed() < ENDPOINT_TTL
            && *seen == changes
        {
            return Ok(Some(e.clone()));
        }
        let Some(model) = webhook_endpoint::Entity::find_by_id(id)
            .one(self.db.conn())
            .await?
        else {
            self.forget(id);
            return Ok(None);
        };
        let secrets = self.store.secrets(&model);
        let e = Arc::new(CachedEndpoint { model, secrets });
        self.lock().insert(id, (Instant::now(), changes, e.clone()));
        Ok(Some(e))
    }

    /// Drops an endpoint this node just changed.
    fn forget(&self, id: i64) {
        self.lock().remove(&id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Cached>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The result of one attempt, waiting to be recorded.
struct Record {
    delivery: webhook_delivery::Model,
    endpoint: Arc<CachedEndpoint>,
    attempt: i32,
    response: Response,
    latency_ms: i32,
    outcome: ResponseOutcome,
    /// When to try again; `None` when the delivery is finished.
    retry_at: Option<DateTime<Utc>>,
    /// Why the endpoint is to be disabled, if it is.
    disable: Option<String>,
    now: DateTime<Utc>,
}

/// What recording an attempt came to.
#[derive(Debug, Clone, Copy)]
struct Recorded {
    /// The delivery is finished (succeeded or failed for good).
    finished: bool,
    /// The next unfinished delivery of the same conversation to the same endpoint, which
    /// waited for this one.
    successor: Option<i64>,
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
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("Kefu-Webhooks/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(CheckedResolver {
                allow_private: settings.allow_private,
            }))
            .build()
            .map_err(|e| format!("cannot build the webhook HTTP client: {e}"))?;
        let lease = settings.timeout + Duration::from_secs(60);
        let claims = {
            let db = db.clone();
            Batcher::spawn(2, BATCH, move |ids| claim_batch(db.clone(), lease, ids))
        };
        let records = {
            let recorder = Recorder {
                db: db.clone(),
                jobs: jobs.clone(),
            };
            Batcher::spawn(2, BATCH, move |recs| {
                let recorder = recorder.clone();
                async move { recorder.record(recs).await }
            })
        };
        Ok(Self {
            endpoints: EndpointCache {
                store,
                db: db.clone(),
                entries: std::sync::Mutex::new(HashMap::new()),
            },
            db,
            jobs,
            client,
            settings,
            claims,
            records,
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
            let tx = self.db.begin_write().await?;
            finish(
                &tx,
                d,
                "failed",
                d.attempts,
                None,
                Some("the endpoint is disabled".into()),
                now,
            )
            .await?;
            let successor = successors(&tx, &[d]).await?.get(&d.id).copied();
            tx.commit().await?;
            return Ok(Recorded {
                finished: true,
                successor,
            });
        }
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
                self.post(&endpoint.model.url, &headers, d.body.clone())
                    .await
            }
            Err(e) => Response {
                status: None,
                excerpt: None,
                error: Some(e.clone()),
                retry_after: None,
            },
        };
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
        let failing_since = endpoint.model.failing_since.unwrap_or(now);
        let next = match outcome {
            ResponseOutcome::Retry => self.settings.schedule.next_attempt(
                u32::try_from(attempt).unwrap_or(u32::MAX),
                now,
                response.retry_after,
            ),
            _ => None,
        };
        let disable = match outcome {
            ResponseOutcome::DisableEndpoint => Some("the endpoint answered 410 Gone".to_owned()),
            ResponseOutcome::Retry
                if should_disable(failing_since, now, self.settings.disable_after) =>
            {
                Some(format!(
                    "failing without a success since {}",
                    failing_since.to_rfc3339()
                ))
            }
            _ => None,
        };
        let retry_at = next.filter(|_| disable.is_none());
        let toggles =
            (outcome != ResponseOutcome::Delivered) != endpoint.model.failing_since.is_some();
        if toggles || disable.is_some() {
            self.endpoints.forget(d.endpoint_id);
        }
        let record = Record {
            delivery: d.clone(),
            endpoint,
            attempt,
            response,
            latency_ms: i32::try_from(latency.as_millis()).unwrap_or(i32::MAX),
            outcome,
            retry_at,
            disable,
            now,
        };
        self.records
            .call(record)
            .await
            .unwrap_or_else(|| Err("the record batcher stopped".into()))
            .map_err(WebhookJobError::Batch)
    }

    async fn post(&self, url: &str, headers: &WebhookHeaders, body: String) -> Response {
        let mut req = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        for (k, v) in headers.pairs() {
            req = req.header(k, v);
        }
        match req.send().await {
            Ok(mut resp) => {
                let status = resp.status().as_u16();
                let retry_after = resp
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| parse_retry_after(v, Utc::now()));
                let mut buf = Vec::new();
                while buf.len() < super::payload::RESPONSE_EXCERPT_BYTES {
                    match resp.chunk().await {
                        Ok(Some(c)) => buf.extend_from_slice(&c),
                        _ => break,
                    }
                }
                Response {
                    status: Some(status),
                    excerpt: (!buf.is_empty()).then(|| response_excerpt(&buf)),
                    error: None,
                    retry_after,
                }
            }
            Err(e) => Response {
                status: None,
                excerpt: None,
                error: Some(describe(&e)),
                retry_after: None,
            },
        }
    }

    /// Re-queues deliveries whose job was lost: due for over a minute but still pending, or
    /// claimed by a worker whose claim expired. Returns how many.
    pub async fn sweep(&self) -> Result<usize, WebhookJobError> {
        let now = Utc::now();
        let overdue = now - chrono::Duration::seconds(60);
        let stuck: Vec<(i64, i32)> = webhook_delivery::Entity::find()
            .select_only()
            .column(webhook_delivery::Column::Id)
            .column(webhook_delivery::Column::Attempts)
            .filter(
                Condition::any()
                    .add(
                        Condition::all()
                            .add(webhook_delivery::Column::Status.eq("pending"))
                            .add(webhook_delivery::Column::NextAttemptAt.lt(overdue)),
                    )
                    .add(
                        // Never attempted although nothing before it is unfinished.
                        Condition::all()
                            .add(webhook_delivery::Column::Status.eq("pending"))
                            .add(webhook_delivery::Column::NextAttemptAt.is_null())
                            .add(webhook_delivery::Column::CreatedAt.lt(overdue))
                            .add(Expr::cust(FIRST_IN_ORDER)),
                    )
                    .add(lease_expired(now)),
            )
            .order_by_asc(webhook_delivery::Column::Id)
            .limit(1000)
            .into_tuple()
            .all(self.db.conn())
            .await?;
        let minute = now.timestamp() / 60;
        let n = stuck.len();
        self.jobs
            .push_webhook(
                stuck
                    .into_iter()
                    .map(|(id, attempts)| {
                        NewJob::now(WebhookJob { delivery_id: id })
                            .key(format!("wh:{id}:sweep:{attempts}:{minute}"))
                    })
                    .collect(),
            )
            .await?;
        Ok(n)
    }
}

/// Claimed by an attempt whose lease ran out (its worker died mid-attempt).
fn lease_expired(now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(webhook_delivery::Column::Status.eq("sending"))
        .add(webhook_delivery::Column::LockedUntil.lt(now))
}

/// Claims every delivery in `ids` that is due, unfinished and first in its conversation's
/// order, in one statement; answers each id with its claimed row. An id asked for twice in one
/// batch gets the row once.
async fn claim_batch(
    db: Db,
    lease: Duration,
    ids: Vec<i64>,
) -> Vec<Result<Option<webhook_delivery::Model>, String>> {
    let claimed = async {
        // A write transaction, so on SQLite the claim queues on Kefu's writer lock instead of
        // SQLite's sleep-and-retry busy handler.
        let tx = db.begin_write().await?;
        let now = Utc::now();
        let until = now + chrono::Duration::from_std(lease).unwrap_or_default();
        let slack = now + chrono::Duration::seconds(1);
        let rows = webhook_delivery::Entity::update_many()
            .col_expr(webhook_delivery::Column::Status, Expr::value("sending"))
            .col_expr(webhook_delivery::Column::LockedUntil, Expr::value(until))
            .col_expr(webhook_delivery::Column::UpdatedAt, Expr::value(now))
            .filter(webhook_delivery::Column::Id.is_in(ids.clone()))
            .filter(
                Condition::any()
                    .add(webhook_delivery::Column::Status.eq("pending"))
                    .add(lease_expired(now)),
            )
            .filter(
                Condition::any()
                    .add(webhook_delivery::Column::NextAttemptAt.is_null())
                    .add(webhook_delivery::Column::NextAttemptAt.lte(slack)),
            )
            .filter(Expr::cust(FIRST_IN_ORDER))
            .exec_with_returning(&tx)
            .await?;
        tx.commit().await?;
        Ok::<_, sea_orm::DbErr>(rows)
    }
    .await;
    match claimed {
        Ok(rows) => {
            let mut by_id: HashMap<i64, webhook_delivery::Model> =
                rows.into_iter().map(|d| (d.id, d)).collect();
            ids.iter().map(|id| Ok(by_id.remove(id))).collect()
        }
        Err(e) => {
            let e = format!("cannot claim webhook deliveries: {e}");
            ids.iter().map(|_| Err(e.clone())).collect()
        }
    }
}

/// Records attempts' results: the attempt log lines and the deliveries' new state.
#[derive(Clone)]
struct Recorder {
    db: Db,
    jobs: JobStore,
}

impl Recorder {
    /// Records a batch in one transaction; should that fail, records each alone, so one bad
    /// record never takes the others down with it.
    async fn record(&self, recs: Vec<Record>) -> Vec<Result<Recorded, String>> {
        let all: Vec<&Record> = recs.iter().collect();
        match self.write(&all).await {
            Ok(out) => out.into_iter().map(Ok).collect(),
            Err(e) if recs.len() == 1 => vec![Err(e.to_string())],
            Err(e) => {
                tracing::debug!(error = %e, "Recording a batch of webhook attempts failed; recording them one by one.");
                let mut out = Vec::with_capacity(recs.len());
                for r in &recs {
                    out.push(
                        self.write(&[r])
                            .await
                            .map(|mut v| v.remove(0))
                            .map_err(|e| e.to_string()),
                    );
                }
                out
            }
        }
    }

    async fn write(&self, recs: &[&Record]) -> Result<Vec<Recorded>, WebhookJobError> {
        let tx = self.db.begin_write().await?;
        webhook_attempt::Entity::insert_many(recs.iter().map(|r| webhook_attempt::ActiveModel {
            delivery_id: Set(r.delivery.id),
            attempt: Set(r.attempt),
            status_code: Set(r.response.status.map(i32::from)),
            latency_ms: Set(r.latency_ms),
            response_excerpt: Set(r.response.excerpt.clone()),
            error: Set(r.response.error.clone()),
            created_at: Set(r.now),
            ..Default::default()
        }))
        .exec_without_returning(&tx)
        .await?;
        // Successes with the same attempt count and status finish in one statement.
        let mut succeeded: HashMap<(i32, Option<u16>), Vec<i64>> = HashMap::new();
        let mut finished: Vec<&webhook_delivery::Model> = Vec::new();
        let mut out = Vec::with_capacity(recs.len());
        for r in recs {
            let d = &r.delivery;
            let endpoint = &r.endpoint.model;
            let failing = r.outcome != ResponseOutcome::Delivered;
            if failing != endpoint.failing_since.is_some() {
                // Conditional, so a cached endpoint that is a little stale cannot move the
                // start of a failure streak.
                let mut q = webhook_endpoint::Entity::update_many()
                    .col_expr(
                        webhook_endpoint::Column::FailingSince,
                        Expr::value(failing.then_some(r.now)),
                    )
                    .filter(webhook_endpoint::Column::Id.eq(endpoint.id));
                q = if failing {
                    q.filter(webhook_endpoint::Column::FailingSince.is_null())
                } else {
                    q.filter(webhook_endpoint::Column::FailingSince.is_not_null())
                };
                q.exec(&tx).await?;
            }
            if let Some(reason) = &r.disable {
                disable(&tx, endpoint, reason, r.now).await?;
            }
            let error = r.response.error.clone().or_else(|| {
                r.response
                    .status
                    .filter(|s| !(200..300).contains(s))
                    .map(|s| format!("the endpoint answered {s}"))
            });
            let done = match (r.outcome, r.retry_at) {
                (ResponseOutcome::Delivered, _) => {
                    succeeded
                        .entry((r.attempt, r.response.status))
                        .or_default()
                        .push(d.id);
                    true
                }
                (_, Some(at)) => {
                    webhook_delivery::Entity::update_many()
                        .col_expr(webhook_delivery::Column::Status, Expr::value("pending"))
                        .col_expr(webhook_delivery::Column::Attempts, Expr::value(r.attempt))
                        .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(at))
                        .col_expr(
                            webhook_delivery::Column::LockedUntil,
                            Expr::value(None::<DateTime<Utc>>),
                        )
                        .col_expr(
                            webhook_delivery::Column::LastStatusCode,
                            Expr::value(r.response.status.map(i32::from)),
                        )
                        .col_expr(webhook_delivery::Column::LastError, Expr::value(error))
                        .col_expr(webhook_delivery::Column::UpdatedAt, Expr::value(r.now))
                        .filter(webhook_delivery::Column::Id.eq(d.id))
                        .exec(&tx)
                        .await?;
                    false
                }
                (_, None) => {
                    finish(&tx, d, "failed", r.attempt, r.response.status, error, r.now).await?;
                    true
                }
            };
            if done {
                finished.push(d);
            }
            out.push(done);
        }
        let now = recs.iter().map(|r| r.now).max().unwrap_or_else(Utc::now);
        for ((attempts, code), ids) in succeeded {
            let n = ids.len() as u64;
            finish_many(&tx, ids, "succeeded", attempts, code, None, now).await?;
            metrics::counter!("kefu_webhook_deliveries_total", "status" => "succeeded")
                .increment(n);
        }
        let next = successors(&tx, &finished).await?;
        tx.commit().await?;

        // Queued after the commit, so each job finds its delivery pending and due. A crash in
        // between leaves pending, overdue deliveries, which the sweep re-queues.
        let retries: Vec<NewJob<WebhookJob>> = recs
            .iter()
            .filter_map(|r| {
                let at = r
                    .retry_at
                    .filter(|_| r.outcome != ResponseOutcome::Delivered)?;
                let delay = (at - r.now).to_std().unwrap_or_default();
                Some(
                    NewJob::now(WebhookJob {
                        delivery_id: r.delivery.id,
                    })
                    .after(delay)
                    .key(format!("wh:{}:{}", r.delivery.id, r.attempt)),
                )
            })
            .collect();
        self.jobs.push_webhook(retries).await?;
        Ok(recs
            .iter()
            .zip(out)
            .map(|(r, finished)| Recorded {
                finished,
                successor: finished
                    .then(|| next.get(&r.delivery.id).copied())
                    .flatten(),
            })
            .collect())
    }
}

async fn disable(
    tx: &impl ConnectionTrait,
    endpoint: &webhook_endpoint::Model,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), WebhookJobError> {
    tracing::warn!(endpoint = endpoint.id, url = %endpoint.url, %reason, "Disabling a webhook endpoint.");
    webhook_endpoint::Entity::update_many()
        .col_expr(webhook_endpoint::Column::Enabled, Expr::value(false))
        .col_expr(
            webhook_endpoint::Column::DisabledReason,
            Expr::value(reason.to_owned()),
        )
        .col_expr(webhook_endpoint::Column::UpdatedAt, Expr::value(now))
        .filter(webhook_endpoint::Column::Id.eq(endpoint.id))
        .exec(tx)
        .await?;
    // Its other unfinished deliveries will not be attempted: record why.
    webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::Status, Expr::value("failed"))
        .col_expr(
            webhook_delivery::Column::LastError,
            Expr::value("the endpoint was disabled"),
        )
        .col_expr(webhook_delivery::Column::CompletedAt, Expr::value(now))
        .col_expr(webhook_delivery::Column::UpdatedAt, Expr::value(now))
        .filter(webhook_delivery::Column::EndpointId.eq(endpoint.id))
        .filter(webhook_delivery::Column::Status.eq("pending"))
        .exec(tx)
        .await?;
    Ok(())
}

/// Records the end of a delivery.
async fn finish(
    tx: &impl ConnectionTrait,
    d: &webhook_delivery::Model,
    status: &str,
    attempts: i32,
    code: Option<u16>,
    error: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), WebhookJobError> {
    finish_many(tx, vec![d.id], status, attempts, code, error, now).await?;
    metrics::counter!("kefu_webhook_deliveries_total", "status" => status.to_owned()).increment(1);
    Ok(())
}

/// Records the end of deliveries that ended alike.
async fn finish_many(
    tx: &impl ConnectionTrait,
    ids: Vec<i64>,
    status: &str,
    attempts: i32,
    code: Option<u16>,
    error: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), WebhookJobError> {
    webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::Status, Expr::value(status))
        .col_expr(webhook_delivery::Column::Attempts, Expr::value(attempts))
        .col_expr(
            webhook_delivery::Column::NextAttemptAt,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(
            webhook_delivery::Column::LockedUntil,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(
            webhook_delivery::Column::LastStatusCode,
            Expr::value(code.map(i32::from)),
        )
        .col_expr(webhook_delivery::Column::LastError, Expr::value(error))
        .col_expr(webhook_delivery::Column::CompletedAt, Expr::value(now))
        .col_expr(webhook_delivery::Column::UpdatedAt, Expr::value(now))
        .filter(webhook_delivery::Column::Id.is_in(ids))
        .exec(tx)
        .await?;
    Ok(())
}

/// For each finished delivery, the next unfinished delivery of the same conversation to the
/// same endpoint, which waited for it; one query for all of them.
async fn successors(
    tx: &impl ConnectionTrait,
    finished: &[&webhook_delivery::Model],
) -> Result<HashMap<i64, i64>, WebhookJobError> {
    let keyed: Vec<(i64, (i64, i64))> = finished
        .iter()
        .filter_map(|d| Some((d.id, (d.endpoint_id, d.conversation_id?))))
        .collect();
    let Some(after) = keyed.iter().map(|(id, _)| *id).min() else {
        return Ok(HashMap::new());
    };
    let endpoints: HashSet<i64> = keyed.iter().map(|(_, (e, _))| *e).collect();
    let conversations: HashSet<i64> = keyed.iter().map(|(_, (_, c))| *c).collect();
    let firsts: Vec<(i64, Option<i64>, Option<i64>)> = webhook_delivery::Entity::find()
        .select_only()
        .column(webhook_delivery::Column::EndpointId)
        .column(webhook_delivery::Column::ConversationId)
        .column_as(webhook_delivery::Column::Id.min(), "first")
        .filter(webhook_delivery::Column::EndpointId.is_in(endpoints))
        .filter(webhook_delivery::Column::ConversationId.is_in(conversations))
        .filter(webhook_delivery::Column::Status.eq("pending"))
        .filter(webhook_delivery::Column::Id.gt(after))
        .group_by(webhook_delivery::Column::EndpointId)
        .group_by(webhook_delivery::Column::ConversationId)
        .into_tuple()
        .all(tx)
        .await?;
    let first: HashMap<(i64, i64), i64> = firsts
        .into_iter()
        .filter_map(|(e, c, id)| Some(((e, c?), id?)))
        .collect();
    // Only one delivery per endpoint and conversation is in flight, so nothing pending in its
    // conversation comes before a finished one; the id check guards that anyway.
    Ok(keyed
        .into_iter()
        .filter_map(|(id, key)| first.get(&key).filter(|&&next| next > id).map(|&n| (id, n)))
        .collect())
}

/// A transport error in words, including the cause chain (which carries the refused address).
fn describe(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() {
        "the endpoint did not answer in time".to_owned()
    } else if e.is_connect() {
        "cannot connect to the endpoint".to_owned()
    } else {
        "the request failed".to_owned()
    };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
