//! The `sessions` table: server-side console sessions.

use sea_orm::entity::prelude::*;

/// One row of `sessions`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub agent_id: i64,
    /// SHA-256 (hex) of the bearer token.
    #[sea_orm(unique)]
    pub token_hash: String,
    pub created_at: DateTimeUtc,
    /// Last use, written at most once a minute.
    pub last_seen_at: DateTimeUtc,
    /// Idle expiry: slides forward with use, never past `max_expires_at`.
    pub idle_expires_at: DateTimeUtc,
    /// Absolute cap.
    pub max_expires_at: DateTimeUtc,
    /// Set on logout, password change or deactivation.
    pub revoked_at: Option<DateTimeUtc>,
}

/// No declared relations: joins are written where they are needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
