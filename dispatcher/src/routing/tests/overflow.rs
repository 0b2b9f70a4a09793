use std::time::Duration;

use super::{at, conv, skills};
use crate::routing::{
    OverflowPolicy, OverflowStage, QueuedConversation, Requirements, effective_requirements,
    max_wait_notice, stage,
};

fn secs(s: u64) -> Option<Duration> {
    Some(Duration::from_secs(s))
}

fn policy(
    after: Option<Duration>,
    step: Option<Duration>,
    fallback: Option<i64>,
) -> OverflowPolicy {
    OverflowPolicy {
        overflow_after: after,
        step,
        fallback_team_id: fallback,
        ..OverflowPolicy::default()
    }
}

#[test]
fn stages_by_waiting_time() {
    use OverflowStage::*;
    let cases = [
        // (name, policy, waited, expected)
        (
            "no overflow configured",
            policy(None, None, Some(2)),
            1_000_000,
            Normal,
        ),
        (
            "before overflow_after",
            policy(secs(120), secs(60), Some(2)),
            119,
            Normal,
        ),
        (
            "at overflow_after",
            policy(secs(120), secs(60), Some(2)),
            120,
            AnyLevel,
        ),
        (
            "stage 1 until one step",
            policy(secs(120), secs(60), Some(2)),
            179,
            AnyLevel,
        ),
        (
            "stage 2",
            policy(secs(120), secs(60), Some(2)),
            180,
            AnySkill,
        ),
        (
            "stage 3",
            policy(secs(120), secs(60), Some(2)),
            240,
            FallbackTeam,
        ),
        (
            "stage 3 stays",
            policy(secs(120), secs(60), Some(2)),
            100_000,
            FallbackTeam,
        ),
        (
            "no fallback team: stage 2 is last",
            policy(secs(120), secs(60), None),
            100_000,
            AnySkill,
        ),
        (
            "step defaults to overflow_after",
            policy(secs(100), None, Some(2)),
            199,
            AnyLevel,
        ),
        (
            "step defaults to overflow_after, stage 2",
            policy(secs(100), None, Some(2)),
            200,
            AnySkill,
        ),
        (
            "step defaults to overflow_after, stage 3",
            policy(secs(100), None, Some(2)),
            300,
            FallbackTeam,
        ),
        (
            "zero overflow_after widens at once",
            policy(secs(0), None, Some(2)),
            0,
            FallbackTeam,
        ),
    ];
    for (name, policy, waited, expected) in cases {
        assert_eq!(
            stage(Duration::from_secs(waited), &policy),
            expected,
            "{name}"
        );
    }
}

#[test]
fn requirements_per_stage() {
    use OverflowStage::*;
    let with_team = QueuedConversation {
        required_skills: skills(&[("billing", 5), ("zh", 3)]),
        team_id: Some(7),
        ..conv(1)
    };
    let no_team = QueuedConversation {
        team_id: None,
        ..with_team.clone()
    };
    let p = policy(secs(60), None, Some(2));
    let preferred = vec!["billing".to_owned(), "zh".to_owned()];
    let req = |s: &[(&str, u8)], teams: &[i64]| Requirements {
        skills: skills(s),
        teams: teams.to_vec(),
        preferred_skills: preferred.clone(),
    };
    let cases = [
        (&with_team, Normal, req(&[("billing", 5), ("zh", 3)], &[7])),
        (
            &with_team,
            AnyLevel,
            req(&[("billing", 1), ("zh", 1)], &[7]),
        ),
        (&with_team, AnySkill, req(&[], &[7])),
        (&with_team, FallbackTeam, req(&[], &[7, 2])),
        (&no_team, AnySkill, req(&[], &[])),
        // Without a team anyone may already take it; the fallback must not narrow that.
        (&no_team, FallbackTeam, req(&[], &[])),
    ];
    for (c, stage, expected) in cases {
        assert_eq!(
            effective_requirements(c, stage, &p),
            expected,
            "team {:?} {stage:?}",
            c.team_id
        );
    }
}

#[test]
fn max_wait_message_once() {
    let p = OverflowPolicy {
        max_wait: secs(600),
        max_wait_message: Some("Thanks for waiting".to_owned()),
        ..OverflowPolicy::default()
    };
    let cases = [
        ("before max_wait", 599, false, &p, None),
        ("at max_wait", 600, false, &p, Some("Thanks for waiting")),
        ("already told", 5_000, true, &p, None),
        (
            "no max_wait",
            5_000,
            false,
            &OverflowPolicy::default(),
            None,
        ),
    ];
    for (name, now, notified, policy, expected) in cases {
        let c = QueuedConversation {
            max_wait_notified: notified,
            ..conv(1)
        };
        assert_eq!(
            max_wait_notice(&c, c.waited(at(now)), policy),
            expected,
            "{name}"
        );
    }
}
