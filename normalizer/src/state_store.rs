//! [`ChannelState`] on the database: adapters' cursors survive restarts.

use async_trait::async_trait;
use chrono::Utc;
use kefu_channel::{ChannelState, IngestError};
use sea_orm::sea_query::OnConflict;
use sea_orm::{EntityTrait, Set};

use crate::db::Db;
use crate::entity::channel_state;

/// Per-inbox key/value state in the `channel_state` table.
#[derive(Debug, Clone)]
pub struct DbChannelState {
    db: Db,
}

impl DbChannelState {
    /// State stored in `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

#[async_trait]
impl ChannelState for DbChannelState {
    async fn get(&self, inbox_id: i64, key: &str) -> Result<Option<String>, IngestError> {
        channel_state::Entity::find_by_id((inbox_id, key.to_owned()))
            .one(self.db.conn())
            .await
            .map(|r| r.map(|r| r.value))
            .map_err(|e| IngestError::Unavailable(e.to_string()))
    }

    async fn put(&self, inbox_id: i64, key: &str, value: &str) -> Result<(), IngestError> {
        let row = channel_state::ActiveModel {
            inbox_id: Set(inbox_id),
            key: Set(key.to_owned()),
            value: Set(value.to_owned()),
            updated_at: Set(Utc::now()),
        };
        channel_state::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([channel_state::Column::InboxId, channel_state::Column::Key])
                    .update_columns([
                        channel_state::Column::Value,
                        channel_state::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec(self.db.conn())
            .await
            .map(|_| ())
            .map_err(|e| IngestError::Unavailable(e.to_string()))
    }
}
