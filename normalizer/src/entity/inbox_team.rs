//! The `inbox_teams` table: inbox membership (see [`crate::access`]).

use sea_orm::entity::prelude::*;

/// One row of `inbox_teams`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "inbox_teams")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub inbox_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub team_id: i64,
}

/// No declared relations: joins are written where they are needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
