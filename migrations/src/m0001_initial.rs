//! The conversation model: agents and teams, inboxes, contacts and their identities,
//! conversations, messages, API tokens, the events outbox and per-inbox channel state.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use self::idens::*;

mod idens;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0001_initial"
    }
}

fn id_col<T: IntoIden>(c: T) -> ColumnDef {
    big_integer(c).auto_increment().primary_key().take()
}

fn ts<T: IntoIden>(c: T) -> ColumnDef {
    timestamp_with_time_zone(c)
}

fn ts_null<T: IntoIden>(c: T) -> ColumnDef {
    timestamp_with_time_zone_null(c)
}

fn fk(
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Cascade)
        .take()
}

#[async_trait::async_trait]
#[allow(elided_lifetimes_in_paths)]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Agents::Table)
                .col(id_col(Agents::Id))
                .col(string_uniq(Agents::Email))
                .col(string(Agents::Name))
                .col(string(Agents::PasswordHash))
                .col(string(Agents::Role))
                .col(integer(Agents::MaxConcurrent))
                .col(string(Agents::Status))
                .col(ts(Agents::StatusChangedAt))
                .col(ts_null(Agents::LastAssignedAt))
                .col(ts_null(Agents::DeletedAt))
                .col(ts(Agents::CreatedAt))
                .col(ts(Agents::UpdatedAt))
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(AgentSkills::Table)
                .col(big_integer(AgentSkills::AgentId))
                .col(string(AgentSkills::Skill))
                .col(small_integer(AgentSkills::Level))
                .primary_key(
                    Index::create()
                        .col(AgentSkills::AgentId)
                        .col(AgentSkills::Skill),
                )
                .foreign_key(&mut fk(
                    (AgentSkills::Table, AgentSkills::AgentId),
                    (Agents::Table, Agents::Id),
                ))
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Teams::Table)
                .col(id_col(Teams::Id))
                .col(string_uniq(Teams::Name))
                .col(ts(Teams::CreatedAt))
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(TeamMembers::Table)
                .col(big_integer(TeamMembers::TeamId))
                .col(big_integer(TeamMembers::AgentId))
                .primary_key(
                    Index::create()
                        .col(TeamMembers::TeamId)
                        .col(TeamMembers::AgentId),
                )
                .foreign_key(&mut fk(
                    (TeamMembers::Table, TeamMembers::TeamId),
                    (Teams::Table, Teams::Id),
                ))
                .foreign_key(&mut fk(
                    (TeamMembers::Table, TeamMembers::AgentId),
                    (Agents::Table, Agents::Id),
                ))
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ApiTokens::Table)
                .col(id_col(ApiTokens::Id))
                .col(big_integer(ApiTokens::AgentId))
                .col(string(ApiTokens::Name))
                .col(string_uniq(ApiTokens::TokenHash))
                .col(ts(ApiTokens::CreatedAt))
                .col(ts_null(ApiTokens::LastUsedAt))
                .foreign_key(&mut fk(
                    (ApiTokens::Table, ApiTokens::AgentId),
                    (Agents::Table, Agents::Id),
                ))
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Inboxes::Table)
                .col(id_col(Inboxes::Id))
                .col(string(Inboxes::Name))
                .col(string(Inboxes::ChannelType))
                .col(json(Inboxes::Settings))
                .col(text_null(Inboxes::SecretsCiphertext))
                .col(string_uniq(Inboxes::PublicToken))
                .col(json(Inboxes::Routing))
                .col(ts_null(Inboxes::DeletedAt))
                .col(ts(Inboxes::CreatedAt))
                .col(ts(Inboxes::UpdatedAt))
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Contacts::Table)
                .col(id_col(Contacts::Id))
                .col(string_null(Contacts::Name))
                .col(string_null(Contacts::Email))
                .col(string_null(Contacts::Phone))
                .col(json(Contacts::Attributes))
                .col(big_integer_null(Contacts::MergedIntoId))
                .col(ts(Contacts::CreatedAt))
                .col(ts(Contacts::UpdatedAt))
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ContactIdentities::Table)
                .col(id_col(ContactIdentities::Id))
                .col(big_integer(ContactIdentities::ContactId))
                .col(big_integer(ContactIdentities::InboxId))
                .col(string(ContactIdentities::ExternalId))
                .col(string_null(ContactIdentities::DisplayName))
                .col(ts(ContactIdentities::CreatedAt))
                .foreign_key(&mut fk(
                    (ContactIdentities::Table, ContactIdentities::ContactId),
                    (Contacts::Table, Contacts::Id),
                ))
                .foreign_key(&mut fk(
                    (ContactIdentities::Table, ContactIdentities::InboxId),
                    (Inboxes::Table, Inboxes::Id),
                ))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_identity_inbox_external")
                .table(ContactIdentities::Table)
                .col(ContactIdentities::InboxId)
                .col(ContactIdentities::ExternalId)
                .unique()
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_identity_contact")
                .table(ContactIdentities::Table)
                .col(ContactIdentities::ContactId)
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Conversations::Table)
                .col(id_col(Conversations::Id))
                .col(big_integer(Conversations::InboxId))
                .col(big_integer(Conversations::ContactId))
                .col(big_integer(Conversations::IdentityId))
                .col(string(Conversations::Status))
                .col(integer(Conversations::Priority))
                .col(json(Conversations::Skills))
                .col(big_integer_null(Conversations::AssigneeId))
                .col(big_integer_null(Conversations::TeamId))
                .col(big_integer(Conversations::LastSeq))
                .col(string_null(Conversations::Subject))
                .col(string_uniq(Conversations::Token))
                .col(ts(Conversations::CreatedAt))
                .col(ts(Conversations::UpdatedAt))
                .col(ts(Conversations::LastMessageAt))
                .col(ts_null(Conversations::LastInboundAt))
                .col(ts_null(Conversations::QueuedAt))
                .col(ts_null(Conversations::ResolvedAt))
                .foreign_key(&mut fk(
                    (Conversations::Table, Conversations::InboxId),
                    (Inboxes::Table, Inboxes::Id),
                ))
                .foreign_key(&mut fk(
                    (Conversations::Table, Conversations::ContactId),
                    (Contacts::Table, Contacts::Id),
                ))
                .take(),
        )
        .await?;
        for (name, cols) in [
            (
                "ix_conv_identity_status",
                vec![Conversations::IdentityId, Conversations::Status],
            ),
            (
                "ix_conv_status_id",
                vec![Conversations::Status, Conversations::Id],
            ),
            (
                "ix_conv_assignee_status",
                vec![Conversations::AssigneeId, Conversations::Status],
            ),
            ("ix_conv_contact", vec![Conversations::ContactId]),
        ] {
            let mut idx = Index::create()
                .name(name)
                .table(Conversations::Table)
                .take();
            for c in cols {
                idx.col(c);
            }
            m.create_index(idx).await?;
        }

        m.create_table(
            Table::create()
                .table(Messages::Table)
                .col(id_col(Messages::Id))
                .col(big_integer(Messages::ConversationId))
                .col(big_integer(Messages::InboxId))
                .col(big_integer(Messages::Seq))
                .col(string(Messages::Direction))
                .col(boolean(Messages::Private))
                .col(string(Messages::SenderType))
                .col(big_integer_null(Messages::SenderId))
                .col(string_null(Messages::SenderName))
                .col(text(Messages::Text))
                .col(json(Messages::Content))
                .col(string_null(Messages::DedupeKey))
                .col(string_null(Messages::MessageRef))
                .col(string(Messages::DeliveryStatus))
                .col(text_null(Messages::DeliveryError))
                .col(string_null(Messages::ProviderRef))
                .col(ts_null(Messages::SentAt))
                .col(ts(Messages::CreatedAt))
                .foreign_key(&mut fk(
                    (Messages::Table, Messages::ConversationId),
                    (Conversations::Table, Conversations::Id),
                ))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_message_conv_seq")
                .table(Messages::Table)
                .col(Messages::ConversationId)
                .col(Messages::Seq)
                .unique()
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_message_inbox_dedupe")
                .table(Messages::Table)
                .col(Messages::InboxId)
                .col(Messages::DedupeKey)
                .unique()
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_message_inbox_ref")
                .table(Messages::Table)
                .col(Messages::InboxId)
                .col(Messages::MessageRef)
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(OutboxEvents::Table)
                .col(id_col(OutboxEvents::Id))
                .col(string(OutboxEvents::EventType))
                .col(big_integer_null(OutboxEvents::ConversationId))
                .col(json(OutboxEvents::Payload))
                .col(ts(OutboxEvents::CreatedAt))
                .col(ts_null(OutboxEvents::RelayedAt))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_outbox_relayed_id")
                .table(OutboxEvents::Table)
                .col(OutboxEvents::RelayedAt)
                .col(OutboxEvents::Id)
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ChannelState::Table)
                .col(big_integer(ChannelState::InboxId))
                .col(string(ChannelState::Key))
                .col(text(ChannelState::Value))
                .col(ts(ChannelState::UpdatedAt))
                .primary_key(
                    Index::create()
                        .col(ChannelState::InboxId)
                        .col(ChannelState::Key),
                )
                .foreign_key(&mut fk(
                    (ChannelState::Table, ChannelState::InboxId),
                    (Inboxes::Table, Inboxes::Id),
                ))
                .take(),
        )
        .await?;
        Ok(())
    }
}
