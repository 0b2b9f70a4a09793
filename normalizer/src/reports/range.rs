//! The range a report covers, as the API takes it: `from` and `to` as RFC 3339 instants or as
//! dates (`YYYY-MM-DD`, whole days in the report's time zone, `to` inclusive), and `tz` an
//! IANA zone name (default UTC) that also decides which day a fact falls on.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

/// The longest range one report covers.
pub const MAX_DAYS: i64 = 366;

/// What a report without `from` covers, ending at `to`.
pub const DEFAULT_DAYS: i64 = 7;

/// A checked range: `from` inclusive, `to` exclusive, and the zone days are counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportRange {
    /// The first instant counted.
    pub from: DateTime<Utc>,
    /// The first instant no longer counted.
    pub to: DateTime<Utc>,
    /// The zone dates are read and days are bucketed in.
    pub tz: Tz,
}

/// Why a range was refused; the message names the parameter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    /// `tz` is not an IANA time zone name.
    #[error("tz must be an IANA time zone name such as Asia/Shanghai, not {0:?}")]
    TimeZone(String),
    /// `from` or `to` is neither an RFC 3339 instant nor a date.
    #[error("{0} must be an RFC 3339 time (2026-03-01T09:00:00+08:00) or a date (2026-03-01)")]
    Format(&'static str),
    /// `from` is not before `to`.
    #[error("from must be before to")]
    Empty,
    /// The range is longer than [`MAX_DAYS`].
    #[error("a report covers at most {MAX_DAYS} days")]
    TooLong,
}

impl RangeError {
    /// The query parameter the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            Self::TimeZone(_) => "tz",
            Self::Format(f) => f,
            Self::Empty | Self::TooLong => "from",
        }
    }
}

impl ReportRange {
    /// Parses the API's `from`, `to` and `tz`; `to` defaults to `now`, `from` to
    /// [`DEFAULT_DAYS`] before `to`.
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        tz: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Self, RangeError> {
        let tz: Tz = match tz.map(str::trim).filter(|s| !s.is_empty()) {
            None => Tz::UTC,
            Some(name) => name
                .parse()
                .map_err(|_| RangeError::TimeZone(name.to_owned()))?,
        };
        let to = match to {
            None => now,
            Some(s) => instant(s, tz, true).ok_or(RangeError::Format("to"))?,
        };
        let from = match from {
            None => to - Duration::days(DEFAULT_DAYS),
            Some(s) => instant(s, tz, false).ok_or(RangeError::Format("from"))?,
        };
        if from >= to {
            return Err(RangeError::Empty);
        }
        if to - from > Duration::days(MAX_DAYS) {
            return Err(RangeError::TooLong);
        }
        Ok(Self { from, to, tz })
    }

    /// The local date `at` falls on.
    pub fn day_of(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.tz).date_naive()
    }
}

/// An RFC 3339 instant, or the start of a date in `tz` (of the day after, for an inclusive
/// end).
fn instant(s: &str, tz: Tz, end: bool) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    let date = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    let date = if end { date.succ_opt()? } else { date };
    start_of(date, tz)
}

/// The first instant of `date` in `tz` (later than midnight where the day starts with a gap).
fn start_of(date: NaiveDate, tz: Tz) -> Option<DateTime<Utc>> {
    (0..=3).find_map(|h| {
        tz.from_local_datetime(&date.and_hms_opt(h, 0, 0)?)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("a valid time")
            .with_timezone(&Utc)
    }

    #[test]
    fn dates_are_whole_days_in_the_zone_and_to_is_inclusive() {
        let now = at("2026-03-10T00:00:00Z");
        let r = ReportRange::parse(
            Some("2026-03-01"),
            Some("2026-03-01"),
            Some("Asia/Shanghai"),
            now,
        )
        .expect("valid");
        assert_eq!(r.from, at("2026-02-28T16:00:00Z"));
        assert_eq!(r.to, at("2026-03-01T16:00:00Z"));
        assert_eq!(
            r.day_of(at("2026-02-28T16:30:00Z")),
            NaiveDate::from_ymd_opt(2026, 3, 1).expect("a date")
        );
    }

    #[test]
    fn instants_and_defaults() {
        let now = at("2026-03-10T00:00:00Z");
        let r = ReportRange::parse(None, None, None, now).expect("valid");
        assert_eq!(
            (r.from, r.to, r.tz),
            (at("2026-03-03T00:00:00Z"), now, Tz::UTC)
        );
        let r =
            ReportRange::parse(Some("2026-03-01T09:00:00+08:00"), None, None, now).expect("valid");
        assert_eq!(r.from, at("2026-03-01T01:00:00Z"));
    }

    #[test]
    fn refusals_name_their_parameter() {
        let now = at("2026-03-10T00:00:00Z");
        let cases = [
            (
                Some("2026-03-02"),
                Some("2026-03-01"),
                None,
                "from",
                RangeError::Empty,
            ),
            (
                Some("yesterday"),
                None,
                None,
                "from",
                RangeError::Format("from"),
            ),
            (
                None,
                Some("2026-13-01"),
                None,
                "to",
                RangeError::Format("to"),
            ),
            (
                None,
                None,
                Some("Mars/Olympus"),
                "tz",
                RangeError::TimeZone("Mars/Olympus".into()),
            ),
            (
                Some("2024-01-01"),
                Some("2026-01-01"),
                None,
                "from",
                RangeError::TooLong,
            ),
        ];
        for (from, to, tz, field, want) in cases {
            let e = ReportRange::parse(from, to, tz, now).expect_err("refused");
            assert_eq!((e.field(), &e), (field, &want));
        }
    }
}
