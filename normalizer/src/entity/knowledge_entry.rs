//! The `knowledge_entries` table: the knowledge base's questions and answers (migration m0025).

use sea_orm::entity::prelude::*;

/// One row of `knowledge_entries`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "knowledge_entries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(column_type = "Text")]
    pub question: String,
    /// Other ways customers ask the same question: a JSON array of strings.
    #[sea_orm(column_type = "Json")]
    pub alternatives: Json,
    #[sea_orm(column_type = "Text")]
    pub answer: String,
    /// A JSON array of strings.
    #[sea_orm(column_type = "Json")]
    pub tags: Json,
    /// The language the entry is written in (`zh-CN`, `en`...), when given.
    pub locale: Option<String>,
    /// Disabled entries are kept but neither suggested nor answered with.
    pub enabled: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// No declared relations: joins are written where they are needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
