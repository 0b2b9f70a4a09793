//! The `csat_surveys` table: one satisfaction survey per conversation (see migration m0022).

use sea_orm::entity::prelude::*;

/// One row of `csat_surveys`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "csat_surveys")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub conversation_id: i64,
    pub inbox_id: i64,
    pub contact_id: i64,
    /// The agent the conversation was assigned to when it was resolved.
    pub agent_id: Option<i64>,
    /// The team it belonged to when it was resolved.
    pub team_id: Option<i64>,
    /// The inbox's channel type (`web_chat`, `email`, `wechat`...).
    pub channel: String,
    pub status: SurveyStatus,
    /// Why the question was not sent (`reply_window_closed`), for `skipped` surveys.
    pub skip_reason: Option<String>,
    /// The customer's one-time answer capability.
    pub token: String,
    /// The message that asked, for `requested` surveys.
    pub message_id: Option<i64>,
    /// 1 (very unhappy) to 5 (very happy), once submitted.
    pub rating: Option<i16>,
    pub comment: Option<String>,
    pub requested_at: DateTimeUtc,
    /// The token works until then.
    pub expires_at: DateTimeUtc,
    pub submitted_at: Option<DateTimeUtc>,
}

/// No declared relations: joins are written where they are needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Where a survey stands, stored under its snake_case name.
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
pub enum SurveyStatus {
    /// The question was sent; no answer yet.
    #[sea_orm(string_value = "requested")]
    Requested,
    /// The question could not be sent (`skip_reason` says why).
    #[sea_orm(string_value = "skipped")]
    Skipped,
    /// The customer answered.
    #[sea_orm(string_value = "submitted")]
    Submitted,
}
