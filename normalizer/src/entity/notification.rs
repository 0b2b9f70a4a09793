//! The `notifications` table: what the console's bell tells one agent.

use sea_orm::entity::prelude::*;

/// One row of `notifications`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    /// Row id; increases with time.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The agent told.
    pub agent_id: i64,
    /// What happened.
    pub kind: NotificationKind,
    /// The conversation it happened in.
    pub conversation_id: i64,
    /// The private note that mentioned the agent.
    pub message_id: Option<i64>,
    /// The agent who did it; `None` when Kefu's routing did.
    pub actor_id: Option<i64>,
    /// When it happened.
    pub created_at: DateTimeUtc,
    /// When the agent read it.
    pub read_at: Option<DateTimeUtc>,
}

/// No declared relations: joins are written where they are needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// What a notification is about, stored under its snake_case name.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// Another agent mentioned them (or a team of theirs) in a private note.
    #[sea_orm(string_value = "mention")]
    Mention,
    /// A conversation was assigned or transferred to them by someone else or by routing.
    #[sea_orm(string_value = "assignment")]
    Assignment,
}
