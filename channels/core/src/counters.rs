//! [`SharedCounters`]: abuse limits counted once across every Kefu node, for channels whose
//! public endpoints anyone can reach (the web chat widget). Kefu implements it on Redis when
//! it runs as several nodes; on one node a channel counts in its own memory and needs none.

use async_trait::async_trait;

/// Counters every node of a cluster shares. Keys are the channel's own (e.g.
/// `web_chat:tabs:<inbox>:<address>`); an implementation puts them in its own namespace.
#[async_trait]
pub trait SharedCounters: Send + Sync + 'static {
    /// Takes one token of `key`'s bucket, which holds at most `burst` and refills at
    /// `per_hour` (a GCRA rate limit): `false` when the bucket is empty.
    async fn take(&self, key: &str, per_hour: u32, burst: u32) -> Result<bool, CountersDown>;
    /// Holds one of `limit` places of `key` until the returned [`Place`] drops: `None` when
    /// all are held. A node that dies without dropping its places loses them within a minute.
    async fn hold(&self, key: &str, limit: u32) -> Result<Option<Place>, CountersDown>;
}

/// The shared counters cannot be reached; the caller counts on its own node meanwhile.
#[derive(Debug, Clone, thiserror::Error)]
#[error("shared counters unavailable: {0}")]
pub struct CountersDown(pub String);

/// A held place of [`SharedCounters::hold`]; dropping it frees the place.
#[must_use = "the place is freed when this is dropped"]
pub struct Place(#[allow(dead_code)] Box<dyn Send + Sync>);

impl Place {
    /// A place that lasts as long as `guard`.
    pub fn new(guard: impl Send + Sync + 'static) -> Self {
        Self(Box::new(guard))
    }
}

impl std::fmt::Debug for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Place")
    }
}
