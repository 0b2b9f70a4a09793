//! Customer satisfaction (issue 21, CSAT): `inboxes.csat` holds `{enabled, message}`, and
//! `csat_surveys` holds one survey per conversation, asked when it is first resolved.
//!
//! A survey row is written whether the question was sent (`requested`) or not (`skipped`, with
//! the reason: the channel's reply window had closed, say), so a report can tell the two apart.
//! The customer answers with `token`, a random capability that works once and until
//! `expires_at`. The agent and team are copied from the conversation at the time it was
//! resolved, so a later transfer does not move the rating to someone else.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0022_csat"
    }
}

#[derive(DeriveIden)]
enum Inboxes {
    Table,
    Csat,
}

#[derive(DeriveIden)]
enum CsatSurveys {
    Table,
    Id,
    ConversationId,
    InboxId,
    ContactId,
    AgentId,
    TeamId,
    Channel,
    Status,
    SkipReason,
    Token,
    MessageId,
    Rating,
    Comment,
    RequestedAt,
    ExpiresAt,
    SubmittedAt,
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
                .add_column(json_null(Inboxes::Csat))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(CsatSurveys::Table)
                .col(big_integer(CsatSurveys::Id).auto_increment().primary_key())
                .col(big_integer(CsatSurveys::ConversationId))
                .col(big_integer(CsatSurveys::InboxId))
                .col(big_integer(CsatSurveys::ContactId))
                .col(big_integer_null(CsatSurveys::AgentId))
                .col(big_integer_null(CsatSurveys::TeamId))
                .col(string(CsatSurveys::Channel))
                .col(string(CsatSurveys::Status))
                .col(string_null(CsatSurveys::SkipReason))
                .col(string(CsatSurveys::Token))
                .col(big_integer_null(CsatSurveys::MessageId))
                .col(small_integer_null(CsatSurveys::Rating))
                .col(text_null(CsatSurveys::Comment))
                .col(timestamp_with_time_zone(CsatSurveys::RequestedAt))
                .col(timestamp_with_time_zone(CsatSurveys::ExpiresAt))
                .col(timestamp_with_time_zone_null(CsatSurveys::SubmittedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(CsatSurveys::Table, CsatSurveys::ConversationId)
                        .to(Conversations::Table, Conversations::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        // Asked once per conversation: a second resolve finds the first survey.
        m.create_index(
            Index::create()
                .name("ux_csat_surveys_conversation")
                .table(CsatSurveys::Table)
                .col(CsatSurveys::ConversationId)
                .unique()
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_csat_surveys_token")
                .table(CsatSurveys::Table)
                .col(CsatSurveys::Token)
                .unique()
                .take(),
        )
        .await?;
        // Reports read ratings by the time they were given.
        m.create_index(
            Index::create()
                .name("ix_csat_surveys_submitted")
                .table(CsatSurveys::Table)
                .col(CsatSurveys::SubmittedAt)
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_csat_surveys_contact")
                .table(CsatSurveys::Table)
                .col(CsatSurveys::ContactId)
                .take(),
        )
        .await
    }
}
