//! Learning for the knowledge base (issue 23): when a conversation resolves with a human
//! agent's answer to a question the knowledge base did not cover well, a question and answer
//! pair is proposed; an admin approves (possibly edited), or rejects it.
//!
//! - `knowledge_proposals`: one row per conversation at most (a unique index on
//!   `conversation_id`, so a resolve relayed twice, or a conversation resolved again after a
//!   reopen, proposes once): the customer's question and the agent's answer (personal data
//!   redacted), the best score the knowledge base had for the question, the messages they came
//!   from, the agent, and the decision: `status` `pending`, `approved` (with the entry created,
//!   `knowledge_id`) or `rejected`, who decided and when.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0032_knowledge_proposals"
    }
}

#[derive(DeriveIden)]
enum KnowledgeProposals {
    Table,
    Id,
    ConversationId,
    InboxId,
    Question,
    Answer,
    BestScore,
    QuestionMessageId,
    AnswerMessageId,
    AgentId,
    Status,
    KnowledgeId,
    DecidedBy,
    DecidedAt,
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
                .table(KnowledgeProposals::Table)
                .col(
                    big_integer(KnowledgeProposals::Id)
                        .auto_increment()
                        .primary_key(),
                )
                .col(big_integer(KnowledgeProposals::ConversationId))
                .col(big_integer(KnowledgeProposals::InboxId))
                .col(text(KnowledgeProposals::Question))
                .col(text(KnowledgeProposals::Answer))
                .col(double_null(KnowledgeProposals::BestScore))
                .col(big_integer(KnowledgeProposals::QuestionMessageId))
                .col(big_integer(KnowledgeProposals::AnswerMessageId))
                .col(big_integer_null(KnowledgeProposals::AgentId))
                .col(string(KnowledgeProposals::Status))
                .col(big_integer_null(KnowledgeProposals::KnowledgeId))
                .col(big_integer_null(KnowledgeProposals::DecidedBy))
                .col(timestamp_with_time_zone_null(KnowledgeProposals::DecidedAt))
                .col(timestamp_with_time_zone(KnowledgeProposals::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(
                            KnowledgeProposals::Table,
                            KnowledgeProposals::ConversationId,
                        )
                        .to(Conversations::Table, Conversations::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_knowledge_proposals_conversation")
                .table(KnowledgeProposals::Table)
                .col(KnowledgeProposals::ConversationId)
                .unique()
                .take(),
        )
        .await?;
        // The list: pending first, newest first.
        m.create_index(
            Index::create()
                .name("ix_knowledge_proposals_status")
                .table(KnowledgeProposals::Table)
                .col(KnowledgeProposals::Status)
                .col(KnowledgeProposals::Id)
                .take(),
        )
        .await
    }
}
