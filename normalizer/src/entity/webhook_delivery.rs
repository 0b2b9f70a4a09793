//! The `webhook_deliveries` table.

use sea_orm::entity::prelude::*;

/// One event to deliver to one endpoint, with its current state.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub endpoint_id: i64,
    /// The outbox event it carries.
    pub event_id: i64,
    pub event_type: String,
    pub conversation_id: Option<i64>,
    /// The `webhook-id` header, the same on every attempt.
    pub msg_id: String,
    /// The exact body that is signed and sent.
    #[sea_orm(column_type = "Text")]
    pub body: String,
    /// `pending`, `sending`, `succeeded` or `failed`.
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTimeUtc>,
    /// A `sending` claim expires at this time (a worker that died mid-attempt).
    pub locked_until: Option<DateTimeUtc>,
    pub last_status_code: Option<i32>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub completed_at: Option<DateTimeUtc>,
}

/// No declared relations: joins are written where they are needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
