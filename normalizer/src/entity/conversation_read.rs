//! The `conversation_reads` table: how far an agent has read a conversation.

use sea_orm::entity::prelude::*;

/// One row of `conversation_reads`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "conversation_reads")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub agent_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub conversation_id: i64,
    /// The highest `seq` the agent has seen; inbound messages above it are unread.
    pub last_read_seq: i64,
    pub updated_at: DateTimeUtc,
}

/// No declared relations: joins are written where they are needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
