use chrono::TimeZone;
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::*;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
        .single()
        .expect("valid date")
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn wait(at: Option<DateTime<Utc>>) -> Duration {
    at.expect("an attempt is due")
        .signed_duration_since(t0())
        .to_std()
        .expect("not in the past")
}

#[test]
fn exact_schedule_without_jitter() {
    let schedule = RetrySchedule::standard().with_jitter(0.0);
    assert_eq!(schedule.attempts(), 8);
    let expected = [0, 5, 300, 1800, 7200, 18_000, 36_000, 36_000];
    for (made, want) in expected.iter().enumerate() {
        let made = u32::try_from(made).expect("small");
        assert_eq!(
            wait(schedule.next_attempt(made, t0(), None)),
            secs(*want),
            "after {made}"
        );
    }
    assert_eq!(schedule.next_attempt(8, t0(), None), None);
    assert_eq!(schedule.next_attempt(u32::MAX, t0(), None), None);
    // Cumulatively the last attempt comes about 27.6 hours after the first.
    assert_eq!(expected.iter().sum::<u64>(), 27 * 3600 + 35 * 60 + 5);
}

#[test]
fn jitter_stays_within_ten_percent_and_varies() {
    let schedule = RetrySchedule::standard();
    let mut rng = StdRng::seed_from_u64(7);
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..200 {
        let got = wait(schedule.next_attempt_with(&mut rng, 3, t0(), None));
        assert!(got >= secs(1620) && got <= secs(1980), "{got:?}");
        seen.insert(got);
    }
    assert!(
        seen.len() > 100,
        "jitter should spread attempts: {}",
        seen.len()
    );
    // The first attempt is immediate; jitter of zero is zero.
    assert_eq!(
        wait(schedule.next_attempt_with(&mut rng, 0, t0(), None)),
        Duration::ZERO
    );
}

#[test]
fn seeded_rng_is_deterministic() {
    let schedule = RetrySchedule::standard();
    let run = |seed| {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..8)
            .map(|made| schedule.next_attempt_with(&mut rng, made, t0(), None))
            .collect::<Vec<_>>()
    };
    assert_eq!(run(42), run(42));
    assert_ne!(run(42), run(43));
}

#[test]
fn retry_after_wins_only_when_longer_and_is_capped() {
    let schedule = RetrySchedule::standard().with_jitter(0.0);
    // After attempt 1 the schedule says 5 s; the receiver asks for 2 minutes.
    assert_eq!(
        wait(schedule.next_attempt(1, t0(), Some(secs(120)))),
        secs(120)
    );
    // After attempt 3 the schedule says 30 min; a 1-minute Retry-After does not shorten it.
    assert_eq!(
        wait(schedule.next_attempt(3, t0(), Some(secs(60)))),
        secs(1800)
    );
    // A receiver asking for a year gets the cap.
    let year = secs(365 * 24 * 3600);
    assert_eq!(
        wait(schedule.next_attempt(1, t0(), Some(year))),
        DEFAULT_MAX_RETRY_AFTER
    );
    let capped = schedule.with_max_retry_after(secs(600));
    assert_eq!(wait(capped.next_attempt(1, t0(), Some(year))), secs(600));
    // Out of attempts stays out of attempts whatever the receiver says.
    assert_eq!(capped.next_attempt(8, t0(), Some(secs(1))), None);
}

#[test]
fn custom_schedules_for_tests() {
    let fast = RetrySchedule::new(vec![Duration::ZERO, Duration::from_millis(10)]).with_jitter(0.0);
    assert_eq!(fast.attempts(), 2);
    assert_eq!(
        wait(fast.next_attempt(1, t0(), None)),
        Duration::from_millis(10)
    );
    assert_eq!(fast.next_attempt(2, t0(), None), None);
    assert_eq!(RetrySchedule::new(vec![]).next_attempt(0, t0(), None), None);
    // Nonsense jitter is treated as none rather than producing NaN times.
    let nan = RetrySchedule::standard().with_jitter(f64::NAN);
    assert_eq!(wait(nan.next_attempt(1, t0(), None)), secs(5));
}

#[test]
fn the_free_function_uses_the_standard_schedule() {
    let got = wait(next_attempt(1, t0(), None));
    assert!(
        got >= Duration::from_millis(4500) && got <= Duration::from_millis(5500),
        "{got:?}"
    );
    assert_eq!(next_attempt(8, t0(), None), None);
}

#[test]
fn disable_after_failing_for_the_configured_time() {
    let five_days = secs(5 * 24 * 3600);
    let first = t0();
    let cases = [
        (first, false),
        (first + TimeDelta::days(5) - TimeDelta::seconds(1), false),
        (first + TimeDelta::days(5), true),
        (first + TimeDelta::days(6), true),
        (first - TimeDelta::days(1), false), // clock went backwards
    ];
    for (now, want) in cases {
        assert_eq!(should_disable(first, now, five_days), want, "{now}");
    }
    assert!(!should_disable(
        first,
        first + TimeDelta::days(9999),
        Duration::MAX
    ));
}

#[test]
fn status_classification() {
    let cases = [
        (200, ResponseOutcome::Delivered),
        (204, ResponseOutcome::Delivered),
        (299, ResponseOutcome::Delivered),
        (301, ResponseOutcome::Retry),
        (308, ResponseOutcome::Retry),
        (400, ResponseOutcome::Retry),
        (404, ResponseOutcome::Retry),
        (410, ResponseOutcome::DisableEndpoint),
        (429, ResponseOutcome::Retry),
        (500, ResponseOutcome::Retry),
        (503, ResponseOutcome::Retry),
    ];
    for (status, want) in cases {
        assert_eq!(classify_status(status), want, "{status}");
    }
}

#[test]
fn retry_after_header_values() {
    let now = t0();
    let cases: &[(&str, Option<Duration>)] = &[
        ("120", Some(secs(120))),
        (" 0 ", Some(Duration::ZERO)),
        (
            "99999999999999999999999",
            Some(Duration::from_secs(u64::MAX)),
        ),
        ("Wed, 01 Jan 2025 00:10:00 GMT", Some(secs(600))),
        ("Tue, 31 Dec 2024 23:00:00 GMT", Some(Duration::ZERO)),
        ("-5", None),
        ("1.5", None),
        ("soon", None),
        ("", None),
    ];
    for (value, want) in cases {
        assert_eq!(parse_retry_after(value, now), *want, "{value:?}");
    }
}
