//! The `conversation_activities` table: the thread's timeline of handovers and status changes.

use sea_orm::entity::prelude::*;

/// One row of `conversation_activities`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "conversation_activities")]
pub struct Model {
    /// Row id; increases with time.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The conversation.
    pub conversation_id: i64,
    /// What happened.
    pub kind: ActivityKind,
    /// The agent who did it; `None` when Kefu (routing) or the customer did.
    pub actor_id: Option<i64>,
    /// The agent the conversation went to (assigned, transferred to an agent).
    pub agent_id: Option<i64>,
    /// The team the conversation went to (transferred to a team).
    pub team_id: Option<i64>,
    /// The rest, by kind: `reason`, `rules`, `from` and `to`, `skills`, `by`.
    #[sea_orm(column_type = "Json")]
    pub details: Json,
    /// When it happened.
    pub created_at: DateTimeUtc,
}

/// No declared relations: joins are written where they are needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// What a timeline line says happened, stored under its snake_case name.
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
pub enum ActivityKind {
    /// An agent got the conversation (`details.reason`: `manual`, `claim`, `auto`, `sticky`).
    #[sea_orm(string_value = "assigned")]
    Assigned,
    /// It was handed to another agent, a team (`team_id`) or a skill set (`details.skills`).
    #[sea_orm(string_value = "transferred")]
    Transferred,
    /// It was resolved.
    #[sea_orm(string_value = "resolved")]
    Resolved,
    /// It was reopened (`details.by`: `agent` or `contact`).
    #[sea_orm(string_value = "reopened")]
    Reopened,
    /// Routing rules matched (`details.rules`: their names, or `#n` for unnamed ones).
    #[sea_orm(string_value = "routed")]
    Routed,
    /// The queue priority changed (`details.from`, `details.to`).
    #[sea_orm(string_value = "priority_changed")]
    PriorityChanged,
    /// It went back to the queue because its agent went offline or was deleted.
    #[sea_orm(string_value = "requeued")]
    Requeued,
    /// The customer was asked to rate it (`details.channel`).
    #[sea_orm(string_value = "csat_requested")]
    CsatRequested,
    /// The rating question was not sent (`details.reason`, e.g. `reply_window_closed`).
    #[sea_orm(string_value = "csat_skipped")]
    CsatSkipped,
    /// The customer rated it (`details.rating` 1–5, `details.comment`).
    #[sea_orm(string_value = "csat_submitted")]
    CsatSubmitted,
    /// The FAQ bot handed it to humans (`details.reason`: `weak_match`, `asked_for_human`,
    /// `too_many_answers`, `negative_sentiment`, `outside_hours`; `details.score` of the best
    /// candidate).
    #[sea_orm(string_value = "bot_handoff")]
    BotHandoff,
    /// An intent was detected in the customer's first message (`details.intent`,
    /// `details.score`).
    #[sea_orm(string_value = "intent_detected")]
    IntentDetected,
}

impl ActivityKind {
    /// Every kind, in documentation order.
    pub const ALL: [ActivityKind; 12] = [
        Self::Assigned,
        Self::Transferred,
        Self::Resolved,
        Self::Reopened,
        Self::Routed,
        Self::PriorityChanged,
        Self::Requeued,
        Self::CsatRequested,
        Self::CsatSkipped,
        Self::CsatSubmitted,
        Self::BotHandoff,
        Self::IntentDetected,
    ];

    /// The stored (and API) name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Assigned => "assigned",
            Self::Transferred => "transferred",
            Self::Resolved => "resolved",
            Self::Reopened => "reopened",
            Self::Routed => "routed",
            Self::PriorityChanged => "priority_changed",
            Self::Requeued => "requeued",
            Self::CsatRequested => "csat_requested",
            Self::CsatSkipped => "csat_skipped",
            Self::CsatSubmitted => "csat_submitted",
            Self::BotHandoff => "bot_handoff",
            Self::IntentDetected => "intent_detected",
        }
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{ActiveEnum, Iterable};

    use super::ActivityKind;

    #[test]
    fn one_name_per_kind_in_the_database_the_api_and_the_console() {
        assert_eq!(ActivityKind::iter().count(), ActivityKind::ALL.len());
        for k in ActivityKind::ALL {
            assert_eq!(serde_json::to_value(k).ok(), Some(k.as_str().into()));
            assert_eq!(k.to_value(), k.as_str());
        }
    }
}
