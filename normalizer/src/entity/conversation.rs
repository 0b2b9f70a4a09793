//! The `conversations` table.

use sea_orm::entity::prelude::*;

pub use crate::status::Status;

/// One row of `conversations`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "conversations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub inbox_id: i64,
    pub contact_id: i64,
    pub identity_id: i64,
    pub status: Status,
    pub priority: i32,
    /// `{skill: minimum level}`.
    #[sea_orm(column_type = "Json")]
    pub skills: Json,
    pub assignee_id: Option<i64>,
    pub team_id: Option<i64>,
    /// The highest `seq` handed out in this conversation.
    pub last_seq: i64,
    pub subject: Option<String>,
    /// Random token that threads replies (email plus-addressing, widget sessions).
    pub token: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub last_message_at: DateTimeUtc,
    pub last_inbound_at: Option<DateTimeUtc>,
    pub queued_at: Option<DateTimeUtc>,
    pub resolved_at: Option<DateTimeUtc>,
    /// The sentiment (−1 to 1) of the customer's latest message, once one was scored.
    pub sentiment: Option<f64>,
    /// The intent detected in the first customer message of the current wait (a name in
    /// `intents`), once intents exist and one matched.
    pub intent: Option<String>,
    /// How the intent was detected: `crate::intents::IntentMatch` as JSON (also when none
    /// matched).
    #[sea_orm(column_type = "Json", nullable)]
    pub intent_match: Option<Json>,
}

/// No declared relations: joins are written where they are needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
