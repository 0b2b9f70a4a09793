//! What the ingress routes and the channels of one factory share: the device store (on
//! Kefu's durable channel state), the message history, and the per-device rate limiter.
//!
//! [`ChannelFactory::build`](kefu_channel::ChannelFactory::build) receives no state, so the
//! factory keeps what [`ingress`](kefu_channel::ChannelFactory::ingress) and
//! [`Channel::run`](kefu_channel::Channel::run) are handed, whichever comes first (the gateway
//! mounts ingress before it starts channels).

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use kefu_channel::{ChannelState, ConversationHistory};

use crate::devices::{Device, DeviceStore};

/// Pushes per device: a burst of 5, then one every 6 seconds. A chatty agent's next replies
/// are collapsed on the device anyway; the app syncs everything when opened.
pub(crate) const DEVICE_BURST: u32 = 5;
pub(crate) const DEVICE_PER_MINUTE: u32 = 10;

pub(crate) struct Wiring {
    store: OnceLock<Arc<DeviceStore>>,
    history: OnceLock<Arc<dyn ConversationHistory>>,
    limiter: DefaultKeyedRateLimiter<String>,
    checks: AtomicU64,
}

impl Wiring {
    pub(crate) fn new(per_minute: NonZeroU32, burst: NonZeroU32) -> Self {
        Self {
            store: OnceLock::new(),
            history: OnceLock::new(),
            limiter: DefaultKeyedRateLimiter::keyed(
                Quota::per_minute(per_minute).allow_burst(burst),
            ),
            checks: AtomicU64::new(0),
        }
    }

    /// Adopts Kefu's state (first caller wins; every later one gets the same store).
    pub(crate) fn store_on(&self, state: Arc<dyn ChannelState>) -> Arc<DeviceStore> {
        self.store
            .get_or_init(|| Arc::new(DeviceStore::new(state)))
            .clone()
    }

    pub(crate) fn store(&self) -> Option<Arc<DeviceStore>> {
        self.store.get().cloned()
    }

    pub(crate) fn set_history(&self, history: Option<Arc<dyn ConversationHistory>>) {
        if let Some(h) = history {
            let _ = self.history.set(h);
        }
    }

    pub(crate) fn history(&self) -> Option<Arc<dyn ConversationHistory>> {
        self.history.get().cloned()
    }

    /// Takes a token from the device's bucket, or says how long until one is free.
    pub(crate) fn admit(&self, device: &Device) -> Result<(), Duration> {
        // Forget idle devices now and then so the limiter does not grow without bound.
        if self.checks.fetch_add(1, Ordering::Relaxed) % 4096 == 4095 {
            self.limiter.retain_recent();
        }
        let key = format!("{}:{}", device.platform.as_str(), device.token);
        self.limiter
            .check_key(&key)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}
