//! Overflow and `max_wait` in business time: an inbox that keeps a schedule counts only its
//! open time, so a weekend spent waiting does not widen anything on Monday morning.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use kefu_normalizer::schedules::{Hours, Weekly};

use super::{agent, conv, skills};
use crate::routing::{
    AgentSnapshot, Aging, OverflowPolicy, OverflowStage, QueuePolicy, QueuedConversation,
    plan_round,
};

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().expect("a test instant")
}

/// Monday to Friday 09:00–17:00 in Berlin.
fn berlin_office() -> Hours {
    let d = vec![["09:00".to_owned(), "17:00".to_owned()]];
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

fn policy(hours: Option<Hours>) -> QueuePolicy {
    QueuePolicy {
        overflow: OverflowPolicy {
            overflow_after: Some(Duration::from_secs(60)),
            step: Some(Duration::from_secs(60)),
            max_wait: Some(Duration::from_secs(300)),
            max_wait_message: Some("Still in line".into()),
            fallback_team_id: None,
        },
        sticky_window: None,
        hours,
    }
}

/// Queued on Friday 6 November 2026 at 16:59:30 CET, 30 open seconds before closing, needing a
/// billing expert; the only agent online has no skills, so it is assigned only once overflow
/// has dropped the skills (stage `AnySkill`, 120 s of waiting).
fn friday_evening() -> QueuedConversation {
    QueuedConversation {
        enqueued_at: utc("2026-11-06T15:59:30Z"),
        required_skills: skills(&[("billing", 4)]),
        ..conv(1)
    }
}

fn assigned_stage(policy: QueuePolicy, now: &str) -> (Option<OverflowStage>, usize) {
    let policies = BTreeMap::from([(1, policy)]);
    let agents: [AgentSnapshot; 1] = [agent(2)];
    let plan = plan_round(
        &[friday_evening()],
        &agents,
        &policies,
        utc(now),
        Aging { every: None },
    );
    (
        plan.assignments.first().map(|a| a.explanation.stage),
        plan.notices.len(),
    )
}

#[test]
fn a_closed_weekend_does_not_overflow_on_monday_morning() {
    let office = || policy(Some(berlin_office()));
    // Monday 9 November 09:00:01 CET: 31 open seconds waited, nothing widened, nobody told.
    assert_eq!(assigned_stage(office(), "2026-11-09T08:00:01Z"), (None, 0));
    // 09:01:29: 119 open seconds, still one short of dropping the skills.
    assert_eq!(assigned_stage(office(), "2026-11-09T08:01:29Z"), (None, 0));
    // 09:01:30: 120 open seconds, the skills are dropped and the agent takes it.
    assert_eq!(
        assigned_stage(office(), "2026-11-09T08:01:30Z"),
        (Some(OverflowStage::AnySkill), 0)
    );
}

#[test]
fn without_a_schedule_the_weekend_counts() {
    // The same conversation in an inbox without hours has waited the whole weekend.
    assert_eq!(
        assigned_stage(policy(None), "2026-11-09T08:00:01Z"),
        (Some(OverflowStage::AnySkill), 0)
    );
}

#[test]
fn max_wait_counts_open_time() {
    let office = policy(Some(berlin_office()));
    let policies = BTreeMap::from([(1, office)]);
    let plan = |now: &str| {
        plan_round(
            &[friday_evening()],
            &[],
            &policies,
            utc(now),
            Aging::default(),
        )
    };
    // Nobody to take it: the notice waits for 300 open seconds, Monday 09:04:30.
    assert!(plan("2026-11-09T08:04:29Z").notices.is_empty());
    assert_eq!(plan("2026-11-09T08:04:30Z").notices.len(), 1);
}

#[test]
fn waited_and_waited_until_agree() {
    let p = policy(Some(berlin_office()));
    let c = friday_evening();
    // Saturday noon: still the 30 seconds of Friday.
    assert_eq!(
        p.waited(&c, utc("2026-11-07T11:00:00Z")),
        Duration::from_secs(30)
    );
    assert_eq!(
        p.waited_until(&c, Duration::from_secs(60)),
        Some(utc("2026-11-09T08:00:30Z"))
    );
    let plain = policy(None);
    assert_eq!(
        plain.waited_until(&c, Duration::from_secs(60)),
        Some(utc("2026-11-06T16:00:30Z"))
    );
}
