//! Rollups in more grains (issue 22, reports): besides hours and UTC days, blocks of 2, 4 and
//! 8 hours and UTC months, so a year of daily figures in a zone other than UTC reads three
//! rows a day instead of twenty-four, and a year by agent reads months instead of days.
//!
//! The table is unchanged; this empties it, and the gateway's start rebuilds it from the
//! metric events in every grain (`reports::rollup::rebuild_if_missing`).

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0031_rollup_grains"
    }
}

#[derive(DeriveIden)]
enum MetricRollups {
    Table,
}

#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.exec_stmt(Query::delete().from_table(MetricRollups::Table).to_owned())
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Rows of the new grains are not read by the older code, and the start rebuilds
        // nothing while rows remain: empty the table so it is rebuilt in hours and days.
        m.exec_stmt(Query::delete().from_table(MetricRollups::Table).to_owned())
            .await
    }
}
