//! Accounts for the console (issues 16 and 17):
//!
//! - `sessions`: server-side login sessions. The bearer token is random and stored as its
//!   SHA-256; a session ends when it is idle past `idle_expires_at` (which slides with use),
//!   at `max_expires_at` whatever the use, or when `revoked_at` is set (logout, password
//!   change, deactivation).
//! - `invites`: one-time links where a new agent sets their own password (token hashed, with
//!   an expiry; `used_at` once accepted).
//! - `agents` gains `active` (deactivated agents cannot sign in), `language` and
//!   `notifications` (console preferences).
//! - `api_tokens` gains `expires_at` and `scopes` (comma-separated: `read`, `conversations`,
//!   `admin`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0008_sessions_invites"
    }
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    AgentId,
    TokenHash,
    CreatedAt,
    LastSeenAt,
    IdleExpiresAt,
    MaxExpiresAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Invites {
    Table,
    Id,
    AgentId,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum Agents {
    Table,
    Id,
    Active,
    Language,
    Notifications,
}

#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    ExpiresAt,
    Scopes,
}

fn agent_fk(table: impl IntoIden, col: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, col)
        .to(Agents::Table, Agents::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .take()
}

#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Sessions::Table)
                .col(big_integer(Sessions::Id).auto_increment().primary_key())
                .col(big_integer(Sessions::AgentId))
                .col(string_uniq(Sessions::TokenHash))
                .col(timestamp_with_time_zone(Sessions::CreatedAt))
                .col(timestamp_with_time_zone(Sessions::LastSeenAt))
                .col(timestamp_with_time_zone(Sessions::IdleExpiresAt))
                .col(timestamp_with_time_zone(Sessions::MaxExpiresAt))
                .col(timestamp_with_time_zone_null(Sessions::RevokedAt))
                .foreign_key(&mut agent_fk(Sessions::Table, Sessions::AgentId))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_sessions_agent")
                .table(Sessions::Table)
                .col(Sessions::AgentId)
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Invites::Table)
                .col(big_integer(Invites::Id).auto_increment().primary_key())
                .col(big_integer(Invites::AgentId))
                .col(string_uniq(Invites::TokenHash))
                .col(timestamp_with_time_zone(Invites::CreatedAt))
                .col(timestamp_with_time_zone(Invites::ExpiresAt))
                .col(timestamp_with_time_zone_null(Invites::UsedAt))
                .foreign_key(&mut agent_fk(Invites::Table, Invites::AgentId))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_invites_agent")
                .table(Invites::Table)
                .col(Invites::AgentId)
                .take(),
        )
        .await?;
        // SQLite adds one column per ALTER TABLE.
        let add =
            |table: DynIden, col: ColumnDef| Table::alter().table(table).add_column(col).take();
        m.alter_table(add(
            Agents::Table.into_iden(),
            boolean(Agents::Active).default(true).take(),
        ))
        .await?;
        m.alter_table(add(
            Agents::Table.into_iden(),
            string(Agents::Language).default("en").take(),
        ))
        .await?;
        m.alter_table(add(
            Agents::Table.into_iden(),
            json_null(Agents::Notifications),
        ))
        .await?;
        m.alter_table(add(
            ApiTokens::Table.into_iden(),
            timestamp_with_time_zone_null(ApiTokens::ExpiresAt),
        ))
        .await?;
        m.alter_table(add(
            ApiTokens::Table.into_iden(),
            string(ApiTokens::Scopes)
                .default("read,conversations,admin")
                .take(),
        ))
        .await?;
        Ok(())
    }
}
