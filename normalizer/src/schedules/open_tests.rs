//! Business-time durations at fixed instants: [`Hours::open_between`] and its inverses across a
//! weekend, a holiday, a make-up Saturday, a split shift and daylight-saving changes in Berlin.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::hours::{Hours, Weekly};

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("a test instant")
}

fn hours(h: u64) -> Duration {
    Duration::from_secs(h * 3600)
}

fn day(start: &str, end: &str) -> Vec<[String; 2]> {
    vec![[start.to_owned(), end.to_owned()]]
}

/// Monday to Friday 09:00–17:00 in Berlin.
fn berlin_office() -> Hours {
    let d = day("09:00", "17:00");
    let week = Weekly {
        mon: d.clone(),
        tue: d.clone(),
        wed: d.clone(),
        thu: d.clone(),
        fri: d,
        ..Default::default()
    };
    Hours::parse("Europe/Berlin", &week, &[], &[]).expect("a valid schedule")
}

/// Monday to Friday 09:00–12:00 and 13:00–18:00 in Shanghai, National Day 2026 (1–7 October)
/// off, Saturday 10 October worked.
fn shanghai(with_holidays: bool) -> Hours {
    let d = vec![
        ["09:00".to_owned(), "12:00".to_owned()],
        ["13:00".to_owned(), "18:00".to_owned()],
    ];
    let week = Weekly {
        mon: d.clone(),
        tue: d.clone(),
        wed: d.clone(),
        thu: d.clone(),
        fri: d,
        ..Default::default()
    };
    let (holidays, extra): (Vec<String>, Vec<String>) = if with_holidays {
        (
            (1..=7).map(|d| format!("2026-10-{d:02}")).collect(),
            vec!["2026-10-10".to_owned()],
        )
    } else {
        (Vec::new(), Vec::new())
    };
    Hours::parse("Asia/Shanghai", &week, &holidays, &extra).expect("a valid schedule")
}

/// Checks `open_between`, `open_after` and `open_before` on one span of open time.
fn round_trip(h: &Hours, from: &str, open: Duration, to: &str) {
    let (from, to) = (at(from), at(to));
    assert_eq!(
        h.open_between(from, to),
        open,
        "open between {from} and {to}"
    );
    assert_eq!(h.open_after(from, open), Some(to), "{open:?} after {from}");
    assert_eq!(h.open_before(to, open), Some(from), "{open:?} before {to}");
}

#[test]
fn a_weekend_adds_no_open_time() {
    let h = berlin_office();
    // Friday 6 November 16:00 CET to Monday 9 November 10:00 CET: one hour each side.
    round_trip(&h, "2026-11-06T15:00:00Z", hours(2), "2026-11-09T09:00:00Z");
    // The whole weekend holds nothing.
    assert_eq!(
        h.open_between(at("2026-11-06T16:00:00Z"), at("2026-11-09T08:00:00Z")),
        Duration::ZERO
    );
    // One second after Monday 09:00 is one second of open time, however long the weekend.
    assert_eq!(
        h.open_between(at("2026-11-06T16:00:00Z"), at("2026-11-09T08:00:01Z")),
        Duration::from_secs(1)
    );
    // Backwards and empty ranges are zero.
    assert_eq!(
        h.open_between(at("2026-11-09T09:00:00Z"), at("2026-11-06T15:00:00Z")),
        Duration::ZERO
    );
}

#[test]
fn a_holiday_week_is_skipped() {
    // Wednesday 30 September 17:00 CST: one hour that day, then the week off, then Thursday
    // 8 October 09:00–10:00.
    round_trip(
        &shanghai(true),
        "2026-09-30T09:00:00Z",
        hours(2),
        "2026-10-08T02:00:00Z",
    );
    // Without the holidays the second hour is Thursday 1 October's.
    round_trip(
        &shanghai(false),
        "2026-09-30T09:00:00Z",
        hours(2),
        "2026-10-01T02:00:00Z",
    );
}

#[test]
fn a_make_up_saturday_counts() {
    // Friday 9 October 17:00 CST plus three hours: one on Friday, two on the worked Saturday.
    round_trip(
        &shanghai(true),
        "2026-10-09T09:00:00Z",
        hours(3),
        "2026-10-10T03:00:00Z",
    );
    // An ordinary Saturday is closed: the last two hours fall on Monday 12 October.
    round_trip(
        &shanghai(false),
        "2026-10-09T09:00:00Z",
        hours(3),
        "2026-10-12T03:00:00Z",
    );
}

#[test]
fn a_split_shift_skips_lunch() {
    let h = shanghai(false);
    // Monday 28 September 11:00 CST plus two hours ends at 14:00, after the lunch break.
    round_trip(&h, "2026-09-28T03:00:00Z", hours(2), "2026-09-28T06:00:00Z");
    // Exactly the rest of the morning ends at 12:00, not when the afternoon opens.
    round_trip(&h, "2026-09-28T03:00:00Z", hours(1), "2026-09-28T04:00:00Z");
    // No time at all is `from` itself, even during lunch.
    assert_eq!(
        h.open_after(at("2026-09-28T04:30:00Z"), Duration::ZERO),
        Some(at("2026-09-28T04:30:00Z"))
    );
    // Starting during lunch, the first open second is 13:00; going back from 14:00, the last
    // hour began at 13:00, the latest such instant.
    let (lunch, two) = (at("2026-09-28T04:30:00Z"), at("2026-09-28T06:00:00Z"));
    assert_eq!(h.open_between(lunch, two), hours(1));
    assert_eq!(h.open_after(lunch, hours(1)), Some(two));
    assert_eq!(
        h.open_before(two, hours(1)),
        Some(at("2026-09-28T05:00:00Z"))
    );
}

#[test]
fn daylight_saving_changes_in_berlin() {
    // Sundays open all day: Sunday 29 March 2026 has 23 hours, Sunday 25 October 25.
    let week = Weekly {
        sun: day("00:00", "24:00"),
        ..Default::default()
    };
    let h = Hours::parse("Europe/Berlin", &week, &[], &[]).expect("valid");
    round_trip(
        &h,
        "2026-03-28T23:00:00Z",
        hours(23),
        "2026-03-29T22:00:00Z",
    );
    round_trip(
        &h,
        "2026-10-24T22:00:00Z",
        hours(25),
        "2026-10-25T23:00:00Z",
    );
    // Open time is elapsed time: three hours from midnight CET end at 04:00 CEST.
    round_trip(&h, "2026-03-28T23:00:00Z", hours(3), "2026-03-29T02:00:00Z");

    // An office week across the spring change: Friday 27 March 16:00 CET (15:00Z) plus two
    // hours is Monday 30 March 10:00 CEST (08:00Z).
    round_trip(
        &berlin_office(),
        "2026-03-27T15:00:00Z",
        hours(2),
        "2026-03-30T08:00:00Z",
    );
}

#[test]
fn a_schedule_that_never_opens_has_no_answer() {
    let h = Hours::parse("Europe/Berlin", &Weekly::default(), &[], &[]).expect("valid");
    let t = at("2026-11-06T15:00:00Z");
    assert_eq!(
        h.open_between(t, at("2027-11-06T15:00:00Z")),
        Duration::ZERO
    );
    assert_eq!(h.open_after(t, Duration::from_secs(1)), None);
    assert_eq!(h.open_before(t, Duration::from_secs(1)), None);
}
