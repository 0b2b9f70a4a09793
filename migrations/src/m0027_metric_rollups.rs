//! Reports over long ranges (issue 22): `metric_rollups` sums `metric_events` by UTC hour and
//! by UTC day, so a report over a year reads a few thousand rows instead of millions.
//!
//! A row is one period (`grain` 1: an hour, 24: a day, starting at `period`) of one inbox in
//! one of three scopes: scope 0 sums the inbox's facts whoever handled them (reports without
//! an agent or team); scope 1 splits them by team and agent (`0` for none); scope 2 by the
//! conversation's labels (`label_id`; a fact counts once for each label). It holds counts
//! (conversations opened, ratings and their sum), the conversations replied in (their ids, so
//! distinct counts stay exact across periods), and the first response and resolution times
//! as histograms of durations rounded to three significant digits of milliseconds, in wall
//! and in business time (`NULL` business histogram: the same as wall time).
//!
//! `metric_events` gains `labels`: the ids of the labels the conversation carried when the
//! fact was recorded (ascending, separated by spaces; `NULL` for none), for reports by label.
//!
//! The outbox consumer updates the rows in the transaction that writes the metric events, for
//! the events actually inserted, so a batch consumed twice adds nothing. They can be rebuilt
//! from `metric_events`; the gateway does so at start when the table is empty and there are
//! metric events.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0027_metric_rollups"
    }
}

#[derive(DeriveIden)]
enum MetricRollups {
    Table,
    Id,
    Scope,
    Grain,
    Period,
    InboxId,
    Channel,
    TeamId,
    AgentId,
    LabelId,
    Opened,
    Replied,
    FirstWall,
    FirstBusiness,
    ResolutionWall,
    ResolutionBusiness,
    CsatResponses,
    CsatSum,
}

#[derive(DeriveIden)]
enum MetricEvents {
    Table,
    Labels,
}

#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(MetricEvents::Table)
                .add_column(text_null(MetricEvents::Labels))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(MetricRollups::Table)
                .col(
                    big_integer(MetricRollups::Id)
                        .auto_increment()
                        .primary_key(),
                )
                .col(small_integer(MetricRollups::Scope))
                .col(small_integer(MetricRollups::Grain))
                .col(timestamp_with_time_zone(MetricRollups::Period))
                .col(big_integer(MetricRollups::InboxId))
                .col(string(MetricRollups::Channel))
                .col(big_integer(MetricRollups::TeamId))
                .col(big_integer(MetricRollups::AgentId))
                .col(big_integer(MetricRollups::LabelId))
                .col(big_integer(MetricRollups::Opened))
                .col(text_null(MetricRollups::Replied))
                .col(text_null(MetricRollups::FirstWall))
                .col(text_null(MetricRollups::FirstBusiness))
                .col(text_null(MetricRollups::ResolutionWall))
                .col(text_null(MetricRollups::ResolutionBusiness))
                .col(big_integer(MetricRollups::CsatResponses))
                .col(big_integer(MetricRollups::CsatSum))
                .take(),
        )
        .await?;
        // One row per period, inbox, team and agent; reports read a scope and grain over a
        // range of periods.
        m.create_index(
            Index::create()
                .name("ux_metric_rollups_key")
                .table(MetricRollups::Table)
                .col(MetricRollups::Scope)
                .col(MetricRollups::Grain)
                .col(MetricRollups::Period)
                .col(MetricRollups::InboxId)
                .col(MetricRollups::TeamId)
                .col(MetricRollups::AgentId)
                .col(MetricRollups::LabelId)
                .unique()
                .take(),
        )
        .await
    }
}
