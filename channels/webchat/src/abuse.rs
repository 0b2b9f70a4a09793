//! Abuse limits of the public widget socket, per inbox and client address: how many tabs one
//! address may hold open, and how many new conversations it may open per hour.
//!
//! The defaults leave room for many visitors behind one NAT (an office, a campus, a mobile
//! carrier): 200 open tabs and a burst of 30 new conversations, refilled at 120 an hour. A
//! script opening hundreds of conversations from one address is refused with a clear `error`
//! frame. Each web chat inbox may change both in its settings (`visitor_limits`). App users
//! prove who they are with `user_hash`, so only the tab limit applies to them.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use kefu_channel::{CountersDown, Place, SharedCounters};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The client's address, as the host determined it (behind a trusted proxy, the forwarded one).
/// The host puts it in the upgrade request's extensions; without it no per-address limit applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// Per-address limits of one inbox's widget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
#[schemars(extend("x-i18n" = {"zh-CN": {"title": "访客限制", "description": "每个访客 IP 地址的限制，用于阻止脚本滥用。"}}))]
pub struct VisitorLimits {
    /// # Open tabs per address
    /// How many widget connections one IP address may hold at once.
    #[schemars(range(min = 1, max = 100000), extend("x-i18n" = {"zh-CN": {"title": "每个地址的连接数", "description": "一个 IP 地址同时可以保持的聊天窗口连接数。"}}))]
    pub connections_per_ip: u32,
    /// # New conversations per hour per address
    /// How many new conversations one IP address may open per hour (up to a quarter of them at
    /// once).
    #[schemars(range(min = 1, max = 100000), extend("x-i18n" = {"zh-CN": {"title": "每个地址每小时新会话数", "description": "一个 IP 地址每小时可以发起的新会话数（最多四分之一可同时发起）。"}}))]
    pub conversations_per_ip_per_hour: u32,
}

impl Default for VisitorLimits {
    fn default() -> Self {
        Self {
            connections_per_ip: 200,
            conversations_per_ip_per_hour: 120,
        }
    }
}

impl VisitorLimits {
    /// Checks the ranges; the error names the field.
    pub fn check(&self) -> Result<(), String> {
        for (name, v) in [
            ("visitor_limits.connections_per_ip", self.connections_per_ip),
            (
                "visitor_limits.conversations_per_ip_per_hour",
                self.conversations_per_ip_per_hour,
            ),
        ] {
            if !(1..=100_000).contains(&v) {
                return Err(format!("{name}: must be between 1 and 100000"));
            }
        }
        Ok(())
    }

    fn quota(&self) -> Quota {
        let per_hour =
            NonZeroU32::new(self.conversations_per_ip_per_hour).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(self.conversations_per_ip_per_hour.div_ceil(4))
            .unwrap_or(NonZeroU32::MIN);
        Quota::per_hour(per_hour).allow_burst(burst)
    }
}

/// New conversations per client address of one inbox.
type AddressLimiter = DefaultKeyedRateLimiter<IpAddr>;

/// The counters behind [`VisitorLimits`], shared by every widget connection of this node, and
/// across nodes when built [`with_shared`](Self::with_shared) counters: then one address gets
/// one budget however a balancer spreads its tabs. While the shared counters cannot be
/// reached, each node counts on its own (a looser limit, never a refused visitor for it).
#[derive(Default)]
pub struct AbuseGuard {
    open: Mutex<HashMap<(i64, IpAddr), u32>>,
    conversations: Mutex<HashMap<i64, (Quota, Arc<AddressLimiter>)>>,
    shared: Option<Arc<dyn SharedCounters>>,
}

impl std::fmt::Debug for AbuseGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AbuseGuard")
            .field("shared", &self.shared.is_some())
            .finish_non_exhaustive()
    }
}

/// One open tab, counted against its address until dropped.
#[derive(Debug)]
pub struct TabSlot(#[allow(dead_code)] Slot);

/// A tab's place, counted on this node or on every node; held only to be dropped.
#[derive(Debug)]
#[allow(dead_code)]
enum Slot {
    Local(LocalSlot),
    Shared(Place),
}

#[derive(Debug)]
struct LocalSlot {
    guard: Arc<AbuseGuard>,
    key: (i64, IpAddr),
}

impl Drop for LocalSlot {
    fn drop(&mut self) {
        let mut open = self.guard.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.key);
            }
        }
    }
}

impl AbuseGuard {
    /// A guard counting on `counters`, shared by every node.
    pub fn with_shared(counters: Arc<dyn SharedCounters>) -> Self {
        Self {
            shared: Some(counters),
            ..Self::default()
        }
    }

    /// Counts a new tab of `ip` on `inbox_id`; `None` when the address holds its limit already.
    pub async fn open_tab(
        self: &Arc<Self>,
        inbox_id: i64,
        ip: IpAddr,
        limits: &VisitorLimits,
    ) -> Option<TabSlot> {
        if let Some(shared) = &self.shared {
            let key = format!("web_chat:tabs:{inbox_id}:{ip}");
            match shared.hold(&key, limits.connections_per_ip).await {
                Ok(place) => return place.map(|p| TabSlot(Slot::Shared(p))),
                Err(e) => shared_down(&e),
            }
        }
        let key = (inbox_id, ip);
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(key).or_insert(0);
        if *n >= limits.connections_per_ip {
            return None;
        }
        *n += 1;
        Some(TabSlot(Slot::Local(LocalSlot {
            guard: self.clone(),
            key,
        })))
    }

    /// Whether `ip` may open one more conversation on `inbox_id` now.
    pub async fn open_conversation(
        &self,
        inbox_id: i64,
        ip: IpAddr,
        limits: &VisitorLimits,
    ) -> bool {
        if let Some(shared) = &self.shared {
            let key = format!("web_chat:conversations:{inbox_id}:{ip}");
            let burst = limits.conversations_per_ip_per_hour.div_ceil(4).max(1);
            match shared
                .take(&key, limits.conversations_per_ip_per_hour, burst)
                .await
            {
                Ok(allowed) => return allowed,
                Err(e) => shared_down(&e),
            }
        }
        let quota = limits.quota();
        let limiter = {
            let mut all = self.conversations.lock().unwrap_or_else(|e| e.into_inner());
            let entry = all
                .entry(inbox_id)
                .or_insert_with(|| (quota, Arc::new(RateLimiter::keyed(quota))));
            if entry.0 != quota {
                // The inbox's settings changed: start over with the new quota.
                *entry = (quota, Arc::new(RateLimiter::keyed(quota)));
            }
            entry.1.clone()
        };
        let allowed = limiter.check_key(&ip).is_ok();
        if limiter.len() > 100_000 {
            limiter.retain_recent();
        }
        allowed
    }
}

/// Counting falls back to this node's memory while the shared counters are down.
fn shared_down(e: &CountersDown) {
    tracing::debug!(error = %e, "Counting widget limits on this node only.");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn tabs_are_counted_per_inbox_and_address_and_freed_on_drop() {
        let guard = Arc::new(AbuseGuard::default());
        let limits = VisitorLimits {
            connections_per_ip: 2,
            ..VisitorLimits::default()
        };
        let ip: IpAddr = [203, 0, 113, 7].into();
        let other: IpAddr = [203, 0, 113, 8].into();
        let a = guard.open_tab(1, ip, &limits).await.expect("first");
        let _b = guard.open_tab(1, ip, &limits).await.expect("second");
        assert!(
            guard.open_tab(1, ip, &limits).await.is_none(),
            "third refused"
        );
        assert!(
            guard.open_tab(2, ip, &limits).await.is_some(),
            "another inbox counts apart"
        );
        assert!(
            guard.open_tab(1, other, &limits).await.is_some(),
            "another address counts apart"
        );
        drop(a);
        assert!(
            guard.open_tab(1, ip, &limits).await.is_some(),
            "a closed tab frees its slot"
        );
    }

    #[tokio::test]
    async fn conversations_per_address_allow_a_burst_then_refuse() {
        let guard = AbuseGuard::default();
        let limits = VisitorLimits {
            conversations_per_ip_per_hour: 8,
            ..VisitorLimits::default()
        };
        let ip: IpAddr = [198, 51, 100, 1].into();
        let mut allowed = 0;
        for _ in 0..10 {
            allowed += usize::from(guard.open_conversation(1, ip, &limits).await);
        }
        assert_eq!(allowed, 2, "a burst of a quarter of the hourly quota");
        assert!(
            guard
                .open_conversation(1, [198, 51, 100, 2].into(), &limits)
                .await
        );
        let wider = VisitorLimits {
            conversations_per_ip_per_hour: 100,
            ..VisitorLimits::default()
        };
        assert!(
            guard.open_conversation(1, ip, &wider).await,
            "a new quota starts over"
        );
        assert!(VisitorLimits::default().check().is_ok());
        assert!(
            VisitorLimits {
                connections_per_ip: 0,
                ..VisitorLimits::default()
            }
            .check()
            .is_err_and(|e| e.starts_with("visitor_limits.connections_per_ip"))
        );
    }
}
