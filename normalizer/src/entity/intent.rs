//! The `intents` table: named intents with example phrases (migration m0030).

use sea_orm::entity::prelude::*;

/// One row of `intents`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "intents")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// A unique slug, e.g. `refund`; what routing rules name.
    pub name: String,
    pub label: String,
    /// The example phrases: a JSON array of strings.
    #[sea_orm(column_type = "Json")]
    pub examples: Json,
    pub enabled: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// No declared relations: joins are written where they are needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
