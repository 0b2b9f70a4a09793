//! The `agents` table.

use sea_orm::entity::prelude::*;

/// One row of `agents`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "agents")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub role: String,
    pub max_concurrent: i32,
    pub status: String,
    pub status_changed_at: DateTimeUtc,
    pub last_assigned_at: Option<DateTimeUtc>,
    pub deleted_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// `false` once deactivated: no sign-in, sessions and API tokens refused.
    pub active: bool,
    /// Console language, `en` or `zh-CN`.
    pub language: String,
    /// Notification preferences (`null` until first changed: the defaults apply).
    pub notifications: Option<Json>,
}

/// No declared relations: joins are written where they are needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
