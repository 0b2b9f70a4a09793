//! Outbound pacing with governor: one limiter per inbox (the provider's account quota) and one
//! keyed limiter per inbox for its recipients. Waiting for a limiter delays a send; it never
//! fails it.
//!
//! Limits are per process: with several nodes, each paces its own share.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};

use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use kefu_channel::Quota as ChannelQuota;

/// The quotas one inbox sends under; `None` means unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SendLimits {
    /// The whole inbox.
    pub inbox: Option<ChannelQuota>,
    /// Each recipient.
    pub recipient: Option<ChannelQuota>,
}

struct InboxLimiter {
    limits: SendLimits,
    inbox: Option<DefaultDirectRateLimiter>,
    recipients: Option<DefaultKeyedRateLimiter<String>>,
}

/// All inboxes' limiters, created on first use and replaced when an inbox's quota changes.
#[derive(Default, Clone)]
pub struct Limiters {
    inner: Arc<Mutex<HashMap<i64, Arc<InboxLimiter>>>>,
}

fn quota(q: ChannelQuota) -> Option<Quota> {
    let rate = NonZeroU32::new(q.per_second)?;
    let burst = NonZeroU32::new(q.burst.max(1)).unwrap_or(NonZeroU32::MIN);
    Some(Quota::per_second(rate).allow_burst(burst))
}

impl Limiters {
    /// Limiters with nothing created yet.
    pub fn new() -> Self {
        Self::default()
    }

    fn get(&self, inbox_id: i64, limits: SendLimits) -> Arc<InboxLimiter> {
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(l) = map.get(&inbox_id).filter(|l| l.limits == limits) {
            return l.clone();
        }
        let l = Arc::new(InboxLimiter {
            limits,
            inbox: limits.inbox.and_then(quota).map(RateLimiter::direct),
            recipients: limits.recipient.and_then(quota).map(RateLimiter::keyed),
        });
        map.insert(inbox_id, l.clone());
        l
    }

    /// Waits until both the inbox and the recipient may send one more message, and takes
    /// that permit.
    pub async fn until_ready(&self, inbox_id: i64, limits: SendLimits, recipient: &str) {
        let l = self.get(inbox_id, limits);
        if let Some(r) = &l.recipients {
            r.until_key_ready(&recipient.to_owned()).await;
        }
        if let Some(i) = &l.inbox {
            i.until_ready().await;
        }
    }

    /// Forgets recipients whose limiter has fully recovered, so the keyed maps stay small.
    pub fn shrink(&self) {
        let map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        for l in map.values() {
            if let Some(r) = &l.recipients {
                r.retain_recent();
                r.shrink_to_fit();
            }
        }
    }
}
