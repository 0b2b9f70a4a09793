//! Custom attribute definitions (issue 20, "Knowing the customer"): which keys a contact's
//! `attributes` may carry and what kind of value each takes — text, number, date (`YYYY-MM-DD`),
//! one of a list of options, a checkbox, or a link. The values themselves stay in
//! `contacts.attributes` (JSON), where routing rules already read them; a definition only
//! decides what an agent may write there.
//!
//! `key` is unique (snake_case); `options` is a JSON array of strings, used by `list` only.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0014_custom_attributes"
    }
}

#[derive(DeriveIden)]
enum CustomAttributes {
    Table,
    Id,
    Key,
    Label,
    Kind,
    Options,
    CreatedAt,
    UpdatedAt,
}

#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(CustomAttributes::Table)
                .col(
                    big_integer(CustomAttributes::Id)
                        .auto_increment()
                        .primary_key(),
                )
                .col(string(CustomAttributes::Key))
                .col(string(CustomAttributes::Label))
                .col(string(CustomAttributes::Kind))
                .col(json(CustomAttributes::Options))
                .col(timestamp_with_time_zone(CustomAttributes::CreatedAt))
                .col(timestamp_with_time_zone(CustomAttributes::UpdatedAt))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_custom_attributes_key")
                .table(CustomAttributes::Table)
                .col(CustomAttributes::Key)
                .unique()
                .take(),
        )
        .await
    }
}
