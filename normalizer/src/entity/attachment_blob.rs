//! The `attachment_blobs` table: the bytes of a stored file.

use sea_orm::entity::prelude::*;

/// One row of `attachment_blobs`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "attachment_blobs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub attachment_id: i64,
    #[sea_orm(column_type = "Blob")]
    pub data: Vec<u8>,
}

/// No declared relations: joins are written where they are needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
