//! The running channels as the send worker sees them: an inbox's channel from the channel
//! [`Runner`], and the inbox's own send limits from its row.

use std::sync::Arc;

use kefu_channel::{Channel, Quota};
use kefu_normalizer::Db;
use kefu_normalizer::entity::inbox;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::SendLimits;
use crate::runtime::Runner;

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
#[derive(Clone)]
pub struct RunningChannels {
    db: Db,
    runner: Arc<Runner>,
}

impl RunningChannels {
    /// The channels `runner` runs, with the limits stored in `db`.
    pub fn new(db: Db, runner: Arc<Runner>) -> Self {
        Self { db, runner }
    }

    /// The running channel of `inbox_id` and the inbox's own send limits (which override the
    /// channel's declared quotas); `None` when the inbox no longer exists or is not running.
    pub async fn resolve(&self, inbox_id: i64) -> Option<(Arc<dyn Channel>, SendLimits)> {
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
