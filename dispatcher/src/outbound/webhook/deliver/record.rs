//! The record SQL of webhook attempts: the attempt log lines, the deliveries' new state, the
//! endpoint's failure streak and auto-disable, and the retry jobs, for a batch of attempts in
//! one transaction.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use kefu_normalizer::Db;
use kefu_normalizer::WebhookDeliveryStatus;
use kefu_normalizer::entity::{webhook_attempt, webhook_delivery, webhook_endpoint};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set};

use super::WebhookJobError;
use super::client::Response;
use super::endpoints::CachedEndpoint;
use crate::jobs::{JobStore, NewJob, WebhookJob};
use crate::outbound::decision::Decision;

/// The result of one attempt, waiting to be recorded.
pub(super) struct Record {
    /// The claimed delivery.
    pub(super) delivery: webhook_delivery::Model,
    /// Its endpoint, as the attempt saw it.
    pub(super) endpoint: Arc<CachedEndpoint>,
    /// The attempt's number (from 1).
    pub(super) attempt: i32,
    /// What the endpoint answered.
    pub(super) response: Response,
    /// How long the attempt took.
    pub(super) latency_ms: i32,
    /// What follows: recorded as a success, retried, failed, or failed with the endpoint
    /// disabled.
    pub(super) decision: Decision,
    /// When the attempt finished.
    pub(super) now: DateTime<Utc>,
}

/// What recording an attempt came to.
#[derive(Debug, Clone, Copy)]
pub(super) struct Recorded {
    /// The delivery is finished (succeeded or failed for good).
    pub(super) finished: bool,
    /// The next unfinished delivery of the same conversation to the same endpoint, which
    /// waited for this one.
    pub(super) successor: Option<i64>,
}

/// Records attempts' results: the attempt log lines and the deliveries' new state.
#[derive(Clone)]
pub(super) struct Recorder {
    db: Db,
    jobs: JobStore,
}

impl Recorder {
    /// A recorder writing to `db` and queueing retries on `jobs`.
    pub(super) fn new(db: Db, jobs: JobStore) -> Self {
        Self { db, jobs }
    }

    /// Records a batch in one transaction; should that fail, records each alone, so one bad
    /// record never takes the others down with it.
    pub(super) async fn record(&self, recs: Vec<Record>) -> Vec<Result<Recorded, String>> {
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
            let failing = r.decision != Decision::Record;
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
            if let Decision::Disable(reason) = &r.decision {
                disable(&tx, endpoint, reason, r.now).await?;
            }
            let error = r.response.error.clone().or_else(|| {
                r.response
                    .status
                    .filter(|s| !(200..300).contains(s))
                    .map(|s| format!("the endpoint answered {s}"))
            });
            let done = match &r.decision {
                Decision::Record => {
                    succeeded
                        .entry((r.attempt, r.response.status))
                        .or_default()
                        .push(d.id);
                    true
                }
                Decision::RetryAt(at) => {
                    webhook_delivery::Entity::update_many()
                        .col_expr(
                            webhook_delivery::Column::Status,
                            Expr::value(WebhookDeliveryStatus::Pending),
                        )
                        .col_expr(webhook_delivery::Column::Attempts, Expr::value(r.attempt))
                        .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(*at))
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
                Decision::GiveUp(_) | Decision::Disable(_) => {
                    finish(
                        &tx,
                        d,
                        WebhookDeliveryStatus::Failed,
                        r.attempt,
                        r.response.status,
                        error,
                        r.now,
                    )
                    .await?;
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
            finish_many(
                &tx,
                ids,
                WebhookDeliveryStatus::Succeeded,
                attempts,
                code,
                None,
                now,
            )
            .await?;
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
                let Decision::RetryAt(at) = r.decision else {
                    return None;
                };
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
        .col_expr(
            webhook_delivery::Column::Status,
            Expr::value(WebhookDeliveryStatus::Failed),
        )
        .col_expr(
            webhook_delivery::Column::LastError,
            Expr::value("the endpoint was disabled"),
        )
        .col_expr(webhook_delivery::Column::CompletedAt, Expr::value(now))
        .col_expr(webhook_delivery::Column::UpdatedAt, Expr::value(now))
        .filter(webhook_delivery::Column::EndpointId.eq(endpoint.id))
        .filter(webhook_delivery::Column::Status.eq(WebhookDeliveryStatus::Pending))
        .exec(tx)
        .await?;
    Ok(())
}

/// Records the end of a delivery.
async fn finish(
    tx: &impl ConnectionTrait,
    d: &webhook_delivery::Model,
    status: WebhookDeliveryStatus,
    attempts: i32,
    code: Option<u16>,
    error: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), WebhookJobError> {
    finish_many(tx, vec![d.id], status, attempts, code, error, now).await?;
    metrics::counter!("kefu_webhook_deliveries_total", "status" => status.as_str()).increment(1);
    Ok(())
}

/// Records the end of deliveries that ended alike.
async fn finish_many(
    tx: &impl ConnectionTrait,
    ids: Vec<i64>,
    status: WebhookDeliveryStatus,
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
        .filter(webhook_delivery::Column::Status.eq(WebhookDeliveryStatus::Pending))
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

/// Fails a claimed delivery without an attempt (its endpoint is disabled), in a transaction of
/// its own, and finds the delivery that waited for it.
pub(super) async fn fail_unattempted(
    db: &Db,
    d: &webhook_delivery::Model,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Recorded, WebhookJobError> {
    let tx = db.begin_write().await?;
    finish(
        &tx,
        d,
        WebhookDeliveryStatus::Failed,
        d.attempts,
        None,
        Some(reason.to_owned()),
        now,
    )
    .await?;
    let successor = successors(&tx, &[d]).await?.get(&d.id).copied();
    tx.commit().await?;
    Ok(Recorded {
        finished: true,
        successor,
    })
}

/// Gives a claimed delivery back without an attempt: its endpoint has no slot free (Kefu's own
/// pacing, not a failure). It is pending again, due at `due`, with a job queued for then.
pub(super) async fn postpone(
    db: &Db,
    jobs: &JobStore,
    d: &webhook_delivery::Model,
    due: DateTime<Utc>,
) -> Result<Recorded, WebhookJobError> {
    let now = Utc::now();
    webhook_delivery::Entity::update_many()
        .col_expr(
            webhook_delivery::Column::Status,
            Expr::value(WebhookDeliveryStatus::Pending),
        )
        .col_expr(
            webhook_delivery::Column::LockedUntil,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(due))
        .col_expr(webhook_delivery::Column::UpdatedAt, Expr::value(now))
        .filter(webhook_delivery::Column::Id.eq(d.id))
        .filter(webhook_delivery::Column::Status.eq(WebhookDeliveryStatus::Sending))
        .exec(db.conn())
        .await?;
    let delay = (due - now).to_std().unwrap_or_default();
    jobs.push_webhook(vec![
        NewJob::now(WebhookJob { delivery_id: d.id })
            .after(delay)
            .key(format!(
                "wh:{}:{}:paced:{}",
                d.id,
                d.attempts,
                due.timestamp_millis()
            )),
    ])
    .await?;
    Ok(Recorded {
        finished: false,
        successor: None,
    })
}
