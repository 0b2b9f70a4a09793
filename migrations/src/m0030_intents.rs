//! Intents (issue 23, "AI assist that works offline"): named intents with example phrases,
//! and the intent detected for each conversation.
//!
//! - `intents`: one intent each: a `name` (a unique slug such as `refund`, what routing rules
//!   name in `when.intent`), the `label` the console shows, its `examples` (a JSON array of
//!   phrases; each is one document of the in-memory index the matcher searches) and whether
//!   it is `enabled`.
//! - `conversations.intent`: the name of the intent detected in the first customer message of
//!   the conversation's current wait (a new conversation, or a reopened one), beside
//!   `conversations.sentiment`: like the sentiment it is a fact about the conversation that
//!   the conversation API, its events and routing read, and a column (rather than a key in the
//!   contact's free-form `attributes`) keeps it about this conversation and typed.
//!   `conversations.intent_match` keeps the decision behind it: the score, the margin over the
//!   runner-up and the candidates (JSON), so the detection can be explained as routing
//!   decisions are. Both stay `NULL` until an intent is configured and a message is matched.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0030_intents"
    }
}

#[derive(DeriveIden)]
enum Intents {
    Table,
    Id,
    Name,
    Label,
    Examples,
    Enabled,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Conversations {
    Table,
    Intent,
    IntentMatch,
}

#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Intents::Table)
                .col(big_integer(Intents::Id).auto_increment().primary_key())
                .col(string(Intents::Name))
                .col(string(Intents::Label))
                .col(json(Intents::Examples))
                .col(boolean(Intents::Enabled))
                .col(timestamp_with_time_zone(Intents::CreatedAt))
                .col(timestamp_with_time_zone(Intents::UpdatedAt))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_intents_name")
                .table(Intents::Table)
                .col(Intents::Name)
                .unique()
                .take(),
        )
        .await?;
        // SQLite adds one column per statement.
        m.alter_table(
            Table::alter()
                .table(Conversations::Table)
                .add_column(string_null(Conversations::Intent))
                .take(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Conversations::Table)
                .add_column(json_null(Conversations::IntentMatch))
                .take(),
        )
        .await
    }
}
