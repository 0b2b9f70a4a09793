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
    /// Where its delivery stands.
    pub status: WebhookDeliveryStatus,
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

/// Where a webhook delivery stands, stored in `webhook_deliveries.status`.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "lowercase")]
pub enum WebhookDeliveryStatus {
    /// Waiting for its first or next attempt.
    #[sea_orm(string_value = "pending")]
    Pending,
    /// A worker holds it (until `locked_until`).
    #[sea_orm(string_value = "sending")]
    Sending,
    /// The endpoint answered 2xx.
    #[sea_orm(string_value = "succeeded")]
    Succeeded,
    /// Attempts ran out or the endpoint was disabled; `last_error` says why.
    #[sea_orm(string_value = "failed")]
    Failed,
}

impl WebhookDeliveryStatus {
    /// Every status, in their documented order.
    pub const ALL: [Self; 4] = [Self::Pending, Self::Sending, Self::Succeeded, Self::Failed];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sending => "sending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }
}
