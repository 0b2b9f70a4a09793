//! The `conversation_summaries` table: what a conversation was about, written when it was
//! resolved or transferred (see [`crate::summaries`]).

use sea_orm::entity::prelude::*;

/// One row of `conversation_summaries`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "conversation_summaries")]
pub struct Model {
    /// Row id; increases with time.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The conversation.
    pub conversation_id: i64,
    /// Why it was written.
    pub occasion: Occasion,
    /// A [`crate::summaries::SummaryBody`]: `{source, facts, sentences}`.
    #[sea_orm(column_type = "Json")]
    pub body: Json,
    /// When it was written (the resolve or transfer).
    pub created_at: DateTimeUtc,
}

/// No declared relations: joins are written where they are needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Why a summary was written, stored under its snake_case name (the timeline line's kind).
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
pub enum Occasion {
    /// The conversation was resolved.
    #[sea_orm(string_value = "resolved")]
    Resolved,
    /// The conversation was transferred.
    #[sea_orm(string_value = "transferred")]
    Transferred,
}
