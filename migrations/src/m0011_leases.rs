//! Leases (issue 19): singleton work across nodes. A row names a piece of work that must run
//! on one node at a time (an inbox's poller, the assigner, the housekeeping), the node holding
//! it, and when the lease runs out unless renewed (milliseconds since the Unix epoch, by the
//! database's clock). Only PostgreSQL deployments use it: SQLite has one process.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0011_leases"
    }
}

#[derive(DeriveIden)]
enum Leases {
    Table,
    Name,
    Holder,
    ExpiresMs,
}

#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Leases::Table)
                .col(string(Leases::Name).primary_key())
                .col(string(Leases::Holder))
                .col(big_integer(Leases::ExpiresMs))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_leases_holder")
                .table(Leases::Table)
                .col(Leases::Holder)
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Leases::Table).take())
            .await
    }
}
