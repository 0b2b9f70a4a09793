//! The fan-out's view of which enabled endpoints subscribe to which events, read at most
//! [`SUBSCRIPTIONS_TTL`] ago: every batch of events needs it, and endpoints change rarely, so
//! reading the table for every batch (most often an empty one) was a statement per batch for
//! nothing.
//!
//! Changes made through this node's [`WebhookStore`] (and an endpoint the delivery worker
//! disables) bump the store's change count, which drops the cached view at once. Only a node
//! that is the only one keeps the view (the gateway gives the fan-out the store only without
//! Redis): an endpoint made on another node must get the very next event, so several nodes
//! read the table for every batch.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kefu_normalizer::Db;
use kefu_normalizer::entity::webhook_endpoint;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::{EventFilter, WebhookStore};

/// How long the enabled endpoints and their filters are used before they are read again.
pub const SUBSCRIPTIONS_TTL: Duration = Duration::from_secs(1);

/// Enabled endpoints' ids with their event filters.
pub type Subscriptions = Arc<Vec<(i64, EventFilter)>>;

/// The cached [`Subscriptions`] of one database.
pub struct SubscriptionCache {
    db: Db,
    store: Option<WebhookStore>,
    /// When it was read, the store's change count then, and the subscriptions.
    cached: Mutex<Option<(Instant, u64, Subscriptions)>>,
}

impl SubscriptionCache {
    /// Subscriptions read from `db`; with `store`, this node's endpoint changes are seen at once,
    /// without it every read goes to the database.
    pub fn new(db: Db, store: Option<WebhookStore>) -> Self {
        Self {
            db,
            store,
            cached: Mutex::new(None),
        }
    }

    /// The enabled endpoints' filters, from the cache when it is fresh.
    pub async fn get(&self) -> Result<Subscriptions, sea_orm::DbErr> {
        let Some(store) = &self.store else {
            return self.read().await;
        };
        let changes = store.changes();
        if let Some((at, seen, subs)) = &*self.lock()
            && at.elapsed() < SUBSCRIPTIONS_TTL
            && *seen == changes
        {
            return Ok(subs.clone());
        }
        let subs = self.read().await?;
        *self.lock() = Some((Instant::now(), changes, subs.clone()));
        Ok(subs)
    }

    async fn read(&self) -> Result<Subscriptions, sea_orm::DbErr> {
        let endpoints = webhook_endpoint::Entity::find()
            .filter(webhook_endpoint::Column::Enabled.eq(true))
            .all(self.db.conn())
            .await?;
        Ok(Arc::new(
            endpoints
                .iter()
                .filter_map(|e| {
                    let names: Vec<String> = serde_json::from_value(e.events.clone()).ok()?;
                    Some((e.id, EventFilter::parse(&names).ok()?))
                })
                .collect(),
        ))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(Instant, u64, Subscriptions)>> {
        self.cached.lock().unwrap_or_else(|p| p.into_inner())
    }
}
