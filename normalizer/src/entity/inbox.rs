//! The `inboxes` table.

use sea_orm::entity::prelude::*;

pub use crate::access::OthersAccess;

/// One row of `inboxes`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "inboxes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub channel_type: String,
    /// Channel settings without secrets.
    #[sea_orm(column_type = "Json")]
    pub settings: Json,
    /// The secret settings, encrypted under `secret_key` (see the gateway's crypto module).
    pub secrets_ciphertext: Option<String>,
    pub public_token: String,
    /// `{skills: {name: level}, priority}`.
    #[sea_orm(column_type = "Json")]
    pub routing: Json,
    /// Outbound pacing `{per_second, burst, per_recipient_per_second, per_recipient_burst}`
    /// overriding the channel's declared quotas.
    #[sea_orm(column_type = "Json", nullable)]
    pub send_limits: Option<Json>,
    /// How far members reach into conversations assigned to someone else.
    pub others_access: OthersAccess,
    /// The schedule whose hours the inbox keeps (no foreign key; see migration m0018).
    pub schedule_id: Option<i64>,
    /// `{enabled, message, repeat_after_hours}`: the reply sent outside the schedule's hours.
    #[sea_orm(column_type = "Json", nullable)]
    pub out_of_office: Option<Json>,
    /// `{enabled, message}`: whether customers are asked to rate a resolved conversation.
    #[sea_orm(column_type = "Json", nullable)]
    pub csat: Option<Json>,
    /// `{enabled, order}`: whether a reply that cannot reach the customer through this inbox
    /// is sent through another of their channels, and in which order of channel types.
    #[sea_orm(column_type = "Json", nullable)]
    pub fallback: Option<Json>,
    /// `{mode, min_score, min_margin, max_answers, auto_since}`: the inbox's FAQ bot.
    #[sea_orm(column_type = "Json", nullable)]
    pub bot: Option<Json>,
    pub deleted_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// No declared relations: joins are written where they are needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
