//! Labels and read markers (issue 20):
//!
//! - `labels`: named, coloured tags an organisation defines once; `conversation_labels` and
//!   `contact_labels` attach them (a row per pair; deleting a label deletes its rows).
//! - `conversation_reads`: how far each agent has read each conversation (`last_read_seq`),
//!   so the list can show an unread count per agent.
//! - Indexes behind the conversation list's sorts and filters: last activity, waiting time,
//!   priority and team, each with `id` as the tie-breaker the keyset cursor uses.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0009_labels"
    }
}

#[derive(DeriveIden)]
enum Labels {
    Table,
    Id,
    Name,
    Color,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ConversationLabels {
    Table,
    ConversationId,
    LabelId,
}

#[derive(DeriveIden)]
enum ContactLabels {
    Table,
    ContactId,
    LabelId,
}

#[derive(DeriveIden)]
enum ConversationReads {
    Table,
    AgentId,
    ConversationId,
    LastReadSeq,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Conversations {
    Table,
    Id,
    LastMessageAt,
    LastInboundAt,
    Priority,
    TeamId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Contacts {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Agents {
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
                .table(Labels::Table)
                .col(big_integer(Labels::Id).auto_increment().primary_key())
                .col(string_uniq(Labels::Name))
                .col(string(Labels::Color))
                .col(timestamp_with_time_zone(Labels::CreatedAt))
                .col(timestamp_with_time_zone(Labels::UpdatedAt))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ConversationLabels::Table)
                .col(big_integer(ConversationLabels::ConversationId))
                .col(big_integer(ConversationLabels::LabelId))
                .primary_key(
                    Index::create()
                        .col(ConversationLabels::ConversationId)
                        .col(ConversationLabels::LabelId),
                )
                .foreign_key(&mut cascade(
                    (
                        ConversationLabels::Table,
                        ConversationLabels::ConversationId,
                    ),
                    (Conversations::Table, Conversations::Id),
                ))
                .foreign_key(&mut cascade(
                    (ConversationLabels::Table, ConversationLabels::LabelId),
                    (Labels::Table, Labels::Id),
                ))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_conversation_labels_label")
                .table(ConversationLabels::Table)
                .col(ConversationLabels::LabelId)
                .col(ConversationLabels::ConversationId)
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ContactLabels::Table)
                .col(big_integer(ContactLabels::ContactId))
                .col(big_integer(ContactLabels::LabelId))
                .primary_key(
                    Index::create()
                        .col(ContactLabels::ContactId)
                        .col(ContactLabels::LabelId),
                )
                .foreign_key(&mut cascade(
                    (ContactLabels::Table, ContactLabels::ContactId),
                    (Contacts::Table, Contacts::Id),
                ))
                .foreign_key(&mut cascade(
                    (ContactLabels::Table, ContactLabels::LabelId),
                    (Labels::Table, Labels::Id),
                ))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_contact_labels_label")
                .table(ContactLabels::Table)
                .col(ContactLabels::LabelId)
                .col(ContactLabels::ContactId)
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ConversationReads::Table)
                .col(big_integer(ConversationReads::AgentId))
                .col(big_integer(ConversationReads::ConversationId))
                .col(big_integer(ConversationReads::LastReadSeq))
                .col(timestamp_with_time_zone(ConversationReads::UpdatedAt))
                .primary_key(
                    Index::create()
                        .col(ConversationReads::AgentId)
                        .col(ConversationReads::ConversationId),
                )
                .foreign_key(&mut cascade(
                    (ConversationReads::Table, ConversationReads::AgentId),
                    (Agents::Table, Agents::Id),
                ))
                .foreign_key(&mut cascade(
                    (ConversationReads::Table, ConversationReads::ConversationId),
                    (Conversations::Table, Conversations::Id),
                ))
                .take(),
        )
        .await?;
        for (name, col) in [
            ("ix_conv_last_message", Conversations::LastMessageAt),
            ("ix_conv_last_inbound", Conversations::LastInboundAt),
            ("ix_conv_priority", Conversations::Priority),
            ("ix_conv_team", Conversations::TeamId),
            ("ix_conv_created", Conversations::CreatedAt),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(Conversations::Table)
                    .col(col)
                    .col(Conversations::Id)
                    .take(),
            )
            .await?;
        }
        Ok(())
    }
}
