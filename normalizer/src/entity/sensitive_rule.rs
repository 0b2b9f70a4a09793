//! The `sensitive_rules` table: sensitive-word and personal-data rules (migration m0026).

use sea_orm::entity::prelude::*;

/// One row of `sensitive_rules`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "sensitive_rules")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    /// The words it looks for: a JSON array of strings (empty for a detector rule).
    #[sea_orm(column_type = "Json")]
    pub words: Json,
    /// `cn_id`, `bank_card`, `mobile` or `email`; `None` for a word list.
    pub detector: Option<String>,
    /// `mask`, `block`, `flag` or `route`.
    pub action: String,
    /// The team a `route` rule hands conversations to.
    pub team_id: Option<i64>,
    pub enabled: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// No declared relations: joins are written where they are needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
