//! The `metric_events` table: one measured fact per row, the source of reports (see migration
//! m0024 and [`crate::reports`]).

use sea_orm::entity::prelude::*;

/// One row of `metric_events`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "metric_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: MetricKind,
    /// The outbox event the row was derived from; unique with `kind`.
    pub source_event_id: i64,
    pub conversation_id: i64,
    pub inbox_id: i64,
    /// The inbox's channel type (`web_chat`, `email`, `app_push`...).
    pub channel: String,
    pub team_id: Option<i64>,
    /// The agent credited: who replied, who was assigned, who had it when it was resolved.
    pub agent_id: Option<i64>,
    pub actor: Actor,
    /// When the fact happened (the source event's own time).
    pub at: DateTimeUtc,
    /// Elapsed wall time, for durations.
    pub wall_ms: Option<i64>,
    /// Elapsed open time of the inbox's schedule, for durations.
    pub business_ms: Option<i64>,
    /// 1 to 5, for `csat`.
    pub rating: Option<i16>,
    /// The ids of the conversation's labels when the fact was recorded, ascending, separated
    /// by spaces; `None` for none.
    pub labels: Option<String>,
}

/// No declared relations: joins are written where they are needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// What a row measures, stored under its snake_case name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    /// A conversation was opened (its first response cycle starts).
    #[sea_orm(string_value = "opened")]
    Opened,
    /// The first agent reply of a response cycle; the value is the wait since the cycle began.
    #[sea_orm(string_value = "first_response")]
    FirstResponse,
    /// Any agent reply to the customer.
    #[sea_orm(string_value = "reply")]
    Reply,
    /// A resolution; the value is the time since the cycle began.
    #[sea_orm(string_value = "resolution")]
    Resolution,
    /// A reopen (a new response cycle starts).
    #[sea_orm(string_value = "reopen")]
    Reopen,
    /// A transfer started.
    #[sea_orm(string_value = "transfer")]
    Transfer,
    /// An assignment ended a wait in the queue; the value is the wait.
    #[sea_orm(string_value = "queue_wait")]
    QueueWait,
    /// The customer rated the conversation.
    #[sea_orm(string_value = "csat")]
    Csat,
}

/// Who caused a fact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    /// A human agent.
    #[sea_orm(string_value = "human")]
    Human,
    /// An automatic answer.
    #[sea_orm(string_value = "bot")]
    Bot,
    /// Kefu itself (routing, timers) or the customer's channel.
    #[sea_orm(string_value = "system")]
    System,
    /// The customer.
    #[sea_orm(string_value = "contact")]
    Contact,
}
