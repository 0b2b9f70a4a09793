//! Reports for supervisors and admins: response and resolution times, CSAT and volume over a
//! range, grouped by day (`overview`), agent, team, inbox, channel or label, as JSON or CSV. The
//! figures' definitions are in `docs/REPORTS.md`.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use futures::StreamExt;
use kefu_normalizer::StoreError;
use kefu_normalizer::access::Visibility;
use kefu_normalizer::reports::export::{EVENTS_CSV_HEADER, events_csv};
use kefu_normalizer::reports::{Clock, Grouping, MetricKind, Report, ReportFilter, ReportRange};
use sea_orm::{ActiveEnum, Iterable};
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
    let range = range(p.from.as_deref(), p.to.as_deref(), p.tz.as_deref())?;
    let filter = filter(&st, &me, p.inbox_id, p.channel, p.team_id, p.agent_id).await?;
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

/// `from`, `to` and `tz` as a range, or a 400 naming the parameter.
fn range(from: Option<&str>, to: Option<&str>, tz: Option<&str>) -> ApiResult<ReportRange> {
    ReportRange::parse(from, to, tz, Utc::now()).map_err(|e| {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.to_string()).with_field(e.field())
    })
}

/// The filters asked for, within the inboxes the caller may report on: admins every inbox,
/// supervisors the inboxes they (or their teams) belong to.
async fn filter(
    st: &AppState,
    me: &Authed,
    inbox_id: Option<i64>,
    channel: Option<String>,
    team_id: Option<i64>,
    agent_id: Option<i64>,
) -> ApiResult<ReportFilter> {
    let inboxes = match me.visibility(st).await? {
        Visibility::All => None,
        Visibility::Member { inboxes, .. } => Some(inboxes.into_iter().collect()),
    };
    Ok(ReportFilter {
        inbox_id,
        channel: channel.filter(|c| !c.is_empty()),
        team_id,
        agent_id,
        inboxes,
    })
}

/// Which metric events to export.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EventParams {
    /// As for reports: RFC 3339, or a date (from its start in `tz`). Default: 7 days before
    /// `to`.
    pub from: Option<String>,
    /// As for reports: RFC 3339 (exclusive), or a date (inclusive). Default: now.
    pub to: Option<String>,
    /// IANA time zone the dates are read in. Default: `UTC`.
    pub tz: Option<String>,
    /// Only this inbox.
    pub inbox_id: Option<i64>,
    /// Only this channel type.
    pub channel: Option<String>,
    /// Only this team.
    pub team_id: Option<i64>,
    /// Only this agent.
    pub agent_id: Option<i64>,
    /// Only this kind: `opened`, `first_response`, `reply`, `resolution`, `reopen`,
    /// `transfer`, `queue_wait` or `csat`.
    pub kind: Option<String>,
}

/// Events per database read while exporting.
const EXPORT_PAGE: u64 = 5000;

/// The metric events the reports count, as CSV (`text/csv`), one line per fact in time order:
/// `id,kind,at,conversation_id,inbox_id,channel,team_id,agent_id,actor,wall_ms,business_ms,
/// rating,labels`. Durations are milliseconds, `at` is UTC. Streamed, so a year of events
/// needs no more memory than a page. Supervisors get their inboxes' events.
#[utoipa::path(get, path = "/api/v1/reports/events", tag = "reports",
    params(EventParams),
    responses(
        (status = 200, content_type = "text/csv", body = String, description = "The events as CSV, with a header line"),
        (status = 400, body = ErrorBody, description = "`invalid_query`: a bad range, time zone, kind or parameter"),
        (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn events(
    State(st): State<AppState>,
    me: Authed,
    ApiQuery(p): ApiQuery<EventParams>,
) -> ApiResult<Response> {
    me.require(Role::Supervisor)?;
    let range = range(p.from.as_deref(), p.to.as_deref(), p.tz.as_deref())?;
    let kind = match p.kind.as_deref().filter(|k| !k.is_empty()) {
        None => None,
        Some(k) => Some(MetricKind::try_from_value(&k.to_owned()).map_err(|_| {
            let all: Vec<String> = MetricKind::iter().map(|k| k.to_value()).collect();
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                format!("unknown kind {k:?}: one of {}", all.join(", ")),
            )
            .with_field("kind")
        })?),
    };
    let filter = filter(&st, &me, p.inbox_id, p.channel, p.team_id, p.agent_id).await?;
    let name = format!(
        "attachment; filename=\"kefu-events-{}-{}.csv\"",
        range.day_of(range.from),
        range.day_of(range.to - chrono::Duration::milliseconds(1)),
    );
    let header = futures::stream::once(async { Ok(EVENTS_CSV_HEADER.to_owned()) });
    // `None` once the last page was read.
    let pages = futures::stream::try_unfold(Some(None), move |after| {
        let (reports, range, filter) = (st.reports.clone(), range, filter.clone());
        async move {
            let Some(after) = after else { return Ok(None) };
            let rows = reports
                .events_page(&range, &filter, kind, after, EXPORT_PAGE)
                .await
                .inspect_err(|e| tracing::error!(error = %e, "Exporting metric events failed."))?;
            let next = match rows.last() {
                Some(r) if rows.len() as u64 == EXPORT_PAGE => Some(Some((r.at, r.id))),
                _ => None,
            };
            Ok::<_, StoreError>(
                (!rows.is_empty() || next.is_some()).then(|| (events_csv(&rows), next)),
            )
        }
    });
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, name),
        ],
        Body::from_stream(header.chain(pages)),
    )
        .into_response())
}
