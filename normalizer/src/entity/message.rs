//! The `messages` table.

use sea_orm::entity::prelude::*;

pub use kefu_channel::Direction;

/// One row of `messages`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "messages")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub conversation_id: i64,
    pub inbox_id: i64,
    pub seq: i64,
    pub direction: Direction,
    pub private: bool,
    pub sender_type: SenderType,
    pub sender_id: Option<i64>,
    pub sender_name: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub text: String,
    /// The full [`kefu_channel::Content`] (attachments, html, extras).
    #[sea_orm(column_type = "Json")]
    pub content: Json,
    pub dedupe_key: Option<String>,
    /// The provider reference other messages may point at (email `Message-ID`).
    pub message_ref: Option<String>,
    pub delivery_status: DeliveryStatus,
    #[sea_orm(column_type = "Text", nullable)]
    pub delivery_error: Option<String>,
    pub provider_ref: Option<String>,
    pub sent_at: Option<DateTimeUtc>,
    /// How many times delivery was attempted.
    pub delivery_attempts: i32,
    /// Per-recipient results of the last attempt (e.g. one entry per push device).
    #[sea_orm(column_type = "Json", nullable)]
    pub delivery_details: Option<Json>,
    /// A send attempt holds the message until then (see `Deliveries::claim`).
    pub delivery_claimed_until: Option<DateTimeUtc>,
    /// When the next attempt is due after a retryable failure; `None` for the first attempt.
    pub delivery_due_at: Option<DateTimeUtc>,
    /// Channel fallback: `{"to": {...}}` on a reply that failed and was sent another way,
    /// `{"from": {...}}` on the copy that went that way (see [`crate::fallback`]).
    #[sea_orm(column_type = "Json", nullable)]
    pub fallback: Option<Json>,
    pub created_at: DateTimeUtc,
}

/// No declared relations: joins are written where they are needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Who wrote a message, stored in `messages.sender_type`.
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
pub enum SenderType {
    /// The customer.
    #[sea_orm(string_value = "contact")]
    Contact,
    /// An agent (`sender_id` is theirs).
    #[sea_orm(string_value = "agent")]
    Agent,
    /// Kefu itself (queue notices, automatic messages).
    #[sea_orm(string_value = "system")]
    System,
    /// The FAQ bot (an answer from the knowledge base).
    #[sea_orm(string_value = "bot")]
    Bot,
}

/// Where a message's delivery stands, stored in `messages.delivery_status`. Inbound messages
/// are `delivered` when stored; private notes are `sent`.
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
pub enum DeliveryStatus {
    /// Waiting for its first or next attempt.
    #[sea_orm(string_value = "pending")]
    Pending,
    /// The provider accepted it.
    #[sea_orm(string_value = "sent")]
    Sent,
    /// The provider reported it delivered (or it was read).
    #[sea_orm(string_value = "delivered")]
    Delivered,
    /// Delivery gave up; `delivery_error` says why.
    #[sea_orm(string_value = "failed")]
    Failed,
}

impl DeliveryStatus {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }
}
