//! The optional language model's budget (issue 23, "a pluggable LLM, off by default"): what
//! each inbox spent per UTC day (`requests`, and `tokens` as the API reported them), one row
//! per inbox and day, so a daily budget holds across restarts and nodes. Deleting an inbox
//! deletes its rows.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0033_llm_usage"
    }
}

#[derive(DeriveIden)]
enum LlmUsage {
    Table,
    InboxId,
    Day,
    Requests,
    Tokens,
}

#[derive(DeriveIden)]
enum Inboxes {
    Table,
    Id,
}

#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(LlmUsage::Table)
                .col(big_integer(LlmUsage::InboxId))
                .col(string(LlmUsage::Day))
                .col(big_integer(LlmUsage::Requests).default(0))
                .col(big_integer(LlmUsage::Tokens).default(0))
                .primary_key(Index::create().col(LlmUsage::InboxId).col(LlmUsage::Day))
                .foreign_key(
                    ForeignKey::create()
                        .from(LlmUsage::Table, LlmUsage::InboxId)
                        .to(Inboxes::Table, Inboxes::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await
    }
}
