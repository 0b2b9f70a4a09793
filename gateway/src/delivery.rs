//! Wiring of the dispatcher's outbound side: the instance key as the webhook secret sealer and
//! the inbox secret opener, and the settings from the config.

use std::time::Duration;

use kefu_dispatcher::outbound::send::SendPolicy;
use kefu_dispatcher::outbound::webhook::{DeliverySettings, RetrySchedule, Sealer};
use kefu_dispatcher::outbound::workers::WorkerSettings;
use kefu_dispatcher::runtime::Unseal;

pub use kefu_dispatcher::outbound::send::RateLimit;

use crate::config::Config;
use crate::crypto::Keys;

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

impl Unseal for KeySealer {
    fn unseal(&self, sealed: &str) -> Result<Vec<u8>, String> {
        self.0.decrypt(sealed).map_err(|e| e.to_string())
    }
}

/// The send retry policy from the config.
pub fn send_policy(c: &Config) -> SendPolicy {
    SendPolicy {
        max_attempts: c.delivery.max_attempts,
        base_delay: Duration::from_millis(c.delivery.base_delay_ms),
        max_delay: Duration::from_secs(c.delivery.max_delay_secs),
        timeout: Duration::from_secs(c.delivery.timeout_secs),
        inbox_concurrency: c.delivery.inbox_concurrency,
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
        endpoint_concurrency: c.webhooks.endpoint_concurrency,
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
        keep_finished: Duration::from_secs_f64(c.jobs.keep_finished_secs),
        unseen_after: Duration::from_secs_f64(c.delivery.unseen_after_secs),
    }
}
