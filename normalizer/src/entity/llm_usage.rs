//! The `llm_usage` table: what each inbox spent on the language model per day (UTC), so the
//! daily budget holds across restarts and nodes.

use sea_orm::entity::prelude::*;

/// One row of `llm_usage`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "llm_usage")]
pub struct Model {
    /// The inbox whose conversations the requests were for.
    #[sea_orm(primary_key, auto_increment = false)]
    pub inbox_id: i64,
    /// The day, `YYYY-MM-DD` in UTC.
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: String,
    /// Requests sent that day.
    pub requests: i64,
    /// Tokens the API reported for them.
    pub tokens: i64,
}

/// No declared relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
