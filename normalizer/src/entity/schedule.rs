//! The `schedules` table.

use sea_orm::entity::prelude::*;

/// One row of `schedules`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "schedules")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Unique.
    pub name: String,
    /// An IANA zone name, e.g. `Asia/Shanghai`.
    pub time_zone: String,
    /// `{mon: [["09:00", "18:00"], ...], ...}`, validated and in `HH:MM`.
    #[sea_orm(column_type = "Json")]
    pub weekly: Json,
    /// Closed dates, `["YYYY-MM-DD", ...]`, sorted.
    #[sea_orm(column_type = "Json")]
    pub holidays: Json,
    /// Dates worked with the make-up hours, sorted.
    #[sea_orm(column_type = "Json")]
    pub extra_workdays: Json,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// No declared relations: joins are written where they are needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
