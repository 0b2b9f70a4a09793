//! The tables and columns `m0001_initial` creates, as sea-query identifiers.

use sea_orm_migration::prelude::*;

#[derive(DeriveIden)]
pub(super) enum Agents {
    Table,
    Id,
    Email,
    Name,
    PasswordHash,
    Role,
    MaxConcurrent,
    Status,
    StatusChangedAt,
    LastAssignedAt,
    DeletedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub(super) enum AgentSkills {
    Table,
    AgentId,
    Skill,
    Level,
}

#[derive(DeriveIden)]
pub(super) enum Teams {
    Table,
    Id,
    Name,
    CreatedAt,
}

#[derive(DeriveIden)]
pub(super) enum TeamMembers {
    Table,
    TeamId,
    AgentId,
}

#[derive(DeriveIden)]
pub(super) enum ApiTokens {
    Table,
    Id,
    AgentId,
    Name,
    TokenHash,
    CreatedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
pub(super) enum Inboxes {
    Table,
    Id,
    Name,
    ChannelType,
    Settings,
    SecretsCiphertext,
    PublicToken,
    Routing,
    DeletedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub(super) enum Contacts {
    Table,
    Id,
    Name,
    Email,
    Phone,
    Attributes,
    MergedIntoId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub(super) enum ContactIdentities {
    Table,
    Id,
    ContactId,
    InboxId,
    ExternalId,
    DisplayName,
    CreatedAt,
}

#[derive(DeriveIden)]
pub(super) enum Conversations {
    Table,
    Id,
    InboxId,
    ContactId,
    IdentityId,
    Status,
    Priority,
    Skills,
    AssigneeId,
    TeamId,
    LastSeq,
    Subject,
    Token,
    CreatedAt,
    UpdatedAt,
    LastMessageAt,
    LastInboundAt,
    QueuedAt,
    ResolvedAt,
}

#[derive(DeriveIden)]
pub(super) enum Messages {
    Table,
    Id,
    ConversationId,
    InboxId,
    Seq,
    Direction,
    Private,
    SenderType,
    SenderId,
    SenderName,
    Text,
    Content,
    DedupeKey,
    MessageRef,
    DeliveryStatus,
    DeliveryError,
    ProviderRef,
    SentAt,
    CreatedAt,
}

#[derive(DeriveIden)]
pub(super) enum OutboxEvents {
    Table,
    Id,
    EventType,
    ConversationId,
    Payload,
    CreatedAt,
    RelayedAt,
}

#[derive(DeriveIden)]
pub(super) enum ChannelState {
    Table,
    InboxId,
    Key,
    Value,
    UpdatedAt,
}
