//! Failed sign-ins per account (issue 19, several nodes): the account half of the login
//! throttle lives in the database, so that the nodes behind a balancer share one budget of
//! guesses per account instead of one each. The address half (a rate limit per client address)
//! stays in each node's memory.
//!
//! A row is keyed by the SHA-256 of the normalized email typed, known or not, so the table
//! holds no addresses an attacker made up; rows older than an hour are forgotten.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0019_login_failures"
    }
}

#[derive(DeriveIden)]
enum LoginFailures {
    Table,
    Account,
    Failures,
    LastFailedMs,
    LockedUntilMs,
}

#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(LoginFailures::Table)
                .col(string(LoginFailures::Account).primary_key())
                .col(integer(LoginFailures::Failures))
                .col(big_integer(LoginFailures::LastFailedMs))
                .col(big_integer_null(LoginFailures::LockedUntilMs))
                .take(),
        )
        .await
    }
}
