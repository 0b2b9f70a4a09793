//! Wiring of the dispatcher's outbound side: running channels as the send worker's channel
//! source, the instance key as the webhook secret sealer, and the settings from the config.

use std::sync::Arc;
use std::time::Duration;

use kefu_channel::{Channel, Quota};
use kefu_dispatcher::delivery::{ChannelSource, SendLimits, SendPolicy};
use kefu_dispatcher::webhook::{DeliverySettings, RetrySchedule, Sealer};
use kefu_dispatcher::workers::WorkerSettings;
use kefu_normalizer::Db;
use kefu_normalizer::entity::inbox;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::channels::Runner;
use crate::config::Config;
use crate::crypto::Keys;

/// An inbox's outbound pacing, overriding its channel's declared quotas.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Sends per second for the whole inbox.
    pub per_second: Option<u32>,
    /// Sends allowed at once before `per_second` applies (default: `per_second`).
    pub burst: Option<u32>,
    /// Sends per second to one recipient.
    pub per_recipient_per_second: Option<u32>,
    /// Burst per recipient (default: `per_recipient_per_second`).
    pub per_recipient_burst: Option<u32>,
}

impl RateLimit {
    /// As the limiter's quotas.
    pub fn limits(&self) -> SendLimits {
        let q = |rate: Option<u32>, burst: Option<u32>| {
            rate.filter(|r| *r > 0).map(|r| Quota {
                per_second: r,
                burst: burst.unwrap_or(r).max(1),
            })
        };
        SendLimits {
            inbox: q(self.per_second, self.burst),
            recipient: q(self.per_recipient_per_second, self.per_recipient_burst),
        }
    }
}

/// The running channels, with each inbox's stored rate limit.
pub struct RunningChannels {
    pub(crate) db: Db,
    pub(crate) runner: Arc<Runner>,
}

#[async_trait::async_trait]
impl ChannelSource for RunningChannels {
    async fn resolve(&self, inbox_id: i64) -> Option<(Arc<dyn Channel>, SendLimits)> {
        let channel = self.runner.channel(inbox_id)?;
        let stored: Option<Option<serde_json::Value>> = inbox::Entity::find_by_id(inbox_id)
            .select_only()
            .column(inbox::Column::SendLimits)
            .filter(inbox::Column::DeletedAt.is_null())
            .into_tuple()
            .one(self.db.conn())
            .await
            .inspect_err(|e| tracing::warn!(error = %e, "Reading an inbox's rate limit failed."))
            .ok()?;
        // `None`: the inbox was deleted.
        let limits = match stored? {
            Some(v) => serde_json::from_value::<RateLimit>(v)
                .unwrap_or_default()
                .limits(),
            None => SendLimits::default(),
        };
        Some((channel, limits))
    }
}

/// Webhook secrets sealed with the instance key.
pub struct KeySealer(pub Keys);

impl Sealer for KeySealer {
    fn seal(&self, plain: &[u8]) -> String {
        self.0.encrypt(plain)
    }

    fn open(&self, sealed: &str) -> Option<Vec<u8>> {
        self.0.decrypt(sealed).ok()
    }
}

/// The send retry policy from the config.
pub fn send_policy(c: &Config) -> SendPolicy {
    SendPolicy {
        max_attempts: c.delivery.max_attempts,
        base_delay: Duration::from_millis(c.delivery.base_delay_ms),
        max_delay: Duration::from_secs(c.delivery.max_delay_secs),
        timeout: Duration::from_secs(c.delivery.timeout_secs),
    }
}

/// The webhook delivery settings from the config.
pub fn webhook_settings(c: &Config) -> DeliverySettings {
    let schedule = match &c.webhooks.retry_schedule_secs {
        Some(delays) => {
            RetrySchedule::new(delays.iter().map(|d| Duration::from_secs_f64(*d)).collect())
        }
        None => RetrySchedule::standard(),
    }
    .with_jitter(0.1);
    DeliverySettings {
        schedule,
        disable_after: Duration::from_secs_f64(c.webhooks.disable_after_hours * 3600.0),
        timeout: Duration::from_secs(c.webhooks.timeout_secs),
        allow_private: c.webhooks.allow_private_targets,
    }
}

/// The worker settings from the config.
pub fn worker_settings(c: &Config) -> WorkerSettings {
    WorkerSettings {
        send_concurrency: c.jobs.send_concurrency,
        webhook_concurrency: c.jobs.webhook_concurrency,
        poll_interval: Duration::from_millis(c.jobs.poll_interval_ms),
        heartbeat: Duration::from_secs(c.jobs.heartbeat_secs),
        fetch_batch: c.jobs.fetch_batch,
        sweep_interval: Duration::from_secs_f64(c.jobs.sweep_interval_secs),
        stuck_after: Duration::from_secs_f64(c.delivery.stuck_after_secs),
    }
}
