//! The `login_failures` table: failed sign-ins per account, shared by every node.

use sea_orm::entity::prelude::*;

/// One row of `login_failures`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "login_failures")]
pub struct Model {
    /// Hex SHA-256 of the normalized email.
    #[sea_orm(primary_key, auto_increment = false)]
    pub account: String,
    /// Failures since the count last started.
    pub failures: i32,
    /// The last failure, in milliseconds since the Unix epoch.
    pub last_failed_ms: i64,
    /// Sign-ins are refused until then (milliseconds since the Unix epoch).
    pub locked_until_ms: Option<i64>,
}

/// No declared relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
