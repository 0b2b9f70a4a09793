//! What the ingress routes and the channels of one factory share: the lock that serializes
//! device-list writes and the per-device rate limiter. Kefu's state and history come with
//! [`IngressContext`](kefu_channel::IngressContext) and
//! [`BuildContext`](kefu_channel::BuildContext); each side makes its [`DeviceStore`] view on
//! them with [`Wiring::store_on`].

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use kefu_channel::ChannelState;

use crate::devices::{Device, DeviceStore};

/// Pushes per device: a burst of 5, then one every 6 seconds. A chatty agent's next replies
/// are collapsed on the device anyway; the app syncs everything when opened.
pub(crate) const DEVICE_BURST: u32 = 5;
pub(crate) const DEVICE_PER_MINUTE: u32 = 10;

pub(crate) struct Wiring {
    /// Device lists are read, changed and written back: one writer at a time, whether the app
    /// API registers a device or a push removes a stale one.
    writes: Arc<tokio::sync::Mutex<()>>,
    limiter: DefaultKeyedRateLimiter<String>,
    checks: AtomicU64,
}

impl Wiring {
    pub(crate) fn new(per_minute: NonZeroU32, burst: NonZeroU32) -> Self {
        Self {
            writes: Arc::new(tokio::sync::Mutex::new(())),
            limiter: DefaultKeyedRateLimiter::keyed(
                Quota::per_minute(per_minute).allow_burst(burst),
            ),
            checks: AtomicU64::new(0),
        }
    }

    /// The device store on Kefu's `state`, sharing this factory's write lock.
    pub(crate) fn store_on(&self, state: Arc<dyn ChannelState>) -> Arc<DeviceStore> {
        Arc::new(DeviceStore::new(state, self.writes.clone()))
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
