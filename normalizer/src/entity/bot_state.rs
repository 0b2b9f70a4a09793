//! The `bot_states` table: where the FAQ bot stands in a conversation (migration m0025).

use sea_orm::entity::prelude::*;

/// One row of `bot_states`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "bot_states")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub conversation_id: i64,
    /// The bot's answers since the customer last got a human or a handoff.
    pub answers_in_row: i32,
    /// The wait (the conversation's `queued_at`) the bot handed to humans; the assigner
    /// offers the conversation to agents once this matches the current wait.
    pub handed_off_for: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

/// No declared relations: joins are written where they are needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
