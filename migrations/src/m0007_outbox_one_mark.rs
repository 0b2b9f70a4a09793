//! The outbox is consumed once: the relay publishes a batch, the dispatcher turns it into jobs,
//! and both marks (`relayed_at`, `dispatched_at`) are set in one update. The relay now finds its
//! work through `ix_outbox_undispatched` and prunes by id, so the two indexes over `relayed_at`
//! only cost writes: every event inserted or marked updated four indexes, now two.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0007_outbox_one_mark"
    }
}

#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        // Rows relayed by the older, separate relay but not yet dispatched are relayed again
        // (at least once); rows relayed and dispatched are done.
        db.execute_unprepared("DROP INDEX IF EXISTS ix_outbox_unrelayed")
            .await?;
        db.execute_unprepared("DROP INDEX IF EXISTS ix_outbox_relayed_id")
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared(
            "CREATE INDEX IF NOT EXISTS ix_outbox_unrelayed ON outbox_events (id) WHERE relayed_at IS NULL",
        )
        .await?;
        db.execute_unprepared(
            "CREATE INDEX IF NOT EXISTS ix_outbox_relayed_id ON outbox_events (relayed_at, id)",
        )
        .await?;
        Ok(())
    }
}
