use std::time::Duration;

use serde_json::json;

use super::{agent, at, conv, skills, teams};
use crate::routing::{
    AgentSnapshot, OverflowPolicy, QueuePolicy, QueuedConversation, Requirements, RuleHit, WhyNot,
    WinnerCriterion, choose, choose_with,
};

fn needs(s: &[(&str, u8)], team: &[i64]) -> Requirements {
    Requirements {
        skills: skills(s),
        teams: team.to_vec(),
        preferred_skills: Vec::new(),
    }
}

#[test]
fn eligibility() {
    let billing3 = needs(&[("billing", 3)], &[]);
    let cases: Vec<(&str, AgentSnapshot, Requirements, Option<WhyNot>)> = vec![
        (
            "exactly at the level",
            AgentSnapshot {
                skills: skills(&[("billing", 3)]),
                ..agent(1)
            },
            billing3.clone(),
            None,
        ),
        (
            "above the level",
            AgentSnapshot {
                skills: skills(&[("billing", 9), ("zh", 2)]),
                ..agent(1)
            },
            billing3.clone(),
            None,
        ),
        (
            "below the level",
            AgentSnapshot {
                skills: skills(&[("billing", 2)]),
                ..agent(1)
            },
            billing3.clone(),
            Some(WhyNot::SkillTooLow {
                skill: "billing".into(),
                level: 2,
                required: 3,
            }),
        ),
        (
            "one of two skills missing",
            AgentSnapshot {
                skills: skills(&[("billing", 5)]),
                ..agent(1)
            },
            needs(&[("billing", 3), ("zh", 1)], &[]),
            Some(WhyNot::MissingSkill { skill: "zh".into() }),
        ),
        (
            "offline",
            AgentSnapshot {
                online: false,
                skills: skills(&[("billing", 5)]),
                ..agent(1)
            },
            billing3.clone(),
            Some(WhyNot::Offline),
        ),
        (
            "at capacity",
            AgentSnapshot {
                active: 3,
                max_concurrent: 3,
                skills: skills(&[("billing", 5)]),
                ..agent(1)
            },
            billing3.clone(),
            Some(WhyNot::AtCapacity {
                active: 3,
                max_concurrent: 3,
            }),
        ),
        (
            "one slot left",
            AgentSnapshot {
                active: 2,
                max_concurrent: 3,
                skills: skills(&[("billing", 5)]),
                ..agent(1)
            },
            billing3.clone(),
            None,
        ),
        (
            "zero capacity",
            AgentSnapshot {
                max_concurrent: 0,
                ..agent(1)
            },
            needs(&[], &[]),
            Some(WhyNot::AtCapacity {
                active: 0,
                max_concurrent: 0,
            }),
        ),
        (
            "wrong team",
            AgentSnapshot {
                teams: teams(&[8]),
                ..agent(1)
            },
            needs(&[], &[7]),
            Some(WhyNot::NotInTeam { teams: vec![7] }),
        ),
        (
            "in one of the teams",
            AgentSnapshot {
                teams: teams(&[2, 8]),
                ..agent(1)
            },
            needs(&[], &[7, 8]),
            None,
        ),
        ("no requirements", agent(1), needs(&[], &[]), None),
    ];
    for (name, a, req, expected) in cases {
        let choice = choose_with(req, None, &[a], at(0));
        let c = &choice.reason.candidates[0];
        assert_eq!(c.why_not, expected, "{name}");
        assert_eq!(c.eligible, expected.is_none(), "{name}");
        assert_eq!(choice.agent_id, expected.is_none().then_some(1), "{name}");
    }
}

#[test]
fn ranking_and_tie_breaks() {
    use WinnerCriterion::*;
    let a = |id, active, max, level, last: Option<i64>| AgentSnapshot {
        active,
        max_concurrent: max,
        skills: skills(&[("billing", level)]),
        last_assigned_at: last.map(at),
        ..agent(id)
    };
    let cases: Vec<(&str, Vec<AgentSnapshot>, Option<i64>, WinnerCriterion)> = vec![
        (
            "least loaded",
            vec![a(1, 2, 4, 5, None), a(2, 1, 3, 5, None)],
            Some(2),
            LeastLoaded,
        ),
        (
            "load is a ratio",
            vec![a(1, 2, 10, 5, None), a(2, 1, 3, 5, None)],
            Some(1),
            LeastLoaded,
        ),
        (
            "load beats proficiency",
            vec![a(1, 1, 3, 10, None), a(2, 0, 3, 1, None)],
            Some(2),
            LeastLoaded,
        ),
        (
            "most proficient",
            vec![a(1, 1, 3, 3, None), a(2, 2, 6, 7, None)],
            Some(2),
            MostProficient,
        ),
        (
            "longest idle",
            vec![a(1, 0, 3, 5, Some(-100)), a(2, 0, 3, 5, Some(-500))],
            Some(2),
            LongestIdle,
        ),
        (
            "never assigned first",
            vec![a(1, 0, 3, 5, Some(-9_999)), a(2, 0, 3, 5, None)],
            Some(2),
            LongestIdle,
        ),
        (
            "full tie: lowest id",
            vec![a(5, 0, 3, 5, None), a(3, 0, 3, 5, None)],
            Some(3),
            LowestId,
        ),
        (
            "only one eligible",
            vec![a(1, 3, 3, 5, None), a(2, 2, 3, 5, None)],
            Some(2),
            OnlyEligible,
        ),
        (
            "nobody eligible",
            vec![a(1, 3, 3, 5, None), a(2, 0, 3, 0, None)],
            None,
            NoEligibleAgent,
        ),
    ];
    for (name, agents, winner, criterion) in cases {
        let choice = choose_with(needs(&[("billing", 1)], &[]), None, &agents, at(0));
        assert_eq!(choice.agent_id, winner, "{name}");
        assert_eq!(choice.reason.winner_criteria, criterion, "{name}");
        assert_eq!(
            choice.reason.candidates.len(),
            agents.len(),
            "{name}: all listed"
        );
        if let Some(w) = winner {
            assert_eq!(
                choice.reason.candidates[0].agent_id, w,
                "{name}: winner listed first"
            );
        }
    }
}

#[test]
fn proficiency_sums_required_skills_and_survives_overflow() {
    let agents = [
        AgentSnapshot {
            skills: skills(&[("billing", 4), ("zh", 4)]),
            ..agent(1)
        },
        AgentSnapshot {
            skills: skills(&[("billing", 9), ("zh", 1)]),
            ..agent(2)
        },
        AgentSnapshot {
            skills: skills(&[("zh", 2)]),
            ..agent(3)
        },
    ];
    let c = QueuedConversation {
        required_skills: skills(&[("billing", 8), ("zh", 1)]),
        enqueued_at: at(0),
        ..conv(1)
    };
    let policy = QueuePolicy {
        overflow: OverflowPolicy {
            overflow_after: Some(Duration::from_secs(60)),
            ..OverflowPolicy::default()
        },
        sticky_window: None,
        hours: None,
    };
    // Normal: only 2 holds billing 8.
    let normal = choose(&c, &agents, at(10), &policy);
    assert_eq!(normal.agent_id, Some(2));
    assert_eq!(normal.reason.winner_criteria, WinnerCriterion::OnlyEligible);
    // Stage 1 (any level): 1 and 2 both qualify, 2 sums 10 against 8.
    let relaxed = choose(
        &c,
        &Vec::from([agents[0].clone(), agents[1].clone()]),
        at(60),
        &policy,
    );
    assert_eq!(relaxed.agent_id, Some(2));
    assert_eq!(
        relaxed.reason.winner_criteria,
        WinnerCriterion::MostProficient
    );
    let profs: Vec<(i64, u32)> = relaxed
        .reason
        .candidates
        .iter()
        .map(|c| (c.agent_id, c.proficiency))
        .collect();
    assert_eq!(profs, vec![(2, 10), (1, 8)]);
    // Stage 2 (no skills): 3 becomes eligible but still ranks last on the original skills.
    let any = choose(
        &c,
        &[agents[2].clone(), agents[0].clone()],
        at(120),
        &policy,
    );
    assert_eq!(any.agent_id, Some(1));
    assert_eq!(any.reason.winner_criteria, WinnerCriterion::MostProficient);
}

#[test]
fn explanation_json() {
    let c = QueuedConversation {
        required_skills: skills(&[("billing", 3)]),
        rule_hits: vec![RuleHit {
            index: 0,
            name: Some("refund".into()),
            why: vec!["keyword \"refund\"".into()],
        }],
        ..conv(1)
    };
    let agents = [
        AgentSnapshot {
            skills: skills(&[("billing", 3)]),
            active: 1,
            max_concurrent: 4,
            last_assigned_at: Some(at(-90)),
            ..agent(1)
        },
        agent(2),
    ];
    let choice = choose(&c, &agents, at(0), &QueuePolicy::default());
    let got = serde_json::to_value(&choice).expect("serializes");
    assert_eq!(
        got,
        json!({
            "agent_id": 1,
            "reason": {
                "stage": "normal",
                "requirements": {"skills": {"billing": 3}, "teams": [], "preferred_skills": ["billing"]},
                "candidates": [
                    {"agent_id": 1, "eligible": true, "why_not": null, "load": 0.25, "proficiency": 3, "idle_secs": 90},
                    {"agent_id": 2, "eligible": false, "why_not": {"code": "missing_skill", "skill": "billing"},
                     "load": 0.0, "proficiency": 0, "idle_secs": null}
                ],
                "winner_criteria": "only_eligible",
                "rule_hits": [{"index": 0, "name": "refund", "why": ["keyword \"refund\""]}]
            }
        })
    );
    assert_eq!(
        WhyNot::SkillTooLow {
            skill: "zh".into(),
            level: 1,
            required: 3
        }
        .to_string(),
        "zh at level 1, needs 3"
    );
}
