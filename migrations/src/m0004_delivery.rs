//! Outbound delivery and webhooks: which outbox events have been turned into jobs, delivery
//! attempts on messages, webhook endpoints, their deliveries and every attempt's log line.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0004_delivery"
    }
}

#[derive(DeriveIden)]
enum OutboxEvents {
    Table,
    DispatchedAt,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    DeliveryAttempts,
    DeliveryDetails,
}

#[derive(DeriveIden)]
enum Inboxes {
    Table,
    SendLimits,
}

#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    Id,
    Url,
    Description,
    Events,
    SecretCiphertext,
    PreviousSecretCiphertext,
    PreviousSecretExpiresAt,
    Enabled,
    DisabledReason,
    FailingSince,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    EndpointId,
    EventId,
    EventType,
    ConversationId,
    MsgId,
    Body,
    Status,
    Attempts,
    NextAttemptAt,
    LockedUntil,
    LastStatusCode,
    LastError,
    CreatedAt,
    UpdatedAt,
    CompletedAt,
}

#[derive(DeriveIden)]
enum WebhookAttempts {
    Table,
    Id,
    DeliveryId,
    Attempt,
    StatusCode,
    LatencyMs,
    ResponseExcerpt,
    Error,
    CreatedAt,
}

#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        m.alter_table(
            Table::alter()
                .table(OutboxEvents::Table)
                .add_column(timestamp_with_time_zone_null(OutboxEvents::DispatchedAt))
                .take(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared("CREATE INDEX IF NOT EXISTS ix_outbox_undispatched ON outbox_events (id) WHERE dispatched_at IS NULL")
            .await?;
        m.alter_table(
            Table::alter()
                .table(Messages::Table)
                .add_column(integer(Messages::DeliveryAttempts).default(0))
                .take(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Messages::Table)
                .add_column(json_null(Messages::DeliveryDetails))
                .take(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Inboxes::Table)
                .add_column(json_null(Inboxes::SendLimits))
                .take(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared("CREATE INDEX IF NOT EXISTS ix_messages_failed ON messages (id) WHERE delivery_status = 'failed'")
            .await?;

        m.create_table(
            Table::create()
                .table(WebhookEndpoints::Table)
                .col(
                    big_integer(WebhookEndpoints::Id)
                        .auto_increment()
                        .primary_key(),
                )
                .col(text(WebhookEndpoints::Url))
                .col(string_null(WebhookEndpoints::Description))
                .col(json(WebhookEndpoints::Events))
                .col(text(WebhookEndpoints::SecretCiphertext))
                .col(text_null(WebhookEndpoints::PreviousSecretCiphertext))
                .col(timestamp_with_time_zone_null(
                    WebhookEndpoints::PreviousSecretExpiresAt,
                ))
                .col(boolean(WebhookEndpoints::Enabled))
                .col(text_null(WebhookEndpoints::DisabledReason))
                .col(timestamp_with_time_zone_null(
                    WebhookEndpoints::FailingSince,
                ))
                .col(timestamp_with_time_zone(WebhookEndpoints::CreatedAt))
                .col(timestamp_with_time_zone(WebhookEndpoints::UpdatedAt))
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(WebhookDeliveries::Table)
                .col(
                    big_integer(WebhookDeliveries::Id)
                        .auto_increment()
                        .primary_key(),
                )
                .col(big_integer(WebhookDeliveries::EndpointId))
                .col(big_integer(WebhookDeliveries::EventId))
                .col(string(WebhookDeliveries::EventType))
                .col(big_integer_null(WebhookDeliveries::ConversationId))
                .col(string(WebhookDeliveries::MsgId))
                .col(text(WebhookDeliveries::Body))
                .col(string(WebhookDeliveries::Status))
                .col(integer(WebhookDeliveries::Attempts))
                .col(timestamp_with_time_zone_null(
                    WebhookDeliveries::NextAttemptAt,
                ))
                .col(timestamp_with_time_zone_null(
                    WebhookDeliveries::LockedUntil,
                ))
                .col(integer_null(WebhookDeliveries::LastStatusCode))
                .col(text_null(WebhookDeliveries::LastError))
                .col(timestamp_with_time_zone(WebhookDeliveries::CreatedAt))
                .col(timestamp_with_time_zone(WebhookDeliveries::UpdatedAt))
                .col(timestamp_with_time_zone_null(
                    WebhookDeliveries::CompletedAt,
                ))
                .foreign_key(
                    ForeignKey::create()
                        .from(WebhookDeliveries::Table, WebhookDeliveries::EndpointId)
                        .to(WebhookEndpoints::Table, WebhookEndpoints::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        // One delivery per endpoint and event, however often the fan-out runs.
        m.create_index(
            Index::create()
                .name("ux_webhook_delivery_endpoint_event")
                .table(WebhookDeliveries::Table)
                .col(WebhookDeliveries::EndpointId)
                .col(WebhookDeliveries::EventId)
                .unique()
                .take(),
        )
        .await?;
        // Per-conversation ordering looks up earlier unfinished deliveries.
        m.create_index(
            Index::create()
                .name("ix_webhook_delivery_order")
                .table(WebhookDeliveries::Table)
                .col(WebhookDeliveries::EndpointId)
                .col(WebhookDeliveries::ConversationId)
                .col(WebhookDeliveries::Status)
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_webhook_delivery_status")
                .table(WebhookDeliveries::Table)
                .col(WebhookDeliveries::Status)
                .col(WebhookDeliveries::NextAttemptAt)
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(WebhookAttempts::Table)
                .col(
                    big_integer(WebhookAttempts::Id)
                        .auto_increment()
                        .primary_key(),
                )
                .col(big_integer(WebhookAttempts::DeliveryId))
                .col(integer(WebhookAttempts::Attempt))
                .col(integer_null(WebhookAttempts::StatusCode))
                .col(integer(WebhookAttempts::LatencyMs))
                .col(text_null(WebhookAttempts::ResponseExcerpt))
                .col(text_null(WebhookAttempts::Error))
                .col(timestamp_with_time_zone(WebhookAttempts::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(WebhookAttempts::Table, WebhookAttempts::DeliveryId)
                        .to(WebhookDeliveries::Table, WebhookDeliveries::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_webhook_attempt_delivery")
                .table(WebhookAttempts::Table)
                .col(WebhookAttempts::DeliveryId)
                .take(),
        )
        .await?;
        Ok(())
    }
}
