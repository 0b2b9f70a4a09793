//! Business hours (issue 21): `schedules` (a time zone, opening intervals per weekday,
//! holidays and extra workdays, each list stored as JSON in the spelling the API shows), and
//! on `inboxes` the schedule an inbox keeps (`schedule_id`) and its out-of-office reply
//! (`out_of_office`, `{enabled, message, repeat_after_hours}`).
//!
//! `inboxes.schedule_id` has no foreign key: SQLite cannot add one to an existing table. The
//! schedule store refuses to delete a schedule a live inbox uses instead.
//!
//! `out_of_office_replies` remembers, per conversation, when the out-of-office reply was last
//! sent, so that every node sees it and the reply is not repeated within
//! `repeat_after_hours`. Deleting a conversation deletes its row.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0018_schedules"
    }
}

#[derive(DeriveIden)]
enum Schedules {
    Table,
    Id,
    Name,
    TimeZone,
    Weekly,
    Holidays,
    ExtraWorkdays,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Inboxes {
    Table,
    ScheduleId,
    OutOfOffice,
}

#[derive(DeriveIden)]
enum OutOfOfficeReplies {
    Table,
    ConversationId,
    MessageId,
    SentAt,
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
                .table(Schedules::Table)
                .col(big_integer(Schedules::Id).auto_increment().primary_key())
                .col(string(Schedules::Name))
                .col(string(Schedules::TimeZone))
                .col(json(Schedules::Weekly))
                .col(json(Schedules::Holidays))
                .col(json(Schedules::ExtraWorkdays))
                .col(timestamp_with_time_zone(Schedules::CreatedAt))
                .col(timestamp_with_time_zone(Schedules::UpdatedAt))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_schedules_name")
                .table(Schedules::Table)
                .col(Schedules::Name)
                .unique()
                .take(),
        )
        .await?;
        // SQLite alters one column per statement.
        m.alter_table(
            Table::alter()
                .table(Inboxes::Table)
                .add_column(big_integer_null(Inboxes::ScheduleId))
                .take(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Inboxes::Table)
                .add_column(json_null(Inboxes::OutOfOffice))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(OutOfOfficeReplies::Table)
                .col(big_integer(OutOfOfficeReplies::ConversationId).primary_key())
                .col(big_integer(OutOfOfficeReplies::MessageId))
                .col(timestamp_with_time_zone(OutOfOfficeReplies::SentAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(
                            OutOfOfficeReplies::Table,
                            OutOfOfficeReplies::ConversationId,
                        )
                        .to(Conversations::Table, Conversations::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await
    }
}
