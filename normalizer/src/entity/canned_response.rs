//! The `canned_responses` table.

use sea_orm::entity::prelude::*;

/// One row of `canned_responses`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "canned_responses")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Who may use and manage it.
    pub scope: CannedScope,
    /// The team of a `team` response.
    pub team_id: Option<i64>,
    /// The agent of a `personal` response.
    pub owner_id: Option<i64>,
    /// The scope as one value (`global`, `team:7`, `agent:3`): a shortcut is unique within it.
    pub scope_key: String,
    /// What the agent types after `/`.
    pub shortcut: String,
    /// The text, with `{{variable | fallback}}` placeholders.
    #[sea_orm(column_type = "Text")]
    pub content: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// No declared relations: joins are written where they are needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Whose a canned response is, stored in `canned_responses.scope`.
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
#[serde(rename_all = "lowercase")]
pub enum CannedScope {
    /// One agent's own; only they see and manage it.
    #[sea_orm(string_value = "personal")]
    Personal,
    /// A team's: its members see it, its supervisors and admins manage it.
    #[sea_orm(string_value = "team")]
    Team,
    /// Everyone's; admins manage it.
    #[sea_orm(string_value = "global")]
    Global,
}
