//! `ix_message_inbox_ref (inbox_id, message_ref)` becomes partial: only messages that carry a
//! provider reference (email `Message-ID`s, mostly) are in it.
//!
//! The full index began with `inbox_id`, as the unique `(inbox_id, dedupe_key)` does, and
//! held a row for every message. Before a fresh table's first analyze, PostgreSQL's generic
//! plan of the ingest's dedupe check (`inbox_id = $1 AND dedupe_key = $2`) took it, with the
//! key as a filter, and so read every message of the inbox for each new message: 15.9 million
//! index tuples in a 15 s benchmark of 7,500 messages, a third of the database's time
//! (BENCHMARKS.md, "The dedupe check's plan"). The partial index can serve only queries that
//! name a `message_ref` (an `=` or `IN` on it implies `IS NOT NULL`, on PostgreSQL as on
//! SQLite), so the dedupe check has one index left to use.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0035_message_ref_partial"
    }
}

#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Each statement is valid on PostgreSQL and SQLite.
        let db = m.get_connection();
        for sql in [
            "DROP INDEX IF EXISTS ix_message_inbox_ref",
            "CREATE INDEX IF NOT EXISTS ix_message_inbox_ref ON messages (inbox_id, message_ref) \
             WHERE message_ref IS NOT NULL",
        ] {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        for sql in [
            "DROP INDEX IF EXISTS ix_message_inbox_ref",
            "CREATE INDEX IF NOT EXISTS ix_message_inbox_ref ON messages (inbox_id, message_ref)",
        ] {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }
}
