//! The `outbox_events` table.

use sea_orm::entity::prelude::*;

/// One row of `outbox_events`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub event_type: String,
    pub conversation_id: Option<i64>,
    #[sea_orm(column_type = "Json")]
    pub payload: Json,
    pub created_at: DateTimeUtc,
    pub relayed_at: Option<DateTimeUtc>,
    /// When the dispatcher turned the event into jobs (deliveries, webhooks).
    pub dispatched_at: Option<DateTimeUtc>,
}

/// No declared relations: joins are written where they are needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
