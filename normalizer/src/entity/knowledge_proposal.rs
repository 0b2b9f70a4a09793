//! The `knowledge_proposals` table: question and answer pairs learnt from resolved
//! conversations, waiting for an admin's decision (migration m0032).

use sea_orm::entity::prelude::*;

/// One row of `knowledge_proposals`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "knowledge_proposals")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The conversation it was learnt from (one proposal per conversation at most).
    pub conversation_id: i64,
    pub inbox_id: i64,
    /// The customer's question, personal data redacted.
    #[sea_orm(column_type = "Text")]
    pub question: String,
    /// The agent's answer, personal data redacted.
    #[sea_orm(column_type = "Text")]
    pub answer: String,
    /// The best score the knowledge base had for the question (`None`: no candidate at all).
    pub best_score: Option<f64>,
    /// The customer's last message of the question.
    pub question_message_id: i64,
    /// The agent's (first) message of the answer.
    pub answer_message_id: i64,
    /// The agent who answered.
    pub agent_id: Option<i64>,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
    /// The entry created when it was approved.
    pub knowledge_id: Option<i64>,
    /// Who approved or rejected it.
    pub decided_by: Option<i64>,
    pub decided_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

/// No declared relations: joins are written where they are needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
