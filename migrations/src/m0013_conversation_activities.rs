//! Conversation activities (issue 20, "Handing over"): the thread's timeline of who did what —
//! assigned, transferred, resolved, reopened, routed by a rule, priority changed. The outbox
//! is pruned an hour after relay, so the timeline has its own table, written in the same
//! transaction as the change it describes.
//!
//! A row names the conversation, what happened (`kind`), who did it (`actor_id`, none for
//! Kefu itself or the customer), the agent or team it went to, and the rest as JSON
//! (`details`: the rule names, the priorities, the assignment reason). Deleting a
//! conversation deletes its rows; an agent or team that is deleted keeps its rows (names are
//! looked up when the timeline is read, and a missing one reads as unknown).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0013_conversation_activities"
    }
}

#[derive(DeriveIden)]
enum ConversationActivities {
    Table,
    Id,
    ConversationId,
    Kind,
    ActorId,
    AgentId,
    TeamId,
    Details,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Conversations {
    Table,
    Id,
}

#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ConversationActivities::Table)
                .col(
                    big_integer(ConversationActivities::Id)
                        .auto_increment()
                        .primary_key(),
                )
                .col(big_integer(ConversationActivities::ConversationId))
                .col(string(ConversationActivities::Kind))
                .col(big_integer_null(ConversationActivities::ActorId))
                .col(big_integer_null(ConversationActivities::AgentId))
                .col(big_integer_null(ConversationActivities::TeamId))
                .col(json(ConversationActivities::Details))
                .col(timestamp_with_time_zone(ConversationActivities::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(
                            ConversationActivities::Table,
                            ConversationActivities::ConversationId,
                        )
                        .to(Conversations::Table, Conversations::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_conversation_activities_conversation")
                .table(ConversationActivities::Table)
                .col(ConversationActivities::ConversationId)
                .col(ConversationActivities::Id)
                .take(),
        )
        .await
    }
}
