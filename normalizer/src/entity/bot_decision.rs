//! The `bot_decisions` table: what the FAQ bot decided about each customer message, with the
//! candidates it weighed (migration m0025).

use sea_orm::entity::prelude::*;

/// One row of `bot_decisions`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "bot_decisions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub conversation_id: i64,
    pub inbox_id: i64,
    /// The customer message decided on.
    pub message_id: i64,
    /// `answer` or `handoff`.
    pub action: String,
    /// Why the bot handed off (`weak_match`, `asked_for_human`, `too_many_answers`,
    /// `negative_sentiment`, `outside_hours`).
    pub reason: Option<String>,
    /// The entry answered with.
    pub knowledge_id: Option<i64>,
    /// The bot's reply message.
    pub reply_id: Option<i64>,
    /// `[{knowledge_id, score}]`, best first.
    #[sea_orm(column_type = "Json")]
    pub candidates: Json,
    pub created_at: DateTimeUtc,
}

/// No declared relations: joins are written where they are needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
