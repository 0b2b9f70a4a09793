//! Conversation summaries (issue 23, "AI assist that works offline"): when a conversation is
//! resolved or transferred, a header of facts and a few of its sentences are written in the
//! same transaction, so the timeline line and the `conversation.resolved` event carry them.
//!
//! A row names the conversation, the occasion (`resolved` or `transferred`) and holds the
//! summary as JSON (`body`: `{source, facts, sentences}`), so a summary written by another
//! summarizer later (a language model) fits the same column. Deleting a conversation deletes
//! its summaries.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0029_conversation_summaries"
    }
}

#[derive(DeriveIden)]
enum ConversationSummaries {
    Table,
    Id,
    ConversationId,
    Occasion,
    Body,
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
                .table(ConversationSummaries::Table)
                .col(
                    big_integer(ConversationSummaries::Id)
                        .auto_increment()
                        .primary_key(),
                )
                .col(big_integer(ConversationSummaries::ConversationId))
                .col(string(ConversationSummaries::Occasion))
                .col(json(ConversationSummaries::Body))
                .col(timestamp_with_time_zone(ConversationSummaries::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(
                            ConversationSummaries::Table,
                            ConversationSummaries::ConversationId,
                        )
                        .to(Conversations::Table, Conversations::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_conversation_summaries_conversation")
                .table(ConversationSummaries::Table)
                .col(ConversationSummaries::ConversationId)
                .col(ConversationSummaries::Id)
                .take(),
        )
        .await
    }
}
