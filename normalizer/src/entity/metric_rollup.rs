//! The `metric_rollups` table: `metric_events` summed by UTC hour and day (see migration m0027
//! and [`crate::reports::rollup`]).

use sea_orm::entity::prelude::*;

/// One row of `metric_rollups`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "metric_rollups")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// 0: the inbox's facts whoever handled them; 1: split by team and agent; 2: by label.
    pub scope: i16,
    /// The period's length in hours: 1 or 24.
    pub grain: i16,
    /// The period's first instant (a whole UTC hour or day).
    pub period: DateTimeUtc,
    pub inbox_id: i64,
    pub channel: String,
    /// The team, `0` for none (and always `0` in scope 0).
    pub team_id: i64,
    /// The agent, `0` for none (and always `0` in scope 0).
    pub agent_id: i64,
    /// The label (scope 2), `0` in the other scopes.
    pub label_id: i64,
    /// Conversations opened.
    pub opened: i64,
    /// The conversations replied in (scope 1), a roaring bitmap (see `reports::histogram`).
    pub replied: Option<String>,
    /// First response times in wall time, a histogram (see `reports::histogram`).
    pub first_wall: Option<String>,
    /// First response times in business time; `None`: the same as wall time.
    pub first_business: Option<String>,
    /// Resolution times in wall time.
    pub resolution_wall: Option<String>,
    /// Resolution times in business time; `None`: the same as wall time.
    pub resolution_business: Option<String>,
    /// Ratings given.
    pub csat_responses: i64,
    /// Their sum.
    pub csat_sum: i64,
}

/// No declared relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
