//! The `canned_response_attachments` table: the files a canned response sends.

use sea_orm::entity::prelude::*;

/// One row of `canned_response_attachments`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "canned_response_attachments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub canned_response_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub attachment_id: i64,
    /// The file's place among the response's files, from 0.
    pub position: i32,
}

/// No declared relations: joins are written where they are needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
