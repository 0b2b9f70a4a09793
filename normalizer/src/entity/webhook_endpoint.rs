//! The `webhook_endpoints` table.

use sea_orm::entity::prelude::*;

/// One row of `webhook_endpoints`: a subscriber URL with its event filter and secret.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(column_type = "Text")]
    pub url: String,
    pub description: Option<String>,
    /// Event type names, or `["*"]`.
    #[sea_orm(column_type = "Json")]
    pub events: Json,
    /// The `whsec_` secret, encrypted under the instance key.
    #[sea_orm(column_type = "Text")]
    pub secret_ciphertext: String,
    /// The secret before the last rotation, still signing until `previous_secret_expires_at`.
    #[sea_orm(column_type = "Text", nullable)]
    pub previous_secret_ciphertext: Option<String>,
    pub previous_secret_expires_at: Option<DateTimeUtc>,
    pub enabled: bool,
    #[sea_orm(column_type = "Text", nullable)]
    pub disabled_reason: Option<String>,
    /// Start of the current run of failures; cleared by a success.
    pub failing_since: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// No declared relations: joins are written where they are needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
