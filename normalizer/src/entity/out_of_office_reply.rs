//! The `out_of_office_replies` table: when a conversation was last sent its inbox's
//! out-of-office reply.

use sea_orm::entity::prelude::*;

/// One row of `out_of_office_replies`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "out_of_office_replies")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub conversation_id: i64,
    /// The reply last sent.
    pub message_id: i64,
    pub sent_at: DateTimeUtc,
}

/// No declared relations: joins are written where they are needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
