//! Routing state and assignment history for the dispatcher.
//!
//! - `routing_state`: one row per conversation the dispatcher has routed. `routed_for` is the
//!   `queued_at` the stored requirements were decided for (a conversation queued again, e.g.
//!   reopened, is routed again); `rule_hits` are the routing rules that shaped them;
//!   `notified_for` is the `queued_at` for which the customer got the `max_wait` message, so
//!   it is sent once per wait.
//! - `assignments`: every assignment with its reason (`auto`, `sticky`, `manual`, `claim`,
//!   `transfer`) and explanation, for `GET /api/v1/conversations/{id}/routing`, stickiness and
//!   the queue's wait estimate.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0003_routing"
    }
}

#[derive(DeriveIden)]
enum RoutingState {
    Table,
    ConversationId,
    RoutedFor,
    RuleHits,
    NotifiedFor,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Assignments {
    Table,
    Id,
    ConversationId,
    AgentId,
    Reason,
    Explanation,
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
                .table(RoutingState::Table)
                .col(big_integer(RoutingState::ConversationId).primary_key())
                .col(timestamp_with_time_zone_null(RoutingState::RoutedFor))
                .col(json(RoutingState::RuleHits))
                .col(timestamp_with_time_zone_null(RoutingState::NotifiedFor))
                .col(timestamp_with_time_zone(RoutingState::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(RoutingState::Table, RoutingState::ConversationId)
                        .to(Conversations::Table, Conversations::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Assignments::Table)
                .col(big_integer(Assignments::Id).auto_increment().primary_key())
                .col(big_integer(Assignments::ConversationId))
                .col(big_integer(Assignments::AgentId))
                .col(string(Assignments::Reason))
                .col(json(Assignments::Explanation))
                .col(timestamp_with_time_zone(Assignments::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Assignments::Table, Assignments::ConversationId)
                        .to(Conversations::Table, Conversations::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_assignments_conversation")
                .table(Assignments::Table)
                .col(Assignments::ConversationId)
                .col(Assignments::Id)
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_assignments_created")
                .table(Assignments::Table)
                .col(Assignments::CreatedAt)
                .take(),
        )
        .await?;
        Ok(())
    }
}
