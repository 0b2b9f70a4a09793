//! Screening customer messages (issue 23): sensitive words and personal data, and sentiment.
//!
//! - `sensitive_rules`: one rule each: a `name`; `words` (a JSON array of strings) or a
//!   `detector` (`cn_id`, `bank_card`, `mobile`, `email`); one `action` (`mask`, `block`, `flag`,
//!   `route`) with the `team_id` a `route` hands conversations to; and whether it is `enabled`.
//!   What a rule found in a customer message is kept in the message's content
//!   (`extra.sensitive`).
//! - `conversations.sentiment`: the score (−1 to 1) of the customer's latest message; the
//!   message itself keeps the score and the terms that drove it (`extra.sentiment`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0026_screening"
    }
}

#[derive(DeriveIden)]
enum SensitiveRules {
    Table,
    Id,
    Name,
    Words,
    Detector,
    Action,
    TeamId,
    Enabled,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Conversations {
    Table,
    Sentiment,
}

#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(SensitiveRules::Table)
                .col(
                    big_integer(SensitiveRules::Id)
                        .auto_increment()
                        .primary_key(),
                )
                .col(string(SensitiveRules::Name))
                .col(json(SensitiveRules::Words))
                .col(string_null(SensitiveRules::Detector))
                .col(string(SensitiveRules::Action))
                .col(big_integer_null(SensitiveRules::TeamId))
                .col(boolean(SensitiveRules::Enabled))
                .col(timestamp_with_time_zone(SensitiveRules::CreatedAt))
                .col(timestamp_with_time_zone(SensitiveRules::UpdatedAt))
                .take(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Conversations::Table)
                .add_column(double_null(Conversations::Sentiment))
                .take(),
        )
        .await
    }
}
