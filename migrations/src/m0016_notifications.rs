//! Agent notifications (issue 20, "Being there"): the console's bell. A row tells one agent
//! that something needs them — another agent mentioned them in a private note, or a
//! conversation was assigned or transferred to them — and stays unread until they open it.
//!
//! A mention names its note (`message_id`); an assignment names none. One agent is told of one
//! note once (`ux_notifications_once`), so a note posted again with the same `client_id` adds
//! nothing. Deleting a conversation or an agent deletes their rows.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0016_notifications"
    }
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    AgentId,
    Kind,
    ConversationId,
    MessageId,
    ActorId,
    CreatedAt,
    ReadAt,
}

#[derive(DeriveIden)]
enum Conversations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Agents {
    Table,
    Id,
}

#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Notifications::Table)
                .col(
                    big_integer(Notifications::Id)
                        .auto_increment()
                        .primary_key(),
                )
                .col(big_integer(Notifications::AgentId))
                .col(string(Notifications::Kind))
                .col(big_integer(Notifications::ConversationId))
                .col(big_integer_null(Notifications::MessageId))
                .col(big_integer_null(Notifications::ActorId))
                .col(timestamp_with_time_zone(Notifications::CreatedAt))
                .col(timestamp_with_time_zone_null(Notifications::ReadAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Notifications::Table, Notifications::AgentId)
                        .to(Agents::Table, Agents::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Notifications::Table, Notifications::ConversationId)
                        .to(Conversations::Table, Conversations::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        // The bell: an agent's newest first, and their unread count.
        m.create_index(
            Index::create()
                .name("ix_notifications_agent")
                .table(Notifications::Table)
                .col(Notifications::AgentId)
                .col(Notifications::Id)
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_notifications_once")
                .table(Notifications::Table)
                .col(Notifications::AgentId)
                .col(Notifications::Kind)
                .col(Notifications::MessageId)
                .unique()
                .take(),
        )
        .await
    }
}
