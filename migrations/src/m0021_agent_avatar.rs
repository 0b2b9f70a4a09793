//! Agent avatars (issue 20, the widget header shows who helps): `agents.avatar_url`, the
//! download path of an image the agent uploaded (`/files/<id>/<token>`), or `NULL` for the
//! initial. Kept as the path so that every view of an agent (console lists, the widget's
//! header) shows it without another query.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0021_agent_avatar"
    }
}

#[derive(DeriveIden)]
enum Agents {
    Table,
    AvatarUrl,
}

#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Agents::Table)
                .add_column(ColumnDef::new(Agents::AvatarUrl).string().null())
                .take(),
        )
        .await
    }
}
