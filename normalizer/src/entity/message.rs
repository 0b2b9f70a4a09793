//! The `messages` table.

use sea_orm::entity::prelude::*;

/// One row of `messages`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "messages")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub conversation_id: i64,
    pub inbox_id: i64,
    pub seq: i64,
    pub direction: String,
    pub private: bool,
    pub sender_type: String,
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
    pub delivery_status: String,
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
    pub created_at: DateTimeUtc,
}

/// No declared relations: joins are written where they are needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
