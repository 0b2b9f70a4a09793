//! Inbox access (issue 17): which agents and teams belong to an inbox, and how far agents may
//! reach into conversations assigned to someone else.
//!
//! - `inbox_agents` and `inbox_teams`: an agent belongs to an inbox directly or through one of
//!   its teams. Deleting the agent, team or inbox row deletes the membership.
//! - `inboxes.others_access`: `none` (the default: agents see the queue and their own
//!   conversations), `read` (also others', read-only) or `reply` (also others', fully).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0010_inbox_members"
    }
}

#[derive(DeriveIden)]
enum InboxAgents {
    Table,
    InboxId,
    AgentId,
}

#[derive(DeriveIden)]
enum InboxTeams {
    Table,
    InboxId,
    TeamId,
}

#[derive(DeriveIden)]
enum Inboxes {
    Table,
    Id,
    OthersAccess,
}

#[derive(DeriveIden)]
enum Agents {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Teams {
    Table,
    Id,
}

fn cascade(
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Cascade)
        .take()
}

#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(InboxAgents::Table)
                .col(big_integer(InboxAgents::InboxId))
                .col(big_integer(InboxAgents::AgentId))
                .primary_key(
                    Index::create()
                        .col(InboxAgents::InboxId)
                        .col(InboxAgents::AgentId),
                )
                .foreign_key(&mut cascade(
                    (InboxAgents::Table, InboxAgents::InboxId),
                    (Inboxes::Table, Inboxes::Id),
                ))
                .foreign_key(&mut cascade(
                    (InboxAgents::Table, InboxAgents::AgentId),
                    (Agents::Table, Agents::Id),
                ))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_inbox_agents_agent")
                .table(InboxAgents::Table)
                .col(InboxAgents::AgentId)
                .col(InboxAgents::InboxId)
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(InboxTeams::Table)
                .col(big_integer(InboxTeams::InboxId))
                .col(big_integer(InboxTeams::TeamId))
                .primary_key(
                    Index::create()
                        .col(InboxTeams::InboxId)
                        .col(InboxTeams::TeamId),
                )
                .foreign_key(&mut cascade(
                    (InboxTeams::Table, InboxTeams::InboxId),
                    (Inboxes::Table, Inboxes::Id),
                ))
                .foreign_key(&mut cascade(
                    (InboxTeams::Table, InboxTeams::TeamId),
                    (Teams::Table, Teams::Id),
                ))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_inbox_teams_team")
                .table(InboxTeams::Table)
                .col(InboxTeams::TeamId)
                .col(InboxTeams::InboxId)
                .take(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Inboxes::Table)
                .add_column(string(Inboxes::OthersAccess).default("none"))
                .take(),
        )
        .await?;
        Ok(())
    }
}
