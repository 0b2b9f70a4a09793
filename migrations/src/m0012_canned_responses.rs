//! Canned responses (issue 20): saved replies an agent inserts by typing `/shortcut` in the
//! composer. Each belongs to one scope — the whole organisation (`global`), a team (`team`,
//! `team_id` set) or one agent (`personal`, `owner_id` set). `scope_key` spells the scope as
//! one value (`global`, `team:7`, `agent:3`) so that a shortcut is unique within its scope on
//! both databases: a unique index over the nullable `team_id` / `owner_id` would not be, since
//! NULLs never collide.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0012_canned_responses"
    }
}

#[derive(DeriveIden)]
enum CannedResponses {
    Table,
    Id,
    Scope,
    TeamId,
    OwnerId,
    ScopeKey,
    Shortcut,
    Content,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Teams {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Agents {
    Table,
    Id,
}

#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(CannedResponses::Table)
                .col(
                    big_integer(CannedResponses::Id)
                        .auto_increment()
                        .primary_key(),
                )
                .col(string(CannedResponses::Scope))
                .col(big_integer_null(CannedResponses::TeamId))
                .col(big_integer_null(CannedResponses::OwnerId))
                .col(string(CannedResponses::ScopeKey))
                .col(string(CannedResponses::Shortcut))
                .col(text(CannedResponses::Content))
                .col(timestamp_with_time_zone(CannedResponses::CreatedAt))
                .col(timestamp_with_time_zone(CannedResponses::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(CannedResponses::Table, CannedResponses::TeamId)
                        .to(Teams::Table, Teams::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(CannedResponses::Table, CannedResponses::OwnerId)
                        .to(Agents::Table, Agents::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_canned_responses_scope_shortcut")
                .table(CannedResponses::Table)
                .col(CannedResponses::ScopeKey)
                .col(CannedResponses::Shortcut)
                .unique()
                .take(),
        )
        .await?;
        for (name, col) in [
            ("ix_canned_responses_team", CannedResponses::TeamId),
            ("ix_canned_responses_owner", CannedResponses::OwnerId),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(CannedResponses::Table)
                    .col(col)
                    .take(),
            )
            .await?;
        }
        Ok(())
    }
}
