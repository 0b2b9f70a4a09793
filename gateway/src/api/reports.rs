//! Reports for supervisors and admins: response and resolution times, CSAT and volume over a
//! range, grouped by day (`overview`), agent, team, inbox, channel or label, as JSON or CSV. The
//! figures' definitions are in `docs/REPORTS.md`.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use kefu_normalizer::access::Visibility;
use kefu_normalizer::reports::{Clock, Grouping, Report, ReportFilter, ReportRange};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::{Authed, Role};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery};
use crate::state::AppState;

/// How a report is rendered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// `application/json` (the default).
    #[default]
    Json,
    /// `text/csv`: the same figures, one line per item and a `total` line.
    Csv,
}

/// A report's range, zone, filters and format.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReportParams {
    /// The first instant counted: RFC 3339, or a date (`2026-03-01`, from its start in `tz`).
    /// Default: 7 days before `to`.
    pub from: Option<String>,
    /// The end: RFC 3339 (exclusive), or a date (inclusive: up to the end of that day in
    /// `tz`). Default: now. At most 366 days after `from`.
    pub to: Option<String>,
    /// IANA time zone (`Asia/Shanghai`) dates and days are read in. Default: `UTC`.
    pub tz: Option<String>,
    /// Only this inbox.
    pub inbox_id: Option<i64>,
    /// Only this channel type (`web_chat`, `email`, `app_push`, `wechat`...).
    pub channel: Option<String>,
    /// Only this team.
    pub team_id: Option<i64>,
    /// Only this agent.
    pub agent_id: Option<i64>,
    /// `wall` (default) or `business`: only the open hours of each inbox's schedule.
    pub clock: Option<Clock>,
    /// `json` (default) or `csv`.
    pub format: Option<Format>,
}

/// A report: the range's figures, and per day, agent, team, inbox, channel or label in
/// `items`.
/// Supervisors and admins; a supervisor's report counts the inboxes they or their teams belong
/// to.
#[utoipa::path(get, path = "/api/v1/reports/{grouping}", tag = "reports",
    params(("grouping" = Grouping, Path, description = "overview (per day), agents, teams, inboxes, channels or labels"), ReportParams),
    responses(
        (status = 200, body = Report, description = "JSON, or with `format=csv` the same figures as `text/csv`"),
        (status = 400, body = ErrorBody, description = "`invalid_query`: a bad range, time zone or parameter"),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn report(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(grouping): ApiPath<Grouping>,
    ApiQuery(p): ApiQuery<ReportParams>,
) -> ApiResult<Response> {
    me.require(Role::Supervisor)?;
    let range = ReportRange::parse(
        p.from.as_deref(),
        p.to.as_deref(),
        p.tz.as_deref(),
        Utc::now(),
    )
    .map_err(|e| {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.to_string()).with_field(e.field())
    })?;
    // Admins see every inbox; supervisors the inboxes they (or their teams) belong to.
    let inboxes = match me.visibility(&st).await? {
        Visibility::All => None,
        Visibility::Member { inboxes, .. } => Some(inboxes.into_iter().collect()),
    };
    let filter = ReportFilter {
        inbox_id: p.inbox_id,
        channel: p.channel.filter(|c| !c.is_empty()),
        team_id: p.team_id,
        agent_id: p.agent_id,
        inboxes,
    };
    let report: Report = st
        .reports
        .report(grouping, &range, &filter, p.clock.unwrap_or_default())
        .await?;
    Ok(match p.format.unwrap_or_default() {
        Format::Json => Json(report).into_response(),
        Format::Csv => {
            let name = format!(
                "attachment; filename=\"kefu-{}-{}-{}.csv\"",
                grouping.as_str(),
                range.day_of(range.from),
                range.day_of(range.to - chrono::Duration::milliseconds(1)),
            );
            (
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                    (header::CONTENT_DISPOSITION, name),
                ],
                report.to_csv(grouping),
            )
                .into_response()
        }
    })
}
