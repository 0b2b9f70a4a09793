//! Webhook endpoints and their delivery log in the database: subscribe, change, rotate the
//! secret, list deliveries with every attempt, redeliver, and the failed-deliveries view.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use kefu_normalizer::WebhookDeliveryStatus;
use kefu_normalizer::entity::{webhook_attempt, webhook_delivery, webhook_endpoint};
use kefu_normalizer::{Db, StoreError};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{EventFilter, Secret, check_url};
use crate::jobs::{JobStore, NewJob, WebhookJob};

/// Encrypts secrets at rest; the gateway implements it with the instance key.
pub trait Sealer: Send + Sync + 'static {
    /// Encrypts `plain`.
    fn seal(&self, plain: &[u8]) -> String;
    /// Decrypts what [`Sealer::seal`] produced.
    fn open(&self, sealed: &str) -> Option<Vec<u8>>;
}

/// How long the secret before a rotation keeps signing alongside the new one.
pub const ROTATION_OVERLAP: Duration = Duration::from_secs(24 * 3600);

/// An endpoint as the API shows it (never its secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EndpointView {
    /// Endpoint id.
    pub id: i64,
    /// Where events are POSTed.
    pub url: String,
    /// A note for people.
    pub description: Option<String>,
    /// Subscribed event types, or `["*"]`.
    pub events: Vec<String>,
    /// Disabled endpoints receive nothing.
    pub enabled: bool,
    /// Why it was disabled.
    pub disabled_reason: Option<String>,
    /// Failing without a success since then.
    pub failing_since: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// An endpoint with its secret, shown once at creation and after a rotation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EndpointWithSecret {
    /// The endpoint.
    #[serde(flatten)]
    pub endpoint: EndpointView,
    /// The `whsec_...` signing secret.
    pub secret: String,
}

/// One HTTP attempt of a delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AttemptView {
    /// 1 for the first attempt.
    pub attempt: i32,
    /// The receiver's status; absent when there was no response.
    pub status_code: Option<i32>,
    /// How long the attempt took.
    pub latency_ms: i32,
    /// The start of the response body.
    pub response_excerpt: Option<String>,
    /// What went wrong without a response (timeout, refused connection, refused address).
    pub error: Option<String>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

/// One event to one endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DeliveryView {
    /// Delivery id.
    pub id: i64,
    /// The endpoint.
    pub endpoint_id: i64,
    /// The `webhook-id` header.
    pub webhook_id: String,
    /// The event type.
    pub event_type: String,
    /// The conversation the event concerns.
    pub conversation_id: Option<i64>,
    /// Where the delivery stands.
    pub status: WebhookDeliveryStatus,
    /// Attempts made.
    pub attempts: i32,
    /// When the next attempt is due.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The last response status.
    pub last_status_code: Option<i32>,
    /// The last error.
    pub last_error: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Succeeded or given up.
    pub completed_at: Option<DateTime<Utc>>,
    /// Every attempt, oldest first (in single-delivery reads and the delivery list).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt_log: Option<Vec<AttemptView>>,
}

/// A new subscription.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEndpoint {
    /// `https://...` (or `http://` to private hosts when allowed).
    pub url: String,
    /// Event types, or `["*"]`.
    pub events: Vec<String>,
    /// A note for people.
    #[serde(default)]
    pub description: Option<String>,
    /// Use this secret instead of a generated one (`whsec_` + base64 of 24–64 bytes).
    #[serde(default)]
    pub secret: Option<String>,
}

/// Changes to a subscription; absent fields stay.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointPatch {
    /// New URL.
    pub url: Option<String>,
    /// New event types.
    pub events: Option<Vec<String>>,
    /// New note.
    pub description: Option<String>,
    /// Enable (clears the failure record) or disable.
    pub enabled: Option<bool>,
}

/// The webhook store.
#[derive(Clone)]
pub struct WebhookStore {
    db: Db,
    sealer: Arc<dyn Sealer>,
    jobs: JobStore,
    allow_private: bool,
    /// Bumped by every change to an endpoint made through this store, so the delivery
    /// worker's endpoint cache sees this node's changes at once.
    changes: Arc<std::sync::atomic::AtomicU64>,
}

fn view(m: &webhook_endpoint::Model) -> EndpointView {
    EndpointView {
        id: m.id,
        url: m.url.clone(),
        description: m.description.clone(),
        events: serde_json::from_value(m.events.clone()).unwrap_or_default(),
        enabled: m.enabled,
        disabled_reason: m.disabled_reason.clone(),
        failing_since: m.failing_since,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

/// The API shape of a delivery row.
pub fn delivery_view(d: &webhook_delivery::Model, log: Option<Vec<AttemptView>>) -> DeliveryView {
    DeliveryView {
        id: d.id,
        endpoint_id: d.endpoint_id,
        webhook_id: d.msg_id.clone(),
        event_type: d.event_type.clone(),
        conversation_id: d.conversation_id,
        status: d.status,
        attempts: d.attempts,
        next_attempt_at: d.next_attempt_at,
        last_status_code: d.last_status_code,
        last_error: d.last_error.clone(),
        created_at: d.created_at,
        completed_at: d.completed_at,
        attempt_log: log,
    }
}

fn attempt_view(a: &webhook_attempt::Model) -> AttemptView {
    AttemptView {
        attempt: a.attempt,
        status_code: a.status_code,
        latency_ms: a.latency_ms,
        response_excerpt: a.response_excerpt.clone(),
        error: a.error.clone(),
        created_at: a.created_at,
    }
}

impl WebhookStore {
    /// The store; `allow_private` permits targets on private and loopback addresses.
    pub fn new(db: Db, sealer: Arc<dyn Sealer>, jobs: JobStore, allow_private: bool) -> Self {
        Self {
            db,
            sealer,
            jobs,
            allow_private,
            changes: Arc::default(),
        }
    }

    /// How many endpoint changes this store has made (see [`WebhookStore::changed`]).
    pub(crate) fn changes(&self) -> u64 {
        self.changes.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Counts a change to an endpoint, so this node's caches of endpoints drop what they hold.
    pub(crate) fn changed(&self) {
        self.changes
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    fn check(&self, url: &str, events: &[String]) -> Result<Vec<String>, StoreError> {
        check_url(url, self.allow_private).map_err(|e| {
            let hint = if e.is_private_refusal() {
                "; to deliver to private or loopback addresses (tests, intranets), set \
                 webhooks.allow_private_targets = true (KEFU_WEBHOOKS__ALLOW_PRIVATE_TARGETS=true)"
            } else {
                ""
            };
            StoreError::Invalid(format!("url: {e}{hint}"))
        })?;
        let filter =
            EventFilter::parse(events).map_err(|e| StoreError::Invalid(format!("events: {e}")))?;
        Ok(match filter {
            EventFilter::All => vec!["*".to_owned()],
            EventFilter::Only(_) => filter.names().into_iter().map(str::to_owned).collect(),
        })
    }

    /// Subscribes; the answer carries the secret, which is never shown again.
    pub async fn create(&self, new: NewEndpoint) -> Result<EndpointWithSecret, StoreError> {
        let events = self.check(&new.url, &new.events)?;
        let secret = match &new.secret {
            Some(s) => Secret::parse(s).map_err(|e| StoreError::Invalid(format!("secret: {e}")))?,
            None => Secret::generate(),
        };
        let now = Utc::now();
        let row = webhook_endpoint::ActiveModel {
            url: Set(new.url.trim().to_owned()),
            description: Set(new.description),
            events: Set(serde_json::json!(events)),
            secret_ciphertext: Set(self.sealer.seal(secret.as_bytes())),
            previous_secret_ciphertext: Set(None),
            previous_secret_expires_at: Set(None),
            enabled: Set(true),
            disabled_reason: Set(None),
            failing_since: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(self.db.conn())
        .await?;
        Ok(EndpointWithSecret {
            endpoint: view(&row),
            secret: secret.to_string(),
        })
    }

    async fn row(&self, id: i64) -> Result<webhook_endpoint::Model, StoreError> {
        webhook_endpoint::Entity::find_by_id(id)
            .one(self.db.conn())
            .await?
            .ok_or(StoreError::NotFound("webhook endpoint"))
    }

    /// One endpoint.
    pub async fn get(&self, id: i64) -> Result<EndpointView, StoreError> {
        Ok(view(&self.row(id).await?))
    }

    /// All endpoints, oldest first.
    pub async fn list(&self) -> Result<Vec<EndpointView>, StoreError> {
        Ok(webhook_endpoint::Entity::find()
            .order_by_asc(webhook_endpoint::Column::Id)
            .all(self.db.conn())
            .await?
            .iter()
            .map(view)
            .collect())
    }

    /// Changes an endpoint.
    pub async fn update(&self, id: i64, patch: EndpointPatch) -> Result<EndpointView, StoreError> {
        let row = self.row(id).await?;
        let url = patch.url.clone().unwrap_or_else(|| row.url.clone());
        let events = match &patch.events {
            Some(e) => e.clone(),
            None => serde_json::from_value(row.events.clone()).unwrap_or_default(),
        };
        let events = self.check(&url, &events)?;
        let mut am = row.into_active_model();
        am.url = Set(url.trim().to_owned());
        am.events = Set(serde_json::json!(events));
        if let Some(d) = patch.description {
            am.description = Set(Some(d));
        }
        if let Some(enabled) = patch.enabled {
            am.enabled = Set(enabled);
            am.failing_since = Set(None);
            am.disabled_reason = Set((!enabled).then(|| "disabled through the API".to_owned()));
        }
        am.updated_at = Set(Utc::now());
        let row = am.update(self.db.conn()).await?;
        self.changed();
        Ok(view(&row))
    }

    /// Deletes an endpoint with its delivery log.
    pub async fn delete(&self, id: i64) -> Result<(), StoreError> {
        let res = webhook_endpoint::Entity::delete_by_id(id)
            .exec(self.db.conn())
            .await?;
        self.changed();
        if res.rows_affected == 0 {
            return Err(StoreError::NotFound("webhook endpoint"));
        }
        Ok(())
    }

    /// Replaces the secret; the old one keeps signing too for [`ROTATION_OVERLAP`] so
    /// receivers can switch without losing events.
    pub async fn rotate_secret(&self, id: i64) -> Result<EndpointWithSecret, StoreError> {
        let row = self.row(id).await?;
        let secret = Secret::generate();
        let now = Utc::now();
        let overlap = chrono::Duration::from_std(ROTATION_OVERLAP).unwrap_or_default();
        let mut am = row.clone().into_active_model();
        am.previous_secret_ciphertext = Set(Some(row.secret_ciphertext));
        am.previous_secret_expires_at = Set(Some(now + overlap));
        am.secret_ciphertext = Set(self.sealer.seal(secret.as_bytes()));
        am.updated_at = Set(now);
        let row = am.update(self.db.conn()).await?;
        self.changed();
        Ok(EndpointWithSecret {
            endpoint: view(&row),
            secret: secret.to_string(),
        })
    }

    /// An endpoint's deliveries, newest first, each with its attempts. `status` filters,
    /// `before` is an id cursor.
    pub async fn deliveries(
        &self,
        endpoint_id: i64,
        status: Option<WebhookDeliveryStatus>,
        before: Option<i64>,
        limit: u64,
    ) -> Result<Vec<DeliveryView>, StoreError> {
        self.row(endpoint_id).await?;
        let mut q = webhook_delivery::Entity::find()
            .filter(webhook_delivery::Column::EndpointId.eq(endpoint_id))
            .order_by_desc(webhook_delivery::Column::Id)
            .limit(limit);
        if let Some(s) = status {
            q = q.filter(webhook_delivery::Column::Status.eq(s));
        }
        if let Some(b) = before {
            q = q.filter(webhook_delivery::Column::Id.lt(b));
        }
        self.with_logs(q.all(self.db.conn()).await?).await
    }

    /// Failed deliveries of every endpoint, newest first (the dead-letter view).
    pub async fn failed(
        &self,
        before: Option<i64>,
        limit: u64,
    ) -> Result<Vec<DeliveryView>, StoreError> {
        let mut q = webhook_delivery::Entity::find()
            .filter(webhook_delivery::Column::Status.eq(WebhookDeliveryStatus::Failed))
            .order_by_desc(webhook_delivery::Column::Id)
            .limit(limit);
        if let Some(b) = before {
            q = q.filter(webhook_delivery::Column::Id.lt(b));
        }
        self.with_logs(q.all(self.db.conn()).await?).await
    }

    async fn with_logs(
        &self,
        rows: Vec<webhook_delivery::Model>,
    ) -> Result<Vec<DeliveryView>, StoreError> {
        let ids: Vec<i64> = rows.iter().map(|d| d.id).collect();
        let attempts = webhook_attempt::Entity::find()
            .filter(webhook_attempt::Column::DeliveryId.is_in(ids))
            .order_by_asc(webhook_attempt::Column::Id)
            .all(self.db.conn())
            .await?;
        Ok(rows
            .iter()
            .map(|d| {
                let log = attempts
                    .iter()
                    .filter(|a| a.delivery_id == d.id)
                    .map(attempt_view)
                    .collect();
                delivery_view(d, Some(log))
            })
            .collect())
    }

    /// Delivers an event again (manual redelivery): a finished delivery goes back to
    /// `pending` and gets one more attempt now.
    pub async fn redeliver(
        &self,
        endpoint_id: i64,
        delivery_id: i64,
    ) -> Result<DeliveryView, StoreError> {
        let d = webhook_delivery::Entity::find_by_id(delivery_id)
            .filter(webhook_delivery::Column::EndpointId.eq(endpoint_id))
            .one(self.db.conn())
            .await?
            .ok_or(StoreError::NotFound("webhook delivery"))?;
        let now = Utc::now();
        let res = webhook_delivery::Entity::update_many()
            .col_expr(
                webhook_delivery::Column::Status,
                Expr::value(WebhookDeliveryStatus::Pending),
            )
            .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(now))
            .col_expr(
                webhook_delivery::Column::CompletedAt,
                Expr::value(None::<DateTime<Utc>>),
            )
            .col_expr(webhook_delivery::Column::UpdatedAt, Expr::value(now))
            .filter(webhook_delivery::Column::Id.eq(d.id))
            .filter(webhook_delivery::Column::Status.is_in([
                WebhookDeliveryStatus::Succeeded,
                WebhookDeliveryStatus::Failed,
            ]))
            .exec(self.db.conn())
            .await?;
        if res.rows_affected == 0 {
            return Err(StoreError::Conflict(format!(
                "delivery {delivery_id} is {} and will be attempted anyway",
                d.status.as_str()
            )));
        }
        self.jobs
            .push_webhook(vec![
                NewJob::now(WebhookJob { delivery_id })
                    .key(format!("wh:{delivery_id}:redeliver:{}", d.attempts)),
            ])
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let d = webhook_delivery::Entity::find_by_id(delivery_id)
            .one(self.db.conn())
            .await?
            .ok_or(StoreError::NotFound("webhook delivery"))?;
        Ok(delivery_view(&d, None))
    }

    /// The signing secrets of an endpoint: the current one and, during a rotation, the
    /// previous one.
    pub fn secrets(&self, e: &webhook_endpoint::Model) -> Result<(Secret, Option<Secret>), String> {
        let open = |sealed: &str| {
            self.sealer
                .open(sealed)
                .ok_or_else(|| {
                    "the endpoint's secret cannot be decrypted with this instance's key".to_owned()
                })
                .and_then(|b| Secret::from_bytes(b).map_err(|e| e.to_string()))
        };
        let current = open(&e.secret_ciphertext)?;
        let previous = match (&e.previous_secret_ciphertext, e.previous_secret_expires_at) {
            (Some(p), Some(until)) if until > Utc::now() => Some(open(p)?),
            _ => None,
        };
        Ok((current, previous))
    }
}
