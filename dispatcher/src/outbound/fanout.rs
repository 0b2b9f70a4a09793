//! Turns committed outbox events into durable jobs: a send job for every outbound reply that
//! waits for delivery, and a webhook delivery (row + job) for every subscribed endpoint. It
//! also hands customers' new messages to the out-of-office check
//! ([`OutOfOfficeReplies`]) and the FAQ bot ([`FaqBot`]), resolved conversations to the
//! satisfaction survey ([`Surveys`]), and replies that failed for good to the channel fallback
//! ([`Fallbacks`]), whose messages come back through the outbox like any reply. Every batch is
//! also measured for reports ([`Metrics`]): nothing is marked before its facts are written.
//!
//! It is the outbox relay's consumer: the relay publishes a batch, hands it here, and marks it
//! only once the jobs are queued, so a crash between commit and queueing loses nothing: the
//! events are still unmarked at restart. Queueing twice is harmless (idempotency keys, one
//! delivery per endpoint and event).

use chrono::Utc;
use std::sync::Arc;

use kefu_ai::FaqBot;
use kefu_normalizer::csat::{Resolved, Surveys};
use kefu_normalizer::entity::webhook_delivery;
use kefu_normalizer::fallback::{Fallbacks, fallback_code};
use kefu_normalizer::reports::Metrics;
use kefu_normalizer::schedules::{Arrival, OutOfOfficeReplies};
use kefu_normalizer::views::MessageView;
use kefu_normalizer::{ConsumeError, Db, Event, EventData, OutboxConsumer, StoreError};
use kefu_normalizer::{DeliveryStatus, Direction, SenderType, WebhookDeliveryStatus};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use crate::delivery::queue_first_attempts;
use crate::jobs::{JobError, JobStore, NewJob, WebhookJob};
use crate::runtime::Runner;
use crate::webhook::subscriptions::SubscriptionCache;
use crate::webhook::{MessageId, WebhookStore, payload};

/// The fan-out: the outbox relay's consumer.
pub struct Fanout {
    db: Db,
    jobs: JobStore,
    away: OutOfOfficeReplies,
    fallbacks: Fallbacks,
    metrics: Metrics,
    csat: Option<(Surveys, Arc<Runner>)>,
    bot: Option<FaqBot>,
    subscriptions: SubscriptionCache,
}

/// The fan-out could not queue a batch; it is retried.
#[derive(Debug, thiserror::Error)]
pub enum FanoutError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The job queue failed.
    #[error(transparent)]
    Jobs(#[from] JobError),
    /// An event could not be rendered as a webhook body.
    #[error("cannot render a webhook body: {0}")]
    Body(#[from] serde_json::Error),
}

impl From<sea_orm::DbErr> for FanoutError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Store(e.into())
    }
}

/// Whether a new message is a reply that waits for delivery.
fn needs_delivery(m: &MessageView) -> bool {
    m.direction == Direction::Outbound
        && !m.private
        && m.delivery
            .as_ref()
            .is_some_and(|d| d.status == DeliveryStatus::Pending)
}

#[async_trait::async_trait]
impl OutboxConsumer for Fanout {
    async fn consume(&self, events: &[Arc<Event>]) -> Result<(), ConsumeError> {
        Ok(self.batch(events).await?)
    }
}

impl Fanout {
    /// A fan-out from `db`'s outbox into `jobs`.
    pub fn new(db: Db, jobs: JobStore) -> Self {
        let away = OutOfOfficeReplies::new(db.clone());
        let fallbacks = Fallbacks::new(db.clone());
        let metrics = Metrics::new(db.clone());
        Self {
            subscriptions: SubscriptionCache::new(db.clone(), None),
            db,
            jobs,
            away,
            fallbacks,
            metrics,
            csat: None,
            bot: None,
        }
    }

    /// Keeps the endpoints' subscriptions between batches, up to date with the changes made
    /// through `store` (see [`crate::webhook::subscriptions`]).
    pub fn with_webhooks(mut self, store: WebhookStore) -> Self {
        self.subscriptions = SubscriptionCache::new(self.db.clone(), Some(store));
        self
    }

    /// Also asks customers to rate resolved conversations; `runner`'s channels tell their reply
    /// windows.
    pub fn with_csat(mut self, surveys: Surveys, runner: Arc<Runner>) -> Self {
        self.csat = Some((surveys, runner));
        self
    }

    /// Also lets the FAQ bot answer customers' new messages in inboxes whose bot is on.
    pub fn with_bot(mut self, bot: FaqBot) -> Self {
        self.bot = Some(bot);
        self
    }

    /// Queues the jobs of one batch of committed events.
    pub async fn batch(&self, events: &[Arc<Event>]) -> Result<(), FanoutError> {
        let sends: Vec<i64> = events
            .iter()
            .filter_map(|e| match &e.data {
                EventData::MessageCreated(m) if needs_delivery(m) => Some(m.id),
                _ => None,
            })
            .collect();
        queue_first_attempts(&self.jobs, &sends).await?;
        // Reports must neither miss nor double a fact: a failure retries the batch, and the
        // rows are keyed by event.
        self.metrics.record(events).await?;
        self.webhooks(events).await?;
        self.out_of_office(events).await;
        self.satisfaction(events).await;
        self.fall_back(events).await;
        if let Some(bot) = &self.bot {
            bot.on_events(events).await;
        }
        Ok(())
    }

    /// Sends a copy of each reply that failed for a reason another channel can overcome
    /// through the contact's next channel, where the inbox has fallback on. A failure is
    /// logged and the batch goes on, like the out-of-office reply.
    async fn fall_back(&self, events: &[Arc<Event>]) {
        let failed = events.iter().filter_map(|e| match &e.data {
            EventData::MessageFailed(m)
                if fallback_code(m.delivery.as_ref().and_then(|d| d.error.as_deref()))
                    .is_some() =>
            {
                Some(m.id)
            }
            _ => None,
        });
        for id in failed {
            if let Err(e) = self.fallbacks.fall_back(id).await {
                tracing::warn!(message = id, error = %e, "Channel fallback failed.");
            }
        }
    }

    /// Asks the customers of resolved conversations to rate them. Like the out-of-office
    /// reply, a failure is logged and the batch goes on.
    async fn satisfaction(&self, events: &[Arc<Event>]) {
        let Some((surveys, runner)) = &self.csat else {
            return;
        };
        let resolved: Vec<Resolved> = events
            .iter()
            .filter_map(|e| match &e.data {
                EventData::ConversationResolved(c) => Some(Resolved {
                    conversation_id: c.id,
                    inbox_id: c.inbox_id,
                    reply_window: runner
                        .channel(c.inbox_id)
                        .and_then(|ch| ch.capabilities().reply_window)
                        .and_then(|w| chrono::Duration::from_std(w).ok()),
                }),
                _ => None,
            })
            .collect();
        if let Err(e) = surveys.request(&resolved, Utc::now()).await {
            tracing::warn!(error = %e, "Satisfaction surveys failed.");
        }
    }

    /// Answers customers who wrote while their inbox is closed. A failure is logged and the
    /// batch goes on: an automatic reply is not worth holding up every delivery behind it.
    async fn out_of_office(&self, events: &[Arc<Event>]) {
        let arrivals: Vec<Arrival> = events
            .iter()
            .filter_map(|e| match &e.data {
                EventData::MessageCreated(m)
                    if m.direction == Direction::Inbound
                        && m.sender.kind == SenderType::Contact =>
                {
                    Some(Arrival {
                        conversation_id: m.conversation_id,
                        message_id: m.id,
                        at: m.created_at,
                    })
                }
                _ => None,
            })
            .collect();
        if let Err(e) = self.away.answer(&arrivals, Utc::now()).await {
            tracing::warn!(error = %e, "Out-of-office replies failed.");
        }
    }

    async fn webhooks(&self, events: &[Arc<Event>]) -> Result<(), FanoutError> {
        let filters = self.subscriptions.get().await?;
        if filters.is_empty() {
            return Ok(());
        }
        let now = Utc::now();
        let mut rows = Vec::new();
        for ev in events {
            let kind = ev.kind();
            if !filters.iter().any(|(_, f)| f.matches(kind)) {
                continue;
            }
            let body = payload::body(kind, ev.timestamp, &ev.data.to_value()?);
            let body = String::from_utf8_lossy(&body).into_owned();
            let msg_id = MessageId::for_event(ev.id, ev.timestamp);
            for (endpoint_id, filter) in filters.iter() {
                if filter.matches(kind) {
                    rows.push(webhook_delivery::ActiveModel {
                        endpoint_id: Set(*endpoint_id),
                        event_id: Set(ev.id),
                        event_type: Set(kind.as_str().to_owned()),
                        conversation_id: Set(ev.conversation_id),
                        msg_id: Set(msg_id.as_str().to_owned()),
                        body: Set(body.clone()),
                        status: Set(WebhookDeliveryStatus::Pending),
                        attempts: Set(0),
                        next_attempt_at: Set(None),
                        locked_until: Set(None),
                        last_status_code: Set(None),
                        last_error: Set(None),
                        created_at: Set(now),
                        updated_at: Set(now),
                        completed_at: Set(None),
                        ..Default::default()
                    });
                }
            }
        }
        if rows.is_empty() {
            return Ok(());
        }
        for chunk in rows.chunks(500) {
            webhook_delivery::Entity::insert_many(chunk.to_vec())
                .on_conflict(
                    OnConflict::columns([
                        webhook_delivery::Column::EndpointId,
                        webhook_delivery::Column::EventId,
                    ])
                    .do_nothing()
                    .to_owned(),
                )
                .exec_without_returning(self.db.conn())
                .await?;
        }
        let event_ids: Vec<i64> = events.iter().map(|e| e.id).collect();
        let created: Vec<i64> = webhook_delivery::Entity::find()
            .select_only()
            .column(webhook_delivery::Column::Id)
            .filter(webhook_delivery::Column::EventId.is_in(event_ids))
            .filter(webhook_delivery::Column::Attempts.eq(0))
            .filter(webhook_delivery::Column::Status.eq(WebhookDeliveryStatus::Pending))
            .order_by_asc(webhook_delivery::Column::Id)
            .into_tuple()
            .all(self.db.conn())
            .await?;
        self.jobs
            .push_webhook(
                created
                    .into_iter()
                    .map(|id| NewJob::now(WebhookJob { delivery_id: id }).key(format!("wh:{id}:0")))
                    .collect(),
            )
            .await?;
        Ok(())
    }
}
