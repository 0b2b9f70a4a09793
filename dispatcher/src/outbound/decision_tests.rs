use chrono::TimeZone;
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::*;

const S: Duration = Duration::from_secs(1);

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("a valid time")
}

fn secs(n: i64) -> DateTime<Utc> {
    t0() + TimeDelta::seconds(n)
}

/// The send policy's shape: 2 s doubling to 30 s, 4 attempts, never disabled.
fn sends() -> Policy {
    Policy {
        backoff: Backoff::Exponential {
            max_attempts: 4,
            base: 2 * S,
            max: 30 * S,
        },
        disable_after: None,
    }
}

/// The webhook policy's shape: waits of 0, 5, 60 s (three attempts), exact, and endpoints
/// disabled after an hour of failing.
fn hooks() -> Policy {
    Policy {
        backoff: Backoff::Schedule(
            RetrySchedule::new(vec![Duration::ZERO, 5 * S, 60 * S])
                .with_jitter(0.0)
                .with_max_retry_after(600 * S),
        ),
        disable_after: Some(3600 * S),
    }
}

fn failed(retry_after: Option<Duration>) -> Outcome {
    Outcome::Failed { retry_after }
}

/// What a row of the table expects.
#[derive(Debug)]
enum Want {
    Record,
    /// Retry between these many seconds after `t0` (inclusive).
    RetryWithin(f64, f64),
    GiveUp(GiveUp),
    Disable(&'static str),
}

fn check(name: &str, policy: &Policy, attempt: Attempt, outcome: Outcome, want: Want) {
    let mut rng = StdRng::seed_from_u64(7);
    let got = decide_with(&mut rng, policy, attempt, outcome);
    let ok = match (&want, &got) {
        (Want::Record, Decision::Record) => true,
        (Want::RetryWithin(lo, hi), Decision::RetryAt(at)) => {
            let after = (*at - t0()).num_milliseconds() as f64 / 1000.0;
            *lo <= after && after <= *hi
        }
        (Want::GiveUp(w), Decision::GiveUp(g)) => w == g,
        (Want::Disable(w), Decision::Disable(reason)) => reason == w,
        _ => false,
    };
    assert!(ok, "{name}: wanted {want:?}, got {got:?}");
    assert_eq!(
        got.finished(),
        !matches!(want, Want::RetryWithin(..)),
        "{name}"
    );
}

fn at(made: u32, failing_since: Option<DateTime<Utc>>) -> Attempt {
    Attempt {
        made,
        now: t0(),
        failing_since,
    }
}

#[test]
fn sends_retry_with_doubling_backoff_until_the_attempts_are_used_up() {
    let p = sends();
    let table = [
        ("success", at(1, None), Outcome::Succeeded, Want::Record),
        (
            "success on the last attempt",
            at(4, Some(secs(-9000))),
            Outcome::Succeeded,
            Want::Record,
        ),
        (
            "first failure: 1–2 s",
            at(1, None),
            failed(None),
            Want::RetryWithin(1.0, 2.0),
        ),
        (
            "second failure: 2–4 s",
            at(2, None),
            failed(None),
            Want::RetryWithin(2.0, 4.0),
        ),
        (
            "third failure: 4–8 s",
            at(3, None),
            failed(None),
            Want::RetryWithin(4.0, 8.0),
        ),
        (
            "last attempt failed",
            at(4, None),
            failed(None),
            Want::GiveUp(GiveUp::Exhausted),
        ),
        (
            "beyond the last attempt",
            at(9, None),
            failed(None),
            Want::GiveUp(GiveUp::Exhausted),
        ),
        (
            "Retry-After beyond the cap is honoured",
            at(1, None),
            failed(Some(3600 * S)),
            Want::RetryWithin(3600.0, 3600.0),
        ),
        (
            "a short Retry-After does not shorten the backoff",
            at(3, None),
            failed(Some(S)),
            Want::RetryWithin(4.0, 8.0),
        ),
        (
            "Retry-After on the last attempt still gives up",
            at(4, None),
            failed(Some(S)),
            Want::GiveUp(GiveUp::Exhausted),
        ),
        (
            "permanent failure",
            at(1, None),
            Outcome::Refused,
            Want::GiveUp(GiveUp::Refused),
        ),
        (
            "failing for days never disables a channel",
            at(2, Some(secs(-30 * 86400))),
            failed(None),
            Want::RetryWithin(2.0, 4.0),
        ),
    ];
    for (name, attempt, outcome, want) in table {
        check(name, &p, attempt, outcome, want);
    }
}

#[test]
fn sends_back_off_to_the_cap() {
    let p = sends();
    let long = Policy {
        backoff: Backoff::Exponential {
            max_attempts: 100,
            base: 2 * S,
            max: 30 * S,
        },
        ..p
    };
    for made in [5, 12, 40] {
        check(
            "capped",
            &long,
            at(made, None),
            failed(None),
            Want::RetryWithin(15.0, 30.0),
        );
    }
}

#[test]
fn webhooks_follow_the_schedule_and_disable_failing_endpoints() {
    let p = hooks();
    let table = [
        ("2xx", at(1, None), Outcome::Succeeded, Want::Record),
        (
            "2xx after a long failure streak",
            at(3, Some(secs(-99_999))),
            Outcome::Succeeded,
            Want::Record,
        ),
        (
            "first failure: the second wait",
            at(1, None),
            failed(None),
            Want::RetryWithin(5.0, 5.0),
        ),
        (
            "second failure",
            at(2, Some(secs(-5))),
            failed(None),
            Want::RetryWithin(60.0, 60.0),
        ),
        (
            "schedule used up",
            at(3, Some(secs(-65))),
            failed(None),
            Want::GiveUp(GiveUp::Exhausted),
        ),
        (
            "Retry-After longer than the schedule",
            at(1, None),
            failed(Some(120 * S)),
            Want::RetryWithin(120.0, 120.0),
        ),
        (
            "Retry-After capped",
            at(1, None),
            failed(Some(86_400 * S)),
            Want::RetryWithin(600.0, 600.0),
        ),
        (
            "410 Gone",
            at(1, None),
            Outcome::Gone,
            Want::Disable("the endpoint answered 410 Gone"),
        ),
        (
            "410 Gone with attempts left and no streak",
            at(2, Some(secs(-1))),
            Outcome::Gone,
            Want::Disable("the endpoint answered 410 Gone"),
        ),
        (
            "failing just under the limit retries",
            at(2, Some(secs(-3599))),
            failed(None),
            Want::RetryWithin(60.0, 60.0),
        ),
        (
            "failing for the limit disables",
            at(2, Some(secs(-3600))),
            failed(None),
            Want::Disable("failing without a success since 2025-12-31T23:00:00+00:00"),
        ),
        (
            "disabling wins over giving up",
            at(3, Some(secs(-7200))),
            failed(None),
            Want::Disable("failing without a success since 2025-12-31T22:00:00+00:00"),
        ),
        (
            "a first failure starts the streak now",
            at(1, None),
            failed(None),
            Want::RetryWithin(5.0, 5.0),
        ),
    ];
    for (name, attempt, outcome, want) in table {
        check(name, &p, attempt, outcome, want);
    }
}

#[test]
fn a_zero_disable_limit_disables_on_the_first_failure() {
    let p = Policy {
        disable_after: Some(Duration::ZERO),
        ..hooks()
    };
    check(
        "zero limit",
        &p,
        at(1, None),
        failed(None),
        Want::Disable("failing without a success since 2026-01-01T00:00:00+00:00"),
    );
    check("success", &p, at(1, None), Outcome::Succeeded, Want::Record);
}

#[test]
fn the_jitter_stays_within_its_bounds_for_any_seed() {
    let p = Policy {
        backoff: Backoff::Schedule(RetrySchedule::new(vec![Duration::ZERO, 100 * S])),
        disable_after: None,
    };
    for seed in 0..200 {
        let mut rng = StdRng::seed_from_u64(seed);
        let Decision::RetryAt(t) = decide_with(&mut rng, &p, at(1, None), failed(None)) else {
            panic!("seed {seed}: not a retry");
        };
        let after = (t - t0()).num_milliseconds() as f64 / 1000.0;
        assert!((90.0..=110.0).contains(&after), "seed {seed}: {after}");
    }
}
