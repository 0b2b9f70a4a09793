//! Reports (issue 22): response and resolution times, CSAT and volume by agent, team, inbox
//! and channel.
//!
//! - [`Metrics`] ([`record`]): the outbox consumer's part. It derives measured facts
//!   (`metric_events` rows: a conversation opened, its first response, every reply, a
//!   resolution, a reopen, a transfer, a queue wait, a rating) from committed events, each row
//!   keyed by the event it came from, so a batch consumed twice never counts twice.
//! - [`Reports`] ([`query`]): the figures over a range, grouped and filtered, with medians
//!   and 90th percentiles computed over the selected rows ([`stats`]).
//! - [`export`]: the metric events themselves as CSV, page by page.
//! - [`range`]: the range and time zone a report is asked for, as the API takes them.
//! - [`rollup`]: the metric events summed by UTC hour and day, maintained with them, so a
//!   report over a year reads few rows; [`plan`] picks the rows a report reads, and
//!   [`histogram`] keeps durations summable (rounded to three significant digits).
//!
//! The definitions the figures follow are published in `docs/REPORTS.md`; in short: a first
//! response is credited to the agent who sent it, a reopen starts a new response cycle (and
//! never inflates the first one), and private notes, bot and system messages are not
//! responses.

pub mod export;
pub mod histogram;
pub mod plan;
pub mod query;
pub mod range;
pub mod record;
pub mod rollup;
pub mod stats;

pub use crate::entity::metric_event::{Actor, MetricKind};
pub use query::{
    Clock, CsatFigures, Figures, Grouping, Report, ReportFilter, ReportItem, Reports, Spread,
};
pub use range::{RangeError, ReportRange};
pub use record::Metrics;
