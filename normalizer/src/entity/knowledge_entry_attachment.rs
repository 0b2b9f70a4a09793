//! The `knowledge_entry_attachments` table: the files a knowledge-base answer carries.

use sea_orm::entity::prelude::*;

/// One row of `knowledge_entry_attachments`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "knowledge_entry_attachments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub knowledge_entry_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub attachment_id: i64,
    /// The file's place among the entry's files, from 0.
    pub position: i32,
}

/// No declared relations: joins are written where they are needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
