//! Channel fallback (issue 21): `inboxes.fallback` holds `{enabled, order}`, and
//! `messages.fallback` links a reply whose delivery failed for good to the copy sent through
//! another of the contact's channels (`{"to": {...}}` on the failed one, `{"from": {...}}` on
//! the copy), so both threads can say what happened.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0023_fallback"
    }
}

#[derive(DeriveIden)]
enum Inboxes {
    Table,
    Fallback,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Fallback,
}

#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Inboxes::Table)
                .add_column(json_null(Inboxes::Fallback))
                .take(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Messages::Table)
                .add_column(json_null(Messages::Fallback))
                .take(),
        )
        .await
    }
}
