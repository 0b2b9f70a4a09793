//! Outbound delivery claims: a send holds its message for the length of one attempt, so two
//! jobs for the same message (a job run twice, a swept job beside a slow one) never send it
//! twice at once; and the time the next attempt is due, so a sweep can find replies whose job
//! was lost.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0006_delivery_claims"
    }
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    DeliveryClaimedUntil,
    DeliveryDueAt,
}

#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        m.alter_table(
            Table::alter()
                .table(Messages::Table)
                .add_column(timestamp_with_time_zone_null(
                    Messages::DeliveryClaimedUntil,
                ))
                .take(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Messages::Table)
                .add_column(timestamp_with_time_zone_null(Messages::DeliveryDueAt))
                .take(),
        )
        .await?;
        // The sweep's candidates: few rows (replies waiting for delivery) in a large table.
        m.get_connection()
            .execute_unprepared(
                "CREATE INDEX IF NOT EXISTS ix_messages_pending ON messages (id) WHERE delivery_status = 'pending'",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared("DROP INDEX IF EXISTS ix_messages_pending")
            .await?;
        for col in [Messages::DeliveryDueAt, Messages::DeliveryClaimedUntil] {
            m.alter_table(
                Table::alter()
                    .table(Messages::Table)
                    .drop_column(col)
                    .take(),
            )
            .await?;
        }
        Ok(())
    }
}
