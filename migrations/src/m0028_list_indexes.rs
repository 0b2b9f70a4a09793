//! Indexes that give the conversation list's slowest cases their order (BENCHMARKS.md,
//! "Conversation list"): without them SQLite sorted tens of thousands of rows per page.
//!
//! - `(assignee_id, id)`: one agent's conversations, or nobody's (`assignee_id IS NULL`), newest
//!   first, read backwards from the index's end.
//! - `(priority DESC, id)` instead of `(priority, id)`: the "priority" sort is highest first
//!   and, within a priority, oldest first; an index in that same mixed order is read straight.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0028_list_indexes"
    }
}

#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Each statement is valid on PostgreSQL and SQLite.
        let db = m.get_connection();
        for sql in [
            "CREATE INDEX IF NOT EXISTS ix_conv_assignee_id ON conversations (assignee_id, id)",
            "DROP INDEX IF EXISTS ix_conv_priority",
            "CREATE INDEX IF NOT EXISTS ix_conv_priority_desc ON conversations (priority DESC, id)",
        ] {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }
}
