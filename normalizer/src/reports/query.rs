//! [`Reports`]: the figures of a range, grouped by day, agent, team, inbox or channel, over the
//! `metric_events` rows the range selects. Medians and 90th percentiles are computed here, in
//! Rust, so SQLite and PostgreSQL give the same numbers (see [`super::stats`] for how).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::plan::{self, Acc, Part, Plan};
use super::range::ReportRange;
use super::rollup::{BY_AGENT, BY_INBOX, BY_LABEL, labels_of};
use crate::entity::{agent, inbox, label, team};
use crate::{Db, StoreError};

/// How a report's items are grouped: the endpoint's last path segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Grouping {
    /// One item per day (in the report's time zone).
    Overview,
    /// One item per agent.
    Agents,
    /// One item per team.
    Teams,
    /// One item per inbox.
    Inboxes,
    /// One item per channel type.
    Channels,
    /// One item per label the conversations carried.
    Labels,
}

impl Grouping {
    /// Every grouping, for parsing the path.
    pub const ALL: [Self; 6] = [
        Self::Overview,
        Self::Agents,
        Self::Teams,
        Self::Inboxes,
        Self::Channels,
        Self::Labels,
    ];

    /// The name in the API's path.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Overview => "overview",
            Self::Agents => "agents",
            Self::Teams => "teams",
            Self::Inboxes => "inboxes",
            Self::Channels => "channels",
            Self::Labels => "labels",
        }
    }

    /// The CSV column that names an item's group.
    fn key_column(self) -> &'static str {
        match self {
            Self::Overview => "date",
            Self::Agents => "agent_id",
            Self::Teams => "team_id",
            Self::Inboxes => "inbox_id",
            Self::Channels => "channel",
            Self::Labels => "label_id",
        }
    }
}

/// Which elapsed time durations are measured in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Clock {
    /// Wall time.
    #[default]
    Wall,
    /// Only the open hours of the inbox's schedule (wall time for inboxes without one).
    Business,
}

/// Which rows a report counts; every given filter must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportFilter {
    /// Only this inbox.
    pub inbox_id: Option<i64>,
    /// Only this channel type.
    pub channel: Option<String>,
    /// Only this team.
    pub team_id: Option<i64>,
    /// Only this agent.
    pub agent_id: Option<i64>,
    /// Only these inboxes (those a supervisor belongs to); `None` for every inbox.
    pub inboxes: Option<Vec<i64>>,
}

/// A distribution of durations, in seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, ToSchema)]
pub struct Spread {
    /// The median; `null` with no values.
    pub median: Option<f64>,
    /// The 90th percentile (nearest rank); `null` with no values.
    pub p90: Option<f64>,
}

/// Satisfaction ratings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, ToSchema)]
pub struct CsatFigures {
    /// Ratings given in the range.
    pub responses: u64,
    /// Their mean, 1 to 5, to two decimals; `null` with none.
    pub average: Option<f64>,
}

/// The figures of a group (or of the whole report).
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct Figures {
    /// Conversations opened in the range; for agents and teams (or with an agent or team
    /// filter), the distinct conversations they replied in.
    pub conversations: u64,
    /// First response times of the response cycles answered in the range.
    pub first_response_secs: Spread,
    /// Resolution times of the resolutions in the range.
    pub resolution_secs: Spread,
    /// Ratings given in the range.
    pub csat: CsatFigures,
}

/// One group's figures.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ReportItem {
    /// The day (overview).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
    /// The agent (agents).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<i64>,
    /// The team (teams).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team_id: Option<i64>,
    /// The inbox (inboxes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inbox_id: Option<i64>,
    /// The channel type (channels).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// The label (labels).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label_id: Option<i64>,
    /// The agent's, team's, inbox's or label's name, when it still exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The figures.
    #[serde(flatten)]
    pub figures: Figures,
}

/// A report: the figures of the whole range, and per group in `items`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Report {
    /// The first instant counted.
    pub from: DateTime<Utc>,
    /// The first instant no longer counted.
    pub to: DateTime<Utc>,
    /// The time zone days are counted in.
    pub tz: String,
    /// The figures over everything selected.
    #[serde(flatten)]
    pub totals: Figures,
    /// Per group, ordered by the group's key (days, ids, channel names).
    pub items: Vec<ReportItem>,
}

/// A group's key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Date(NaiveDate),
    Id(i64),
    Channel(String),
}

/// Reads reports.
#[derive(Clone)]
pub struct Reports {
    pub(super) db: Db,
}

impl Reports {
    /// Reports over `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// The report of `range`, grouped by `grouping`, counting the rows `filter` lets through,
    /// with durations on `clock`.
    pub async fn report(
        &self,
        grouping: Grouping,
        range: &ReportRange,
        filter: &ReportFilter,
        clock: Clock,
    ) -> Result<Report, StoreError> {
        // Labels with an agent or team filter are not rolled up (that would be one more
        // split): such a report reads the metric events.
        let plan = if grouping == Grouping::Labels
            && (filter.agent_id.is_some() || filter.team_id.is_some())
        {
            Plan::raw(range)
        } else {
            Plan::new(range, grouping == Grouping::Overview)
        };
        self.report_planned(grouping, range, filter, clock, plan)
            .await
    }

    /// The same report computed from the metric events alone, without the rollups: slower,
    /// the same figures (for checking the rollups).
    pub async fn report_from_events(
        &self,
        grouping: Grouping,
        range: &ReportRange,
        filter: &ReportFilter,
        clock: Clock,
    ) -> Result<Report, StoreError> {
        self.report_planned(grouping, range, filter, clock, Plan::raw(range))
            .await
    }

    async fn report_planned(
        &self,
        grouping: Grouping,
        range: &ReportRange,
        filter: &ReportFilter,
        clock: Clock,
        plan: Plan,
    ) -> Result<Report, StoreError> {
        let by_replies = matches!(grouping, Grouping::Agents | Grouping::Teams)
            || filter.agent_id.is_some()
            || filter.team_id.is_some();
        let mut total = Acc::default();
        let mut groups: BTreeMap<Key, Acc> = BTreeMap::new();
        if grouping == Grouping::Overview {
            let last = range.day_of(range.to - Duration::milliseconds(1));
            let mut day = range.day_of(range.from);
            while day <= last {
                groups.insert(Key::Date(day), Acc::default());
                let Some(next) = day.succ_opt() else { break };
                day = next;
            }
        }
        for r in &plan::raw_rows(self.db.conn(), &plan.raw, filter).await? {
            total.add(r, clock);
            let mut key = |k: Key| groups.entry(k).or_default().add(r, clock);
            match grouping {
                Grouping::Overview => key(Key::Date(range.day_of(r.at))),
                Grouping::Agents => r.agent_id.map(Key::Id).into_iter().for_each(key),
                Grouping::Teams => r.team_id.map(Key::Id).into_iter().for_each(key),
                Grouping::Inboxes => key(Key::Id(r.inbox_id)),
                Grouping::Channels => key(Key::Channel(r.channel.clone())),
                Grouping::Labels => labels_of(&r.labels).map(Key::Id).for_each(key),
            }
        }
        // Agents' and teams' figures (and any with an agent or team filter) need the rows
        // split by agent and team; the others the inboxes' rows, and per label the labels'.
        let scope = if by_replies { BY_AGENT } else { BY_INBOX };
        for row in &plan::rollup_rows(self.db.conn(), &plan, scope, filter).await? {
            let part = Part::of(row, clock, by_replies);
            total.add_part(&part);
            let key = match grouping {
                Grouping::Overview => Some(Key::Date(range.day_of(row.period))),
                Grouping::Agents => (row.agent_id > 0).then_some(Key::Id(row.agent_id)),
                Grouping::Teams => (row.team_id > 0).then_some(Key::Id(row.team_id)),
                Grouping::Inboxes => Some(Key::Id(row.inbox_id)),
                Grouping::Channels => Some(Key::Channel(row.channel.clone())),
                Grouping::Labels => None,
            };
            if let Some(key) = key {
                groups.entry(key).or_default().add_part(&part);
            }
        }
        if grouping == Grouping::Labels {
            for row in &plan::rollup_rows(self.db.conn(), &plan, BY_LABEL, filter).await? {
                let part = Part::of(row, clock, false);
                groups
                    .entry(Key::Id(row.label_id))
                    .or_default()
                    .add_part(&part);
            }
        }
        let ids: Vec<i64> = groups
            .keys()
            .filter_map(|k| match k {
                Key::Id(id) => Some(*id),
                _ => None,
            })
            .collect();
        let names = self.names(grouping, ids).await?;
        let items = groups
            .into_iter()
            .map(|(key, acc)| {
                let mut item = ReportItem {
                    date: None,
                    agent_id: None,
                    team_id: None,
                    inbox_id: None,
                    channel: None,
                    label_id: None,
                    name: None,
                    figures: acc.figures(by_replies),
                };
                match key {
                    Key::Date(d) => item.date = Some(d),
                    Key::Channel(c) => item.channel = Some(c),
                    Key::Id(id) => {
                        item.name = names.get(&id).cloned();
                        match grouping {
                            Grouping::Agents => item.agent_id = Some(id),
                            Grouping::Teams => item.team_id = Some(id),
                            Grouping::Labels => item.label_id = Some(id),
                            _ => item.inbox_id = Some(id),
                        }
                    }
                }
                item
            })
            .collect();
        Ok(Report {
            from: range.from,
            to: range.to,
            tz: range.tz.name().to_owned(),
            totals: total.figures(by_replies),
            items,
        })
    }

    /// The names of the agents, teams or inboxes `ids`.
    async fn names(
        &self,
        grouping: Grouping,
        ids: Vec<i64>,
    ) -> Result<HashMap<i64, String>, StoreError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let conn = self.db.conn();
        let pairs = match grouping {
            Grouping::Agents => {
                id_names::<agent::Entity>(conn, agent::Column::Id, agent::Column::Name, ids).await?
            }
            Grouping::Teams => {
                id_names::<team::Entity>(conn, team::Column::Id, team::Column::Name, ids).await?
            }
            Grouping::Inboxes => {
                id_names::<inbox::Entity>(conn, inbox::Column::Id, inbox::Column::Name, ids).await?
            }
            Grouping::Labels => {
                id_names::<label::Entity>(conn, label::Column::Id, label::Column::Name, ids).await?
            }
            Grouping::Overview | Grouping::Channels => Vec::new(),
        };
        Ok(pairs.into_iter().collect())
    }
}

/// `(id, name)` of the rows of `E` whose `id` column is among `ids`.
async fn id_names<E: EntityTrait>(
    conn: &sea_orm::DatabaseConnection,
    id: E::Column,
    name: E::Column,
    ids: Vec<i64>,
) -> Result<Vec<(i64, String)>, sea_orm::DbErr> {
    E::find()
        .select_only()
        .columns([id, name])
        .filter(id.is_in(ids))
        .into_tuple()
        .all(conn)
        .await
}

impl Report {
    /// The same figures as CSV: a header, one line per item, then a `total` line.
    pub fn to_csv(&self, grouping: Grouping) -> String {
        let mut out = format!(
            "{},name,conversations,first_response_median_secs,first_response_p90_secs,\
             resolution_median_secs,resolution_p90_secs,csat_responses,csat_average\n",
            grouping.key_column()
        );
        let num = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
        let mut line = |key: String, name: &str, f: &Figures| {
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{},{}\n",
                csv_field(&key),
                csv_field(name),
                f.conversations,
                num(f.first_response_secs.median),
                num(f.first_response_secs.p90),
                num(f.resolution_secs.median),
                num(f.resolution_secs.p90),
                f.csat.responses,
                num(f.csat.average),
            ));
        };
        for i in &self.items {
            let key = i
                .date
                .map(|d| d.to_string())
                .or_else(|| {
                    i.agent_id
                        .or(i.team_id)
                        .or(i.inbox_id)
                        .or(i.label_id)
                        .map(|id| id.to_string())
                })
                .or_else(|| i.channel.clone())
                .unwrap_or_default();
            line(key, i.name.as_deref().unwrap_or(""), &i.figures);
        }
        line("total".to_owned(), "", &self.totals);
        out
    }
}

/// One CSV field, quoted when it must be (RFC 4180). A leading `=`, `+`, `-` or `@` is
/// prefixed with `'` so a spreadsheet does not run a name as a formula.
pub(super) fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_fields_are_quoted_and_never_formulas() {
        let cases = [
            ("Alice", "Alice"),
            ("Lee, Ann", "\"Lee, Ann\""),
            ("say \"hi\"", "\"say \"\"hi\"\"\""),
            ("=HYPERLINK(\"x\")", "\"'=HYPERLINK(\"\"x\"\")\""),
            ("-1", "'-1"),
            ("", ""),
        ];
        for (given, want) in cases {
            assert_eq!(csv_field(given), want, "{given}");
        }
    }
}
