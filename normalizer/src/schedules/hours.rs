//! The business-hours calculator: a validated [`Hours`] answers "open now?", "when does it
//! open next?" and "how many open seconds between two instants?". Pure: no clock, no I/O; the
//! caller passes every instant.
//!
//! Each local date of the schedule's zone has a list of opening intervals: none on a holiday,
//! the make-up hours on an extra workday (Monday's, or those of the first weekday after Monday
//! that has hours), otherwise its weekday's. An interval `[start, end)` on a date becomes a
//! span of instants, and every answer is read from those spans, so the three functions always
//! agree, and so do the business-time durations ([`Hours::open_between`]) and their inverses
//! ([`Hours::open_after`], [`Hours::open_before`]). Where a daylight-saving change makes a local time ambiguous or skips it:
//!
//! - a start that occurs twice is the first occurrence, an end that occurs twice the second
//!   (an interval `00:00–01:30` on the night clocks go back lasts 2 h 30 min);
//! - a time skipped by a spring-forward gap is the instant the gap ends (`02:30–05:00` on the
//!   night clocks jump from 02:00 to 03:00 opens at 03:00 and lasts 2 h).

use std::collections::BTreeSet;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How many days [`Hours::next_open`] looks ahead before it answers "never".
pub const MAX_SEARCH_DAYS: i64 = 400;

/// The most intervals one day may have.
pub const MAX_INTERVALS_PER_DAY: usize = 8;

/// The most holidays or extra workdays a schedule may list.
pub const MAX_DATES: usize = 1000;

/// The weekdays as they are spelled in `weekly`, Monday first.
pub const DAY_KEYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// The opening intervals of each weekday, as written: `mon: [["09:00", "12:00"], ["13:00",
/// "18:00"]]`. A day left out is closed. `24:00` may end an interval; an interval never
/// crosses midnight (a night shift is `["22:00", "24:00"]` on one day and `["00:00",
/// "06:00"]` on the next).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Weekly {
    /// Monday.
    pub mon: Vec<[String; 2]>,
    /// Tuesday.
    pub tue: Vec<[String; 2]>,
    /// Wednesday.
    pub wed: Vec<[String; 2]>,
    /// Thursday.
    pub thu: Vec<[String; 2]>,
    /// Friday.
    pub fri: Vec<[String; 2]>,
    /// Saturday.
    pub sat: Vec<[String; 2]>,
    /// Sunday.
    pub sun: Vec<[String; 2]>,
}

impl Weekly {
    fn days(&self) -> [&Vec<[String; 2]>; 7] {
        [
            &self.mon, &self.tue, &self.wed, &self.thu, &self.fri, &self.sat, &self.sun,
        ]
    }
}

/// Why a schedule's definition was refused. The message names the field and the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HoursError {
    /// `time_zone` is not an IANA zone name.
    #[error("time_zone: {0:?} is not an IANA time zone such as \"Asia/Shanghai\"")]
    Zone(String),
    /// A time is not `HH:MM` between `00:00` and `24:00`.
    #[error("weekly.{day}: {value:?} is not a time of day (HH:MM, 00:00 to 24:00)")]
    Time {
        /// The weekday key.
        day: &'static str,
        /// The value as given.
        value: String,
    },
    /// An interval ends before it starts, or is empty, or starts at `24:00`.
    #[error("weekly.{day}: [{start:?}, {end:?}] must start before it ends, on the same day")]
    Reversed {
        /// The weekday key.
        day: &'static str,
        /// The start as given.
        start: String,
        /// The end as given.
        end: String,
    },
    /// Two intervals of one day overlap.
    #[error("weekly.{day}: {first} and {second} overlap")]
    Overlap {
        /// The weekday key.
        day: &'static str,
        /// One interval, `HH:MM-HH:MM`.
        first: String,
        /// The other.
        second: String,
    },
    /// A day has more than [`MAX_INTERVALS_PER_DAY`] intervals.
    #[error("weekly.{0}: at most {MAX_INTERVALS_PER_DAY} intervals a day")]
    TooManyIntervals(&'static str),
    /// A date is not a calendar date `YYYY-MM-DD`.
    #[error("{field}: {value:?} is not a date (YYYY-MM-DD)")]
    Date {
        /// `holidays` or `extra_workdays`.
        field: &'static str,
        /// The value as given.
        value: String,
    },
    /// A list of dates is too long.
    #[error("{0}: at most {MAX_DATES} dates")]
    TooManyDates(&'static str),
    /// A date is both a holiday and an extra workday.
    #[error("{0} is both a holiday and an extra workday")]
    Both(NaiveDate),
    /// Extra workdays are listed but no weekday has hours to lend them.
    #[error("extra_workdays: no weekday has opening hours to work on them")]
    NoMakeUpHours,
}

impl HoursError {
    /// The request field the error is about: `time_zone`, `weekly.mon`, `holidays`, ...
    pub fn field(&self) -> String {
        match self {
            Self::Zone(_) => "time_zone".into(),
            Self::Time { day, .. }
            | Self::Reversed { day, .. }
            | Self::Overlap { day, .. }
            | Self::TooManyIntervals(day) => format!("weekly.{day}"),
            Self::Date { field, .. } | Self::TooManyDates(field) => (*field).into(),
            Self::Both(_) | Self::NoMakeUpHours => "extra_workdays".into(),
        }
    }
}

/// One opening interval in minutes after local midnight, `start < end <= 1440`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Interval {
    start: u16,
    end: u16,
}

/// A validated schedule: its zone, its weekly intervals (sorted, not overlapping), holidays
/// and extra workdays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hours {
    zone: Tz,
    weekly: [Vec<Interval>; 7],
    holidays: BTreeSet<NaiveDate>,
    extra_workdays: BTreeSet<NaiveDate>,
}

impl Hours {
    /// Checks a definition and builds the calculator, or says what is wrong with it.
    pub fn parse(
        time_zone: &str,
        weekly: &Weekly,
        holidays: &[String],
        extra_workdays: &[String],
    ) -> Result<Self, HoursError> {
        let zone: Tz = time_zone
            .trim()
            .parse()
            .map_err(|_| HoursError::Zone(time_zone.to_owned()))?;
        let mut days: [Vec<Interval>; 7] = Default::default();
        for (i, given) in weekly.days().into_iter().enumerate() {
            days[i] = parse_day(DAY_KEYS[i], given)?;
        }
        let holidays = parse_dates("holidays", holidays)?;
        let extra_workdays = parse_dates("extra_workdays", extra_workdays)?;
        if let Some(d) = holidays.intersection(&extra_workdays).next() {
            return Err(HoursError::Both(*d));
        }
        let hours = Self {
            zone,
            weekly: days,
            holidays,
            extra_workdays,
        };
        if !hours.extra_workdays.is_empty() && hours.make_up_hours().is_empty() {
            return Err(HoursError::NoMakeUpHours);
        }
        Ok(hours)
    }

    /// The schedule's zone.
    pub fn zone(&self) -> Tz {
        self.zone
    }

    /// The definition in its stored spelling: times `HH:MM`, intervals sorted, dates sorted.
    pub fn weekly(&self) -> Weekly {
        let spell = |d: &Vec<Interval>| {
            d.iter()
                .map(|i| [spell_time(i.start), spell_time(i.end)])
                .collect()
        };
        Weekly {
            mon: spell(&self.weekly[0]),
            tue: spell(&self.weekly[1]),
            wed: spell(&self.weekly[2]),
            thu: spell(&self.weekly[3]),
            fri: spell(&self.weekly[4]),
            sat: spell(&self.weekly[5]),
            sun: spell(&self.weekly[6]),
        }
    }

    /// The holidays, sorted, as `YYYY-MM-DD`.
    pub fn holidays(&self) -> Vec<String> {
        self.holidays.iter().map(|d| d.to_string()).collect()
    }

    /// The extra workdays, sorted, as `YYYY-MM-DD`.
    pub fn extra_workdays(&self) -> Vec<String> {
        self.extra_workdays.iter().map(|d| d.to_string()).collect()
    }

    /// The hours an extra workday is worked with: Monday's, or when Monday is closed those of
    /// the first weekday after it that has hours. A make-up day (China's 调休, a Saturday or
    /// Sunday worked in exchange for a day off around a holiday) stands in for an ordinary
    /// working day, and the list of dates does not say which, so every one gets the same
    /// ordinary day's hours.
    fn make_up_hours(&self) -> &[Interval] {
        self.weekly
            .iter()
            .find(|d| !d.is_empty())
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The opening intervals of local date `date`: none on a holiday, the make-up hours on an
    /// extra workday, otherwise its weekday's.
    fn hours_on(&self, date: NaiveDate) -> &[Interval] {
        if self.holidays.contains(&date) {
            &[]
        } else if self.extra_workdays.contains(&date) {
            self.make_up_hours()
        } else {
            &self.weekly[date.weekday().num_days_from_monday() as usize]
        }
    }

    /// The spans of instants the schedule is open on local date `date`, in order.
    fn spans_on(&self, date: NaiveDate) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        self.hours_on(date)
            .iter()
            .filter_map(|i| {
                let start = self.instant(date, i.start, Edge::Start)?;
                let end = self.instant(date, i.end, Edge::End)?;
                (start < end).then_some((start, end))
            })
            .collect()
    }

    /// The instant local `date` at `minute` after midnight stands for (see the module docs).
    fn instant(&self, date: NaiveDate, minute: u16, edge: Edge) -> Option<DateTime<Utc>> {
        let mut local = date.and_time(NaiveTime::MIN) + Duration::minutes(i64::from(minute));
        // A spring-forward gap lasts at most a few hours; a day bounds the walk.
        for _ in 0..=24 * 60 {
            match self.zone.from_local_datetime(&local) {
                LocalResult::Single(t) => return Some(t.with_timezone(&Utc)),
                LocalResult::Ambiguous(first, second) => {
                    let t = if edge == Edge::Start { first } else { second };
                    return Some(t.with_timezone(&Utc));
                }
                LocalResult::None => local += Duration::minutes(1),
            }
        }
        None
    }

    /// The local date of `at` in the schedule's zone.
    fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.zone).date_naive()
    }

    /// Whether the schedule is open at `at`.
    pub fn is_open(&self, at: DateTime<Utc>) -> bool {
        let day = self.local_date(at);
        [day.pred_opt(), Some(day), day.succ_opt()]
            .into_iter()
            .flatten()
            .flat_map(|d| self.spans_on(d))
            .any(|(s, e)| s <= at && at < e)
    }

    /// The first instant at or after `at` when the schedule is open: `at` itself when open,
    /// `None` when it does not open within [`MAX_SEARCH_DAYS`].
    pub fn next_open(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut day = self.local_date(at).pred_opt()?;
        for _ in 0..MAX_SEARCH_DAYS + 2 {
            if let Some((s, _)) = self.spans_on(day).into_iter().find(|(_, e)| *e > at) {
                return Some(s.max(at));
            }
            day = day.succ_opt()?;
        }
        None
    }

    /// How many seconds between `from` and `to` the schedule is open (0 when `to` is not after
    /// `from`).
    pub fn business_seconds(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
        if to <= from {
            return 0;
        }
        let (Some(mut day), Some(last)) = (
            self.local_date(from).pred_opt(),
            self.local_date(to).succ_opt(),
        ) else {
            return 0;
        };
        let mut spans = Vec::new();
        while day <= last {
            spans.extend(self.spans_on(day));
            match day.succ_opt() {
                Some(d) => day = d,
                None => break,
            }
        }
        // Spans of neighbouring dates may touch (`24:00` and `00:00`); count each second once.
        spans.sort();
        let mut total = 0;
        let mut covered = from;
        for (s, e) in spans {
            let (s, e) = (s.max(covered), e.min(to));
            if s < e {
                total += (e - s).num_seconds();
                covered = e;
            }
        }
        total
    }

    /// The open time between `from` and `to`: [`Hours::business_seconds`] as a duration (zero
    /// when `to` is not after `from`). Waiting over a closed night, weekend or holiday adds
    /// nothing.
    pub fn open_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> StdDuration {
        StdDuration::from_secs(u64::try_from(self.business_seconds(from, to)).unwrap_or(0))
    }

    /// The earliest instant `t` at or after `from` with `open_between(from, t) == amount`: when
    /// `amount` of open time will have passed. `from` itself for a zero amount; otherwise
    /// inside or at the end of an opening, so a closed stretch in between is skipped. `None`
    /// when the schedule does not provide that much open time within [`MAX_SEARCH_DAYS`].
    pub fn open_after(&self, from: DateTime<Utc>, amount: StdDuration) -> Option<DateTime<Utc>> {
        let mut left = Duration::from_std(amount).ok()?;
        if left.is_zero() {
            return Some(from);
        }
        let mut covered = from;
        let mut day = self.local_date(from).pred_opt()?;
        for _ in 0..MAX_SEARCH_DAYS + 2 {
            for (s, e) in self.spans_on(day) {
                let s = s.max(covered);
                if s < e {
                    if e - s >= left {
                        return Some(s + left);
                    }
                    left -= e - s;
                    covered = e;
                }
            }
            day = day.succ_opt()?;
        }
        None
    }

    /// The latest instant `t` at or before `to` with `open_between(t, to) == amount`: when the
    /// last `amount` of open time began. `None` when the schedule had not been open that long
    /// within [`MAX_SEARCH_DAYS`] before `to`.
    pub fn open_before(&self, to: DateTime<Utc>, amount: StdDuration) -> Option<DateTime<Utc>> {
        let mut left = Duration::from_std(amount).ok()?;
        if left.is_zero() {
            return Some(to);
        }
        let mut covered = to;
        let mut day = self.local_date(to).succ_opt()?;
        for _ in 0..MAX_SEARCH_DAYS + 2 {
            for (s, e) in self.spans_on(day).into_iter().rev() {
                let e = e.min(covered);
                if s < e {
                    if e - s >= left {
                        return Some(e - left);
                    }
                    left -= e - s;
                    covered = s;
                }
            }
            day = day.pred_opt()?;
        }
        None
    }
}

/// Which end of an interval an instant is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Edge {
    Start,
    End,
}

fn parse_day(day: &'static str, given: &[[String; 2]]) -> Result<Vec<Interval>, HoursError> {
    if given.len() > MAX_INTERVALS_PER_DAY {
        return Err(HoursError::TooManyIntervals(day));
    }
    let mut out = Vec::with_capacity(given.len());
    for [start, end] in given {
        let s = parse_time(day, start)?;
        let e = parse_time(day, end)?;
        if s >= e {
            return Err(HoursError::Reversed {
                day,
                start: start.clone(),
                end: end.clone(),
            });
        }
        out.push(Interval { start: s, end: e });
    }
    out.sort();
    for pair in out.windows(2) {
        if pair[1].start < pair[0].end {
            return Err(HoursError::Overlap {
                day,
                first: spell_interval(pair[0]),
                second: spell_interval(pair[1]),
            });
        }
    }
    Ok(out)
}

/// `H:MM` or `HH:MM`, `00:00` to `24:00`, in minutes after midnight.
fn parse_time(day: &'static str, value: &str) -> Result<u16, HoursError> {
    let bad = || HoursError::Time {
        day,
        value: value.to_owned(),
    };
    let (h, m) = value.trim().split_once(':').ok_or_else(bad)?;
    let digits = |s: &str, len: std::ops::RangeInclusive<usize>| {
        len.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
    };
    if !digits(h, 1..=2) || !digits(m, 2..=2) {
        return Err(bad());
    }
    let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if m > 59 || h > 24 || (h == 24 && m != 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

fn parse_dates(field: &'static str, given: &[String]) -> Result<BTreeSet<NaiveDate>, HoursError> {
    if given.len() > MAX_DATES {
        return Err(HoursError::TooManyDates(field));
    }
    given
        .iter()
        .map(|v| {
            let t = v.trim();
            // Exactly `YYYY-MM-DD`: chrono alone would also take `2026-1-5`.
            let shaped = t.len() == 10 && t.as_bytes()[4] == b'-' && t.as_bytes()[7] == b'-';
            shaped
                .then(|| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok())
                .flatten()
                .ok_or_else(|| HoursError::Date {
                    field,
                    value: v.clone(),
                })
        })
        .collect()
}

fn spell_time(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

fn spell_interval(i: Interval) -> String {
    format!("{}-{}", spell_time(i.start), spell_time(i.end))
}
