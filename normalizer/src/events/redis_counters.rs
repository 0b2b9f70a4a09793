//! [`RedisCounters`]: [`SharedCounters`] on the bus's Redis, so that a limit on a public
//! endpoint (the web chat widget's tabs and new conversations per address) holds once across
//! every node rather than once per node.
//!
//! - **Rates** (`take`) are a GCRA bucket per key: one Lua script reads the key's theoretical
//!   arrival time, refuses when it is more than `burst` emission intervals ahead, and stores the
//!   next one with an expiry, atomically however many nodes ask.
//! - **Places** (`hold`) are members of a sorted set per key, scored with when they run out
//!   ([`PLACE_TTL`]). A script drops the members that ran out, refuses at `limit`, and adds
//!   `<node>:<n>`. The node renews its places every [`PLACE_RENEW`] and removes each one when
//!   its [`Place`] drops; a node that dies stops renewing, so its places free themselves.
//!
//! Times are this node's clock in milliseconds: the nodes' clocks need only agree to well within
//! [`PLACE_TTL`]. Every call is bounded by a timeout; an error makes the caller count on its own
//! node ([`CountersDown`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use kefu_channel::{CountersDown, Place, SharedCounters};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::redis_bus::{Inner, REDIS_TIMEOUT};

/// How long a place lasts unless its node renews it.
pub const PLACE_TTL: Duration = Duration::from_secs(60);
/// How often a node renews its places.
pub const PLACE_RENEW: Duration = Duration::from_secs(20);

/// GCRA: KEYS[1] the bucket; ARGV now, emission interval and burst, all in milliseconds or
/// counts. Returns 1 when a token was taken.
const TAKE: &str = r"
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local next = tat + interval
if next - now > burst * interval then return 0 end
redis.call('SET', KEYS[1], next, 'PX', math.ceil(next - now))
return 1
";

/// KEYS[1] the set of places; ARGV now, ttl, limit, member. Returns 1 when the place is held.
const HOLD: &str = r"
local now = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[4])
redis.call('PEXPIRE', KEYS[1], ttl)
return 1
";

/// Counters on Redis, sharing the bus's connection. Cheap to share: wrap it in an `Arc` once.
pub struct RedisCounters {
    bus: Arc<Inner>,
    /// `<namespace>:limits:`.
    prefix: String,
    take: redis::Script,
    hold: redis::Script,
    /// This node's live places: member → key.
    places: Arc<Mutex<HashMap<String, String>>>,
    next: AtomicU64,
    freed: mpsc::UnboundedSender<(String, String)>,
}

impl RedisCounters {
    /// Counters under `<namespace>:limits:` on the bus's Redis. Starts the task that renews and
    /// frees this node's places until `shutdown`.
    pub(super) fn start(bus: Arc<Inner>, namespace: &str, shutdown: CancellationToken) -> Self {
        let (freed, rx) = mpsc::unbounded_channel();
        let places = Arc::new(Mutex::new(HashMap::new()));
        tokio::spawn(upkeep(bus.clone(), places.clone(), rx, shutdown));
        Self {
            bus,
            prefix: format!("{namespace}:limits:"),
            take: redis::Script::new(TAKE),
            hold: redis::Script::new(HOLD),
            places,
            next: AtomicU64::new(0),
            freed,
        }
    }

    async fn run<T: redis::FromRedisValue>(
        &self,
        invocation: redis::ScriptInvocation<'_>,
    ) -> Result<T, CountersDown> {
        let mut conn = self
            .bus
            .connection()
            .await
            .ok_or_else(|| CountersDown("Redis cannot be reached".into()))?;
        tokio::time::timeout(REDIS_TIMEOUT, invocation.invoke_async(&mut conn))
            .await
            .map_err(|_| CountersDown("Redis timed out".into()))?
            .map_err(|e| CountersDown(e.to_string()))
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[async_trait]
impl SharedCounters for RedisCounters {
    async fn take(&self, key: &str, per_hour: u32, burst: u32) -> Result<bool, CountersDown> {
        let interval = 3_600_000 / i64::from(per_hour.max(1));
        let mut call = self.take.key(format!("{}take:{key}", self.prefix));
        call.arg(Utc::now().timestamp_millis())
            .arg(interval.max(1))
            .arg(burst.max(1));
        Ok(self.run::<i64>(call).await? == 1)
    }

    async fn hold(&self, key: &str, limit: u32) -> Result<Option<Place>, CountersDown> {
        let key = format!("{}hold:{key}", self.prefix);
        let member = format!(
            "{}:{}",
            self.bus.node,
            self.next.fetch_add(1, Ordering::Relaxed)
        );
        let mut call = self.hold.key(&key);
        call.arg(Utc::now().timestamp_millis())
            .arg(millis(PLACE_TTL))
            .arg(limit)
            .arg(&member);
        if self.run::<i64>(call).await? != 1 {
            return Ok(None);
        }
        self.places
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(member.clone(), key.clone());
        Ok(Some(Place::new(Held {
            key,
            member,
            places: self.places.clone(),
            freed: self.freed.clone(),
        })))
    }
}

/// One place this node holds; dropping it hands it to [`upkeep`] to remove.
struct Held {
    key: String,
    member: String,
    places: Arc<Mutex<HashMap<String, String>>>,
    freed: mpsc::UnboundedSender<(String, String)>,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.places
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.member);
        // Closed only at shutdown, when the place runs out by itself.
        let _ = self.freed.send((
            std::mem::take(&mut self.key),
            std::mem::take(&mut self.member),
        ));
    }
}

/// Removes freed places as they come and renews the live ones every [`PLACE_RENEW`], until
/// `shutdown`. A failed round is not retried: the next one covers it, well within the TTL.
async fn upkeep(
    bus: Arc<Inner>,
    places: Arc<Mutex<HashMap<String, String>>>,
    mut freed: mpsc::UnboundedReceiver<(String, String)>,
    shutdown: CancellationToken,
) {
    let mut renew = tokio::time::interval(PLACE_RENEW);
    renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let mut pipe = redis::pipe();
        tokio::select! {
            _ = shutdown.cancelled() => return,
            first = freed.recv() => {
                let Some((key, member)) = first else { return };
                pipe.zrem(key, member).ignore();
                while let Ok((key, member)) = freed.try_recv() {
                    pipe.zrem(key, member).ignore();
                }
            }
            _ = renew.tick() => {
                let until = Utc::now().timestamp_millis() + millis(PLACE_TTL);
                let live: Vec<(String, String)> = places
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .iter()
                    .map(|(m, k)| (m.clone(), k.clone()))
                    .collect();
                if live.is_empty() {
                    continue;
                }
                for (member, key) in &live {
                    pipe.cmd("ZADD").arg(key).arg("XX").arg(until).arg(member).ignore();
                    pipe.pexpire(key, millis(PLACE_TTL)).ignore();
                }
            }
        }
        let Some(mut conn) = bus.connection().await else {
            continue;
        };
        if let Err(e) = tokio::time::timeout(REDIS_TIMEOUT, pipe.query_async::<()>(&mut conn))
            .await
            .map_err(|_| "timed out".to_owned())
            .and_then(|r| r.map_err(|e| e.to_string()))
        {
            tracing::debug!(error = %e, "Could not update this node's limit places on Redis.");
        }
    }
}
