//! Reports (issue 22): `metric_events` holds one row per measured fact — a conversation opened,
//! its first response, every reply, a resolution, a reopen, a transfer, a queue wait ended by an
//! assignment, a satisfaction rating — written by the outbox's consumer from committed events.
//!
//! `(kind, source_event_id)` is unique: a row names the outbox event it was derived from, so a
//! batch consumed twice (a crash before it was marked) never counts twice. The agent, team,
//! inbox and channel are copied when the fact happens, so a later transfer or inbox change does
//! not move past figures. `wall_ms` is elapsed wall time; `business_ms` counts only the open
//! hours of the inbox's schedule (equal to `wall_ms` when the inbox keeps none).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0024_metric_events"
    }
}

#[derive(DeriveIden)]
enum MetricEvents {
    Table,
    Id,
    Kind,
    SourceEventId,
    ConversationId,
    InboxId,
    Channel,
    TeamId,
    AgentId,
    Actor,
    At,
    WallMs,
    BusinessMs,
    Rating,
}

#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(MetricEvents::Table)
                .col(big_integer(MetricEvents::Id).auto_increment().primary_key())
                .col(string(MetricEvents::Kind))
                .col(big_integer(MetricEvents::SourceEventId))
                // No foreign key: figures outlive deleted conversations.
                .col(big_integer(MetricEvents::ConversationId))
                .col(big_integer(MetricEvents::InboxId))
                .col(string(MetricEvents::Channel))
                .col(big_integer_null(MetricEvents::TeamId))
                .col(big_integer_null(MetricEvents::AgentId))
                .col(string(MetricEvents::Actor))
                .col(timestamp_with_time_zone(MetricEvents::At))
                .col(big_integer_null(MetricEvents::WallMs))
                .col(big_integer_null(MetricEvents::BusinessMs))
                .col(small_integer_null(MetricEvents::Rating))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_metric_events_source")
                .table(MetricEvents::Table)
                .col(MetricEvents::Kind)
                .col(MetricEvents::SourceEventId)
                .unique()
                .take(),
        )
        .await?;
        // Reports select a time range.
        m.create_index(
            Index::create()
                .name("ix_metric_events_at")
                .table(MetricEvents::Table)
                .col(MetricEvents::At)
                .take(),
        )
        .await?;
        // The consumer reads a conversation's current response cycle.
        m.create_index(
            Index::create()
                .name("ix_metric_events_conversation")
                .table(MetricEvents::Table)
                .col(MetricEvents::ConversationId)
                .col(MetricEvents::At)
                .take(),
        )
        .await
    }
}
