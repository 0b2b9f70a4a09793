//! The knowledge base and the FAQ bot (issue 23, AI assist offline).
//!
//! - `knowledge_entries`: a question, its alternative phrasings (a JSON array of strings), the
//!   answer, tags (a JSON array), an optional locale and whether the entry is used. The search
//!   index over them is derived data, rebuilt from this table at start.
//! - `inboxes.bot`: the inbox's bot settings `{mode, min_score, min_margin, max_answers}`.
//! - `bot_states`: one row per conversation the bot has looked at: how many answers it gave in a
//!   row, and the wait (`queued_at`) it handed to humans, so the assigner offers the
//!   conversation to agents only after the handoff.
//! - `bot_decisions`: every decision (answer or handoff, with the reason) and the candidates
//!   with their scores, the way routing decisions are kept, so a decision can be explained.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0025_knowledge"
    }
}

#[derive(DeriveIden)]
enum Inboxes {
    Table,
    Bot,
}

#[derive(DeriveIden)]
enum KnowledgeEntries {
    Table,
    Id,
    Question,
    Alternatives,
    Answer,
    Tags,
    Locale,
    Enabled,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum BotStates {
    Table,
    ConversationId,
    AnswersInRow,
    HandedOffFor,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum BotDecisions {
    Table,
    Id,
    ConversationId,
    InboxId,
    MessageId,
    Action,
    Reason,
    KnowledgeId,
    ReplyId,
    Candidates,
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
        m.alter_table(
            Table::alter()
                .table(Inboxes::Table)
                .add_column(json_null(Inboxes::Bot))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(KnowledgeEntries::Table)
                .col(
                    big_integer(KnowledgeEntries::Id)
                        .auto_increment()
                        .primary_key(),
                )
                .col(text(KnowledgeEntries::Question))
                .col(json(KnowledgeEntries::Alternatives))
                .col(text(KnowledgeEntries::Answer))
                .col(json(KnowledgeEntries::Tags))
                .col(string_null(KnowledgeEntries::Locale))
                .col(boolean(KnowledgeEntries::Enabled))
                .col(timestamp_with_time_zone(KnowledgeEntries::CreatedAt))
                .col(timestamp_with_time_zone(KnowledgeEntries::UpdatedAt))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(BotStates::Table)
                .col(big_integer(BotStates::ConversationId).primary_key())
                .col(integer(BotStates::AnswersInRow))
                .col(timestamp_with_time_zone_null(BotStates::HandedOffFor))
                .col(timestamp_with_time_zone(BotStates::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(BotStates::Table, BotStates::ConversationId)
                        .to(Conversations::Table, Conversations::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(BotDecisions::Table)
                .col(big_integer(BotDecisions::Id).auto_increment().primary_key())
                .col(big_integer(BotDecisions::ConversationId))
                .col(big_integer(BotDecisions::InboxId))
                .col(big_integer(BotDecisions::MessageId))
                .col(string(BotDecisions::Action))
                .col(string_null(BotDecisions::Reason))
                .col(big_integer_null(BotDecisions::KnowledgeId))
                .col(big_integer_null(BotDecisions::ReplyId))
                .col(json(BotDecisions::Candidates))
                .col(timestamp_with_time_zone(BotDecisions::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(BotDecisions::Table, BotDecisions::ConversationId)
                        .to(Conversations::Table, Conversations::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        // One decision per customer message: a batch the relay hands over twice is answered once.
        m.create_index(
            Index::create()
                .name("ux_bot_decisions_message")
                .table(BotDecisions::Table)
                .col(BotDecisions::MessageId)
                .unique()
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_bot_decisions_conversation")
                .table(BotDecisions::Table)
                .col(BotDecisions::ConversationId)
                .take(),
        )
        .await
    }
}
