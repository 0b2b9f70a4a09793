//! The webhook delivery worker: one [`WebhookJob`] makes one attempt of one delivery.
//!
//! A delivery is claimed with a conditional update that also checks per-conversation order:
//! it only proceeds when no earlier delivery of the same conversation to the same endpoint is
//! still unfinished. A blocked job simply ends; the earlier delivery queues its successor when
//! it finishes. The claim is a lease, so a worker that dies mid-attempt does not block the
//! delivery forever.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use kefu_normalizer::entity::{webhook_attempt, webhook_delivery, webhook_endpoint};
use kefu_normalizer::{Db, StoreError};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use super::store::WebhookStore;
use super::{
    ResponseOutcome, RetrySchedule, WebhookHeaders, classify_status, parse_retry_after,
    response_excerpt, should_disable, target,
};
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
pub struct WebhookDeliverer {
    db: Db,
    store: WebhookStore,
    jobs: JobStore,
    client: reqwest::Client,
    settings: DeliverySettings,
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

impl WebhookDeliverer {
    /// A deliverer; builds its HTTP client (no redirects, checked DNS).
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
        Ok(Self {
            db,
            store,
            jobs,
            client,
            settings,
        })
    }

    /// Claims the delivery (if it is due, unfinished and first in its conversation's order).
    async fn claim(
        &self,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<Option<webhook_delivery::Model>, WebhookJobError> {
        let lease = now
            + chrono::Duration::from_std(self.settings.timeout + Duration::from_secs(60))
                .unwrap_or_default();
        let slack = now + chrono::Duration::seconds(1);
        let rows = webhook_delivery::Entity::update_many()
            .col_expr(webhook_delivery::Column::Status, Expr::value("sending"))
            .col_expr(webhook_delivery::Column::LockedUntil, Expr::value(lease))
            .col_expr(webhook_delivery::Column::UpdatedAt, Expr::value(now))
            .filter(webhook_delivery::Column::Id.eq(id))
            .filter(
                Condition::any()
                    .add(webhook_delivery::Column::Status.eq("pending"))
                    .add(
                        Condition::all()
                            .add(webhook_delivery::Column::Status.eq("sending"))
                            .add(webhook_delivery::Column::LockedUntil.lt(now)),
                    ),
            )
            .filter(
                Condition::any()
                    .add(webhook_delivery::Column::NextAttemptAt.is_null())
                    .add(webhook_delivery::Column::NextAttemptAt.lte(slack)),
            )
            .filter(Expr::cust(FIRST_IN_ORDER))
            .exec_with_returning(self.db.conn())
            .await?;
        Ok(rows.into_iter().next())
    }

    /// Makes one attempt of delivery `job.delivery_id`, if it is due. When that finishes the
    /// delivery, the next one of the same conversation (which waited for it) is claimed and
    /// attempted right here, up to [`CHAIN`] in a row, instead of waiting for a job of its own.
    pub async fn run(&self, job: WebhookJob) -> Result<(), WebhookJobError> {
        // `None`: finished, claimed elsewhere, not due, or waiting for an earlier one.
        let mut claimed = self.claim(job.delivery_id, Utc::now()).await?;
        let mut chained = 0;
        while let Some(d) = claimed.take() {
            if !self.attempt(&d).await? {
                break;
            }
            chained += 1;
            let Some(next) = self.successor(&d).await? else {
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
            claimed = self.claim(next, Utc::now()).await?;
        }
        Ok(())
    }

    /// One attempt of a claimed delivery; `true` when it finished it (succeeded or failed for
    /// good), `false` when another attempt is scheduled.
    async fn attempt(&self, d: &webhook_delivery::Model) -> Result<bool, WebhookJobError> {
        let now = Utc::now();
        let d = d.clone();
        let Some(endpoint) = webhook_endpoint::Entity::find_by_id(d.endpoint_id)
            .one(self.db.conn())
            .await?
        else {
            return Ok(false); // deleted with its deliveries
        };
        if !endpoint.enabled {
            let tx = self.db.begin_write().await?;
            self.finish(
                &tx,
                &d,
                "failed",
                d.attempts,
                None,
                Some("the endpoint is disabled".into()),
                now,
            )
            .await?;
            tx.commit().await?;
            return Ok(true);
        }
        let attempt = d.attempts + 1;
        let started = Instant::now();
        let response = match self.store.secrets(&endpoint) {
            Ok((current, previous)) => {
                let headers = WebhookHeaders::new(
                    &d.msg_id,
                    Utc::now(),
                    d.body.as_bytes(),
                    &current,
                    previous.as_ref(),
                );
                self.post(&endpoint.url, &headers, d.body.clone()).await
            }
            Err(e) => Response {
                status: None,
                excerpt: None,
                error: Some(e),
                retry_after: None,
            },
        };
        let latency = started.elapsed();
        metrics::histogram!("kefu_webhook_attempt_seconds").record(latency.as_secs_f64());
        let outcome = match response.status {
            Some(s) => classify_status(s),
            None => ResponseOutcome::Retry,
        };
        let error = response.error.clone().or_else(|| {
            response
                .status
                .filter(|s| !(200..300).contains(s))
                .map(|s| format!("the endpoint answered {s}"))
        });
        let label = match outcome {
            ResponseOutcome::Delivered => "succeeded",
            ResponseOutcome::Retry => "retry",
            ResponseOutcome::DisableEndpoint => "gone",
        };
        metrics::counter!("kefu_webhook_attempts_total", "outcome" => label).increment(1);
        let now = Utc::now();

        // What to do next, decided before writing anything.
        let failing_since = endpoint.failing_since.unwrap_or(now);
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

        // The attempt's log line and the delivery's new state commit together.
        let tx = self.db.begin_write().await?;
        webhook_attempt::ActiveModel {
            delivery_id: Set(d.id),
            attempt: Set(attempt),
            status_code: Set(response.status.map(i32::from)),
            latency_ms: Set(i32::try_from(latency.as_millis()).unwrap_or(i32::MAX)),
            response_excerpt: Set(response.excerpt.clone()),
            error: Set(response.error.clone()),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&tx)
        .await?;
        let failing = !matches!(outcome, ResponseOutcome::Delivered);
        if failing != endpoint.failing_since.is_some() {
            webhook_endpoint::Entity::update_many()
                .col_expr(
                    webhook_endpoint::Column::FailingSince,
                    Expr::value(failing.then_some(now)),
                )
                .filter(webhook_endpoint::Column::Id.eq(endpoint.id))
                .exec(&tx)
                .await?;
        }
        if let Some(reason) = &disable {
            self.disable(&tx, &endpoint, reason, now).await?;
        }
        let finished = match (outcome, retry_at) {
            (ResponseOutcome::Delivered, _) => {
                self.finish(&tx, &d, "succeeded", attempt, response.status, None, now)
                    .await?;
                true
            }
            (_, Some(at)) => {
                webhook_delivery::Entity::update_many()
                    .col_expr(webhook_delivery::Column::Status, Expr::value("pending"))
                    .col_expr(webhook_delivery::Column::Attempts, Expr::value(attempt))
                    .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(at))
                    .col_expr(
                        webhook_delivery::Column::LockedUntil,
                        Expr::value(None::<DateTime<Utc>>),
                    )
                    .col_expr(
                        webhook_delivery::Column::LastStatusCode,
                        Expr::value(response.status.map(i32::from)),
                    )
                    .col_expr(webhook_delivery::Column::LastError, Expr::value(error))
                    .col_expr(webhook_delivery::Column::UpdatedAt, Expr::value(now))
                    .filter(webhook_delivery::Column::Id.eq(d.id))
                    .exec(&tx)
                    .await?;
                false
            }
            (_, None) => {
                self.finish(&tx, &d, "failed", attempt, response.status, error, now)
                    .await?;
                true
            }
        };
        tx.commit().await?;
        if let Some(at) = retry_at {
            // Queued after the commit, so the job finds the delivery pending and due. A crash
            // in between leaves a pending, overdue delivery, which the sweep re-queues.
            let delay = (at - now).to_std().unwrap_or_default();
            self.jobs
                .push_webhook(vec![
                    NewJob::now(WebhookJob { delivery_id: d.id })
                        .after(delay)
                        .key(format!("wh:{}:{attempt}", d.id)),
                ])
                .await?;
        }
        Ok(finished)
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

    async fn disable(
        &self,
        tx: &impl ConnectionTrait,
        endpoint: &webhook_endpoint::Model,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(), WebhookJobError> {
        tracing::warn!(endpoint = endpoint.id, url = %endpoint.url, %reason, "Disabling a webhook endpoint.");
        let mut am: webhook_endpoint::ActiveModel = endpoint.clone().into();
        am.enabled = Set(false);
        am.disabled_reason = Set(Some(reason.to_owned()));
        am.updated_at = Set(now);
        am.update(tx).await?;
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
    #[allow(clippy::too_many_arguments)]
    async fn finish(
        &self,
        tx: &impl ConnectionTrait,
        d: &webhook_delivery::Model,
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
            .filter(webhook_delivery::Column::Id.eq(d.id))
            .exec(tx)
            .await?;
        metrics::counter!("kefu_webhook_deliveries_total", "status" => status.to_owned())
            .increment(1);
        Ok(())
    }

    /// The next unfinished delivery of the same conversation to the same endpoint, which
    /// waited for `d` to finish.
    async fn successor(&self, d: &webhook_delivery::Model) -> Result<Option<i64>, WebhookJobError> {
        let Some(conversation) = d.conversation_id else {
            return Ok(None);
        };
        Ok(webhook_delivery::Entity::find()
            .select_only()
            .column(webhook_delivery::Column::Id)
            .filter(webhook_delivery::Column::EndpointId.eq(d.endpoint_id))
            .filter(webhook_delivery::Column::ConversationId.eq(conversation))
            .filter(webhook_delivery::Column::Status.eq("pending"))
            .filter(webhook_delivery::Column::Id.gt(d.id))
            .order_by_asc(webhook_delivery::Column::Id)
            .into_tuple()
            .one(self.db.conn())
            .await?)
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
                    .add(
                        Condition::all()
                            .add(webhook_delivery::Column::Status.eq("sending"))
                            .add(webhook_delivery::Column::LockedUntil.lt(now)),
                    ),
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
