//! The calculator at fixed instants: holidays, make-up days, split shifts, daylight-saving
//! changes, and the definitions it refuses.

use chrono::{DateTime, Utc};

use super::hours::{Hours, HoursError, Weekly};

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("a test instant")
}

fn iv(pairs: &[(&str, &str)]) -> Vec<[String; 2]> {
    pairs
        .iter()
        .map(|(s, e)| [(*s).to_owned(), (*e).to_owned()])
        .collect()
}

fn strings(dates: &[&str]) -> Vec<String> {
    dates.iter().map(|d| (*d).to_owned()).collect()
}

/// Monday to Friday with a lunch break, as a Shanghai support desk might work.
fn split_week() -> Weekly {
    let day = iv(&[("09:00", "12:00"), ("13:00", "18:00")]);
    Weekly {
        mon: day.clone(),
        tue: day.clone(),
        wed: day.clone(),
        thu: day.clone(),
        fri: day,
        ..Default::default()
    }
}

/// National Day 2026 in China: 1–7 October off, Saturday 10 October worked.
fn shanghai() -> Hours {
    let holidays: Vec<String> = (1..=7).map(|d| format!("2026-10-{d:02}")).collect();
    Hours::parse(
        "Asia/Shanghai",
        &split_week(),
        &holidays,
        &strings(&["2026-10-10"]),
    )
    .expect("a valid schedule")
}

const HOUR: i64 = 3600;

#[test]
fn a_split_shift_closes_for_lunch() {
    let h = shanghai();
    // Monday 28 September 2026, Shanghai is UTC+8.
    assert!(!h.is_open(at("2026-09-28T00:59:59Z"))); // 08:59:59
    assert!(h.is_open(at("2026-09-28T01:00:00Z"))); // 09:00
    assert!(h.is_open(at("2026-09-28T03:59:59Z"))); // 11:59:59
    assert!(!h.is_open(at("2026-09-28T04:00:00Z"))); // 12:00
    assert!(!h.is_open(at("2026-09-28T04:30:00Z"))); // 12:30
    assert!(h.is_open(at("2026-09-28T05:00:00Z"))); // 13:00
    assert!(!h.is_open(at("2026-09-28T10:00:00Z"))); // 18:00
    assert_eq!(
        h.next_open(at("2026-09-28T04:30:00Z")),
        Some(at("2026-09-28T05:00:00Z"))
    );
    // 08:00 to 20:00 holds 3 + 5 hours of work.
    assert_eq!(
        h.business_seconds(at("2026-09-28T00:00:00Z"), at("2026-09-28T12:00:00Z")),
        8 * HOUR
    );
    // Half the morning and half the afternoon.
    assert_eq!(
        h.business_seconds(at("2026-09-28T02:30:00Z"), at("2026-09-28T07:30:00Z")),
        4 * HOUR
    );
}

#[test]
fn a_holiday_is_closed_all_day() {
    let h = shanghai();
    // Thursday 1 October 10:00: a weekday, but National Day.
    assert!(!h.is_open(at("2026-10-01T02:00:00Z")));
    // The week off (and the Sunday before it) holds no work at all.
    assert_eq!(
        h.business_seconds(at("2026-09-30T16:00:00Z"), at("2026-10-07T16:00:00Z")),
        0
    );
    // The holiday ends on Wednesday 7 October; Thursday 8 October 09:00 opens.
    assert_eq!(
        h.next_open(at("2026-10-01T02:00:00Z")),
        Some(at("2026-10-08T01:00:00Z"))
    );
    // The same date without the holiday is an ordinary Thursday.
    let plain = Hours::parse("Asia/Shanghai", &split_week(), &[], &[]).expect("valid");
    assert!(plain.is_open(at("2026-10-01T02:00:00Z")));
}

#[test]
fn a_make_up_saturday_works_mondays_hours() {
    let h = shanghai();
    // Saturday 10 October 2026 is worked, with Monday's split shift.
    assert!(h.is_open(at("2026-10-10T02:00:00Z"))); // 10:00
    assert!(!h.is_open(at("2026-10-10T04:30:00Z"))); // 12:30
    assert!(h.is_open(at("2026-10-10T09:59:00Z"))); // 17:59
    assert_eq!(
        h.business_seconds(at("2026-10-09T16:00:00Z"), at("2026-10-10T16:00:00Z")),
        8 * HOUR
    );
    // Friday 9 October 18:30 opens next on the Saturday, not on Monday.
    assert_eq!(
        h.next_open(at("2026-10-09T10:30:00Z")),
        Some(at("2026-10-10T01:00:00Z"))
    );
    // An ordinary Saturday stays closed.
    assert!(!h.is_open(at("2026-10-17T02:00:00Z")));
    // When Monday is closed the make-up day takes the first later weekday's hours.
    let tue_only = Weekly {
        tue: iv(&[("10:00", "16:00")]),
        ..Default::default()
    };
    let h =
        Hours::parse("Asia/Shanghai", &tue_only, &[], &strings(&["2026-10-10"])).expect("valid");
    assert!(!h.is_open(at("2026-10-10T01:30:00Z"))); // 09:30
    assert!(h.is_open(at("2026-10-10T02:00:00Z"))); // 10:00
}

#[test]
fn a_plain_interval_opens_at_its_start_and_closes_at_its_end() {
    let week = Weekly {
        tue: iv(&[("09:00", "18:00")]),
        ..Default::default()
    };
    let h = Hours::parse("UTC", &week, &[], &[]).expect("valid");
    // Tuesday 6 October 2026.
    assert!(!h.is_open(at("2026-10-06T08:59:59Z")));
    assert!(h.is_open(at("2026-10-06T09:00:00Z")));
    assert!(h.is_open(at("2026-10-06T17:59:59Z")));
    assert!(!h.is_open(at("2026-10-06T18:00:00Z")));
    assert_eq!(
        h.next_open(at("2026-10-06T12:00:00Z")),
        Some(at("2026-10-06T12:00:00Z"))
    );
    // From Tuesday evening the next opening is a week later.
    assert_eq!(
        h.next_open(at("2026-10-06T18:00:00Z")),
        Some(at("2026-10-13T09:00:00Z"))
    );
    // Two whole weeks hold two working days.
    assert_eq!(
        h.business_seconds(at("2026-10-05T00:00:00Z"), at("2026-10-19T00:00:00Z")),
        18 * HOUR
    );
    assert_eq!(
        h.business_seconds(at("2026-10-07T00:00:00Z"), at("2026-10-06T00:00:00Z")),
        0
    );
}

#[test]
fn a_night_shift_runs_across_midnight_in_two_intervals() {
    let week = Weekly {
        fri: iv(&[("22:00", "24:00")]),
        sat: iv(&[("00:00", "06:00")]),
        ..Default::default()
    };
    let h = Hours::parse("Europe/Berlin", &week, &[], &[]).expect("valid");
    // Friday 9 October 2026, Berlin is UTC+2: 22:00 is 20:00Z.
    assert!(h.is_open(at("2026-10-09T21:59:59Z"))); // 23:59:59
    assert!(h.is_open(at("2026-10-09T22:00:00Z"))); // Saturday 00:00
    assert_eq!(
        h.business_seconds(at("2026-10-09T12:00:00Z"), at("2026-10-10T12:00:00Z")),
        8 * HOUR
    );
    assert_eq!(h.weekly().fri, iv(&[("22:00", "24:00")]));
}

#[test]
fn spring_forward_in_new_york() {
    // Sunday 8 March 2026: 02:00 EST becomes 03:00 EDT (07:00Z).
    let week = Weekly {
        sun: iv(&[("00:00", "06:00")]),
        ..Default::default()
    };
    let h = Hours::parse("America/New_York", &week, &[], &[]).expect("valid");
    // 00:00 EST is 05:00Z, 06:00 EDT is 10:00Z: five hours, not six.
    assert_eq!(
        h.business_seconds(at("2026-03-08T00:00:00Z"), at("2026-03-09T00:00:00Z")),
        5 * HOUR
    );
    assert!(h.is_open(at("2026-03-08T06:59:59Z"))); // 01:59:59 EST
    assert!(h.is_open(at("2026-03-08T07:00:00Z"))); // 03:00 EDT
    assert!(!h.is_open(at("2026-03-08T10:00:00Z"))); // 06:00 EDT

    // An interval that starts inside the skipped hour opens when the hour ends.
    let week = Weekly {
        sun: iv(&[("02:30", "05:00")]),
        ..Default::default()
    };
    let h = Hours::parse("America/New_York", &week, &[], &[]).expect("valid");
    assert!(!h.is_open(at("2026-03-08T06:59:59Z")));
    assert_eq!(
        h.next_open(at("2026-03-08T05:00:00Z")),
        Some(at("2026-03-08T07:00:00Z"))
    );
    assert_eq!(
        h.business_seconds(at("2026-03-08T00:00:00Z"), at("2026-03-09T00:00:00Z")),
        2 * HOUR
    );
    // A week earlier the same interval lasts its full two and a half hours.
    assert_eq!(
        h.business_seconds(at("2026-03-01T00:00:00Z"), at("2026-03-02T00:00:00Z")),
        5 * HOUR / 2
    );
}

#[test]
fn fall_back_in_new_york() {
    // Sunday 1 November 2026: 02:00 EDT becomes 01:00 EST (06:00Z); 01:xx happens twice.
    let week = Weekly {
        sun: iv(&[("00:00", "06:00")]),
        ..Default::default()
    };
    let h = Hours::parse("America/New_York", &week, &[], &[]).expect("valid");
    // 00:00 EDT is 04:00Z, 06:00 EST is 11:00Z: seven hours.
    assert_eq!(
        h.business_seconds(at("2026-11-01T00:00:00Z"), at("2026-11-02T00:00:00Z")),
        7 * HOUR
    );
    // An end inside the repeated hour is its second occurrence: 00:00–01:30 lasts 2 h 30.
    let week = Weekly {
        sun: iv(&[("00:00", "01:30")]),
        ..Default::default()
    };
    let h = Hours::parse("America/New_York", &week, &[], &[]).expect("valid");
    assert_eq!(
        h.business_seconds(at("2026-11-01T00:00:00Z"), at("2026-11-02T00:00:00Z")),
        5 * HOUR / 2
    );
    assert!(h.is_open(at("2026-11-01T06:15:00Z"))); // 01:15 EST, the second time
    assert!(!h.is_open(at("2026-11-01T06:30:00Z"))); // 01:30 EST
}

#[test]
fn the_zone_decides_when_a_weekday_starts() {
    // Berlin leaves CET (UTC+1) for CEST (UTC+2) on Sunday 29 March 2026.
    let week = Weekly {
        mon: iv(&[("09:00", "17:00")]),
        fri: iv(&[("09:00", "17:00")]),
        ..Default::default()
    };
    let h = Hours::parse("Europe/Berlin", &week, &[], &[]).expect("valid");
    assert!(h.is_open(at("2026-03-27T08:00:00Z"))); // Friday 09:00 CET
    assert_eq!(
        h.next_open(at("2026-03-27T16:00:00Z")),
        Some(at("2026-03-30T07:00:00Z")) // Monday 09:00 CEST
    );
    assert_eq!(
        h.business_seconds(at("2026-03-27T00:00:00Z"), at("2026-03-31T00:00:00Z")),
        16 * HOUR
    );
}

#[test]
fn a_schedule_without_hours_never_opens() {
    let h = Hours::parse("UTC", &Weekly::default(), &[], &[]).expect("valid");
    assert!(!h.is_open(at("2026-10-06T12:00:00Z")));
    assert_eq!(h.next_open(at("2026-10-06T12:00:00Z")), None);
    assert_eq!(
        h.business_seconds(at("2026-01-01T00:00:00Z"), at("2027-01-01T00:00:00Z")),
        0
    );
}

#[test]
fn definitions_are_stored_in_one_spelling() {
    let week = Weekly {
        mon: iv(&[(" 13:00", "18:00"), ("9:00", "12:00")]),
        ..Default::default()
    };
    let h = Hours::parse(
        "Asia/Shanghai",
        &week,
        &strings(&["2026-10-02", "2026-10-01"]),
        &[],
    )
    .expect("valid");
    assert_eq!(
        h.weekly().mon,
        iv(&[("09:00", "12:00"), ("13:00", "18:00")])
    );
    assert_eq!(h.holidays(), strings(&["2026-10-01", "2026-10-02"]));
    assert_eq!(h.zone(), chrono_tz::Asia::Shanghai);
}

#[test]
fn bad_definitions_say_what_is_wrong() {
    let one = |pairs: &[(&str, &str)]| Weekly {
        wed: iv(pairs),
        ..Default::default()
    };
    let ok = one(&[("09:00", "18:00")]);
    // (zone, weekly, holidays, extra workdays, what the error says)
    type Case = (&'static str, Weekly, Vec<String>, Vec<String>, &'static str);
    let cases: Vec<Case> = vec![
        (
            "Mars/Olympus",
            ok.clone(),
            vec![],
            vec![],
            "time_zone: \"Mars/Olympus\"",
        ),
        (
            "UTC",
            one(&[("25:00", "26:00")]),
            vec![],
            vec![],
            "weekly.wed: \"25:00\" is not",
        ),
        (
            "UTC",
            one(&[("09:00", "24:30")]),
            vec![],
            vec![],
            "\"24:30\" is not",
        ),
        (
            "UTC",
            one(&[("9:5", "10:00")]),
            vec![],
            vec![],
            "\"9:5\" is not",
        ),
        (
            "UTC",
            one(&[("nine", "10:00")]),
            vec![],
            vec![],
            "\"nine\" is not",
        ),
        (
            "UTC",
            one(&[("18:00", "09:00")]),
            vec![],
            vec![],
            "must start before it ends",
        ),
        (
            "UTC",
            one(&[("09:00", "09:00")]),
            vec![],
            vec![],
            "must start before it ends",
        ),
        (
            "UTC",
            one(&[("24:00", "24:00")]),
            vec![],
            vec![],
            "must start before it ends",
        ),
        (
            "UTC",
            one(&[("13:00", "18:00"), ("09:00", "13:30")]),
            vec![],
            vec![],
            "weekly.wed: 09:00-13:30 and 13:00-18:00 overlap",
        ),
        (
            "UTC",
            ok.clone(),
            strings(&["2026-02-30"]),
            vec![],
            "holidays: \"2026-02-30\"",
        ),
        (
            "UTC",
            ok.clone(),
            strings(&["2026-1-5"]),
            vec![],
            "is not a date",
        ),
        (
            "UTC",
            ok.clone(),
            vec![],
            strings(&["10/10/2026"]),
            "extra_workdays: \"10/10/2026\"",
        ),
        (
            "UTC",
            ok.clone(),
            strings(&["2026-10-10"]),
            strings(&["2026-10-10"]),
            "2026-10-10 is both",
        ),
        (
            "UTC",
            Weekly::default(),
            vec![],
            strings(&["2026-10-10"]),
            "no weekday has",
        ),
    ];
    for (zone, week, holidays, extra, want) in cases {
        let err = Hours::parse(zone, &week, &holidays, &extra).expect_err(want);
        assert!(err.to_string().contains(want), "{err} should say {want}");
    }
    // Touching intervals are fine.
    let touching = one(&[("09:00", "12:00"), ("12:00", "18:00")]);
    assert!(Hours::parse("UTC", &touching, &[], &[]).is_ok());
    assert!(matches!(
        Hours::parse("UTC", &ok, &[], &[]).map(|h| h.weekly()),
        Ok(w) if w == ok
    ));
    let too_many: Vec<(String, String)> = (0..9)
        .map(|h| (format!("{h:02}:00"), format!("{h:02}:30")))
        .collect();
    let too_many: Vec<(&str, &str)> = too_many
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    assert_eq!(
        Hours::parse("UTC", &one(&too_many), &[], &[]),
        Err(HoursError::TooManyIntervals("wed"))
    );
}

#[test]
fn the_weekly_shape_refuses_unknown_days_and_odd_intervals() {
    let week: Weekly = serde_json::from_str(r#"{"mon": [["09:00", "18:00"]]}"#).expect("valid");
    assert_eq!(week.mon, iv(&[("09:00", "18:00")]));
    assert!(week.sun.is_empty());
    assert!(serde_json::from_str::<Weekly>(r#"{"monday": []}"#).is_err());
    assert!(serde_json::from_str::<Weekly>(r#"{"mon": [["09:00"]]}"#).is_err());
}
