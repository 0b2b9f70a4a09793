//! The `attachments` table: one stored or provider-held file.

use sea_orm::entity::prelude::*;

/// One row of `attachments`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "attachments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Random part of the file's URL; whoever has the URL may download the file.
    pub token: String,
    /// The inbox a customer's file arrived through; `None` for agents' uploads.
    pub inbox_id: Option<i64>,
    /// The agent who uploaded it.
    pub uploaded_by: Option<i64>,
    #[sea_orm(column_type = "Text")]
    pub name: String,
    pub mime: String,
    pub size: Option<i64>,
    pub sha256: Option<String>,
    /// The provider's media id, for files downloaded on first use.
    #[sea_orm(column_type = "Text", nullable)]
    pub provider_ref: Option<String>,
    /// The URL the provider gave for the file, if any.
    #[sea_orm(column_type = "Text", nullable)]
    pub source_url: Option<String>,
    /// Whether the bytes are in `attachment_blobs`.
    pub stored: bool,
    pub created_at: DateTimeUtc,
}

/// No declared relations: joins are written where they are needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
