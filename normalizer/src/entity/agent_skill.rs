//! The `agent_skills` table.

use sea_orm::entity::prelude::*;

/// One row of `agent_skills`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "agent_skills")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub agent_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub skill: String,
    pub level: i16,
}

/// No declared relations: joins are written where they are needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
