//! The endpoint cache of webhook attempts: each endpoint with its decrypted secrets, read at
//! most [`ENDPOINT_TTL`] ago, so a burst of deliveries to one endpoint costs one read.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kefu_normalizer::Db;
use kefu_normalizer::entity::webhook_endpoint;
use sea_orm::EntityTrait;

use super::super::Secret;
use super::super::store::WebhookStore;
use super::WebhookJobError;

/// How long an endpoint (URL, enabled flag, secrets) read from the database is used before it
/// is read again: the longest a change made on another node takes to reach this one's
/// attempts. Changes made through this node's API are seen at once.
pub const ENDPOINT_TTL: Duration = Duration::from_secs(1);

/// An endpoint as attempts use it.
pub(super) struct CachedEndpoint {
    /// The row.
    pub(super) model: webhook_endpoint::Model,
    /// The current and previous secret, or why they cannot be opened.
    pub(super) secrets: Result<(Secret, Option<Secret>), String>,
}

/// Endpoints by id, each kept for [`ENDPOINT_TTL`] or until the store changes an endpoint.
pub(super) struct EndpointCache {
    store: WebhookStore,
    db: Db,
    entries: std::sync::Mutex<HashMap<i64, Cached>>,
}

/// An entry: when it was read, the store's change count then, and the endpoint.
type Cached = (Instant, u64, Arc<CachedEndpoint>);

impl EndpointCache {
    /// The endpoint, or `None` when it was deleted.
    pub(super) async fn get(
        &self,
        id: i64,
    ) -> Result<Option<Arc<CachedEndpoint>>, WebhookJobError> {
        let changes = self.store.changes();
        if let Some((at, seen, e)) = self.lock().get(&id)
            && at.elapsed() < ENDPOINT_TTL
            && *seen == changes
        {
            return Ok(Some(e.clone()));
        }
        let Some(model) = webhook_endpoint::Entity::find_by_id(id)
            .one(self.db.conn())
            .await?
        else {
            self.forget(id);
            return Ok(None);
        };
        let secrets = self.store.secrets(&model);
        let e = Arc::new(CachedEndpoint { model, secrets });
        self.lock().insert(id, (Instant::now(), changes, e.clone()));
        Ok(Some(e))
    }

    /// Drops an endpoint this node just changed.
    pub(super) fn forget(&self, id: i64) {
        self.lock().remove(&id);
        // The fan-out's subscriptions too: a disabled endpoint gets no new deliveries.
        self.store.changed();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Cached>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl EndpointCache {
    /// An empty cache over `store`'s endpoints.
    pub(super) fn new(store: WebhookStore, db: Db) -> Self {
        Self {
            store,
            db,
            entries: std::sync::Mutex::new(HashMap::new()),
        }
    }
}
