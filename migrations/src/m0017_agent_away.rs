//! Idle presence (issue 20, "Being there"): `agents.away_after_minutes`, how long the
//! agent's console may sit idle before it sets them `away` (0: never). A console preference
//! the agent sets in their profile; the server stores it so it follows them to every browser.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0017_agent_away"
    }
}

#[derive(DeriveIden)]
enum Agents {
    Table,
    AwayAfterMinutes,
}

#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Agents::Table)
                .add_column(
                    ColumnDef::new(Agents::AwayAfterMinutes)
                        .integer()
                        .not_null()
                        .default(0),
                )
                .take(),
        )
        .await
    }
}
