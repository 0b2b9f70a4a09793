use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::{agent, at, conv, skills, teams};
use crate::routing::{
    AgentSnapshot, Aging, Notice, OverflowPolicy, QueuePolicy, QueuedConversation, RoundPlan,
    plan_round,
};

fn pairs(plan: &RoundPlan) -> Vec<(i64, i64)> {
    plan.assignments
        .iter()
        .map(|a| (a.conversation_id, a.agent_id))
        .collect()
}

fn no_policies() -> BTreeMap<i64, QueuePolicy> {
    BTreeMap::new()
}

const OFF: Aging = Aging { every: None };

#[test]
fn greedy_within_capacity() {
    let queue: Vec<_> = (1..=5)
        .map(|id| QueuedConversation {
            enqueued_at: at(id),
            ..conv(id)
        })
        .collect();
    let agents = [
        AgentSnapshot {
            max_concurrent: 2,
            ..agent(1)
        },
        AgentSnapshot {
            max_concurrent: 1,
            ..agent(2)
        },
        AgentSnapshot {
            online: false,
            ..agent(3)
        },
    ];
    let plan = plan_round(&queue, &agents, &no_policies(), at(10), OFF);
    // 1 → agent 1 (full tie, lower id); 2 → agent 2 (load 0 < 1/2); 3 → agent 1 (2 is full).
    assert_eq!(pairs(&plan), vec![(1, 1), (2, 2), (3, 1)]);
    assert_eq!(plan.unassigned, vec![4, 5]);
}

#[test]
fn order_decides_who_gets_a_scarce_agent() {
    let billing = skills(&[("billing", 3)]);
    let expert = [AgentSnapshot {
        max_concurrent: 1,
        skills: skills(&[("billing", 5)]),
        ..agent(9)
    }];
    let cases = [
        // (name, queue (id, priority, enqueued), now, aging, winner)
        ("higher priority", vec![(1, 0, 0), (2, 5, 30)], 40, OFF, 2),
        ("FIFO", vec![(1, 0, 20), (2, 0, 10)], 40, OFF, 2),
        (
            "aging overtakes",
            vec![(1, 0, 0), (2, 5, 590)],
            600,
            Aging::default(),
            1,
        ),
    ];
    for (name, q, now, aging, winner) in cases {
        let queue: Vec<_> = q
            .iter()
            .map(|&(id, priority, enq)| QueuedConversation {
                priority,
                enqueued_at: at(enq),
                required_skills: billing.clone(),
                ..conv(id)
            })
            .collect();
        let plan = plan_round(&queue, &expert, &no_policies(), at(now), aging);
        assert_eq!(pairs(&plan), vec![(winner, 9)], "{name}");
        assert_eq!(plan.unassigned.len(), 1, "{name}");
    }
}

#[test]
fn an_unservable_conversation_does_not_block_the_queue() {
    let queue = [
        QueuedConversation {
            priority: 10,
            required_skills: skills(&[("fr", 1)]),
            ..conv(1)
        },
        conv(2),
    ];
    let plan = plan_round(&queue, &[agent(1)], &no_policies(), at(0), OFF);
    assert_eq!(pairs(&plan), vec![(2, 1)]);
    assert_eq!(plan.unassigned, vec![1]);
}

#[test]
fn duplicates_never_double_assign_or_double_capacity() {
    let queue = [conv(1), conv(1), conv(2)];
    let agents = [
        AgentSnapshot {
            max_concurrent: 1,
            ..agent(1)
        },
        AgentSnapshot {
            max_concurrent: 1,
            ..agent(1)
        },
    ];
    let plan = plan_round(&queue, &agents, &no_policies(), at(0), OFF);
    assert_eq!(pairs(&plan), vec![(1, 1)]);
    assert_eq!(plan.unassigned, vec![2]);
}

#[test]
fn team_fallback_in_a_round() {
    let policy = QueuePolicy {
        overflow: OverflowPolicy {
            overflow_after: Some(Duration::from_secs(60)),
            fallback_team_id: Some(2),
            ..OverflowPolicy::default()
        },
        sticky_window: None,
        hours: None,
    };
    let policies = BTreeMap::from([(1, policy)]);
    let agents = [
        AgentSnapshot {
            active: 3,
            teams: teams(&[7]),
            ..agent(1)
        },
        AgentSnapshot {
            teams: teams(&[2]),
            ..agent(2)
        },
    ];
    let queue = [QueuedConversation {
        team_id: Some(7),
        required_skills: skills(&[("billing", 4)]),
        ..conv(1)
    }];
    // (waited, expected agent): stages 0–2 keep team 7, whose only agent is full.
    for (now, expected) in [(0, None), (60, None), (120, None), (180, Some(2))] {
        let plan = plan_round(&queue, &agents, &policies, at(now), OFF);
        assert_eq!(
            plan.assignments.first().map(|a| a.agent_id),
            expected,
            "waited {now}"
        );
    }
}

#[test]
fn max_wait_notices_only_for_those_left_waiting() {
    let policy = QueuePolicy {
        overflow: OverflowPolicy {
            max_wait: Some(Duration::from_secs(300)),
            max_wait_message: Some("Still in line".into()),
            ..OverflowPolicy::default()
        },
        sticky_window: None,
        hours: None,
    };
    let policies = BTreeMap::from([(1, policy)]);
    let queue = [
        QueuedConversation {
            priority: 9,
            ..conv(1)
        }, // assigned: no notice
        conv(2), // waited long enough
        QueuedConversation {
            max_wait_notified: true,
            ..conv(3)
        }, // already told
        QueuedConversation {
            enqueued_at: at(200),
            ..conv(4)
        }, // not long enough
        QueuedConversation {
            inbox_id: 2,
            ..conv(5)
        }, // inbox without max_wait
    ];
    let agents = [AgentSnapshot {
        max_concurrent: 1,
        ..agent(1)
    }];
    let plan = plan_round(&queue, &agents, &policies, at(400), OFF);
    assert_eq!(pairs(&plan), vec![(1, 1)]);
    assert_eq!(
        plan.notices,
        vec![Notice {
            conversation_id: 2,
            message: "Still in line".into()
        }]
    );
}

/// Each of three skills with probability `p`, at a random level.
fn random_skills(rng: &mut StdRng, p: f64) -> BTreeMap<String, u8> {
    let mut out = BTreeMap::new();
    for skill in ["billing", "tech", "zh"] {
        if rng.random_bool(p) {
            out.insert(skill.to_owned(), rng.random_range(1..=10));
        }
    }
    out
}

/// Random queues and agents: the invariants the database layer relies on.
#[test]
fn random_rounds_keep_invariants() {
    for seed in 0..200 {
        let mut rng = StdRng::seed_from_u64(seed);
        let agents: Vec<AgentSnapshot> = (1..=rng.random_range(0..12))
            .map(|id| {
                let max = rng.random_range(0..4);
                AgentSnapshot {
                    online: rng.random_bool(0.8),
                    max_concurrent: max,
                    active: rng.random_range(0..=max),
                    skills: random_skills(&mut rng, 0.6),
                    teams: teams(&[rng.random_range(1..=2)]),
                    last_assigned_at: rng
                        .random_bool(0.5)
                        .then(|| at(-rng.random_range(0..1_000))),
                    ..agent(id)
                }
            })
            .collect();
        let queue: Vec<QueuedConversation> = (1..=rng.random_range(0..40))
            .map(|id| QueuedConversation {
                priority: rng.random_range(0..3),
                enqueued_at: at(-rng.random_range(0..600)),
                required_skills: random_skills(&mut rng, 0.3),
                team_id: rng.random_bool(0.2).then_some(1),
                ..conv(id)
            })
            .collect();
        let plan = plan_round(&queue, &agents, &no_policies(), at(0), Aging::default());

        let mut taken: BTreeMap<i64, u32> = BTreeMap::new();
        let mut planned = BTreeSet::new();
        for a in &plan.assignments {
            assert!(
                planned.insert(a.conversation_id),
                "seed {seed}: conversation twice"
            );
            *taken.entry(a.agent_id).or_default() += 1;
            let agent = agents
                .iter()
                .find(|x| x.id == a.agent_id)
                .expect("known agent");
            let conv = queue
                .iter()
                .find(|c| c.id == a.conversation_id)
                .expect("known conversation");
            assert!(agent.online, "seed {seed}: offline agent");
            for (skill, level) in &conv.required_skills {
                assert!(
                    agent.skills.get(skill) >= Some(level),
                    "seed {seed}: skill {skill}"
                );
            }
            if let Some(team) = conv.team_id {
                assert!(agent.teams.contains(&team), "seed {seed}: team");
            }
            assert_eq!(
                a.explanation.candidates[0].agent_id, a.agent_id,
                "seed {seed}: winner first"
            );
        }
        for (id, n) in &taken {
            let agent = agents.iter().find(|x| x.id == *id).expect("known agent");
            assert!(
                agent.active + n <= agent.max_concurrent,
                "seed {seed}: agent {id} over capacity"
            );
        }
        assert_eq!(
            planned.len() + plan.unassigned.len(),
            queue.len(),
            "seed {seed}: every conversation accounted for"
        );
        // A conversation anyone could take is left waiting only when no online capacity is left.
        let left: u32 = agents
            .iter()
            .filter(|a| a.online)
            .map(|a| a.max_concurrent - a.active - taken.get(&a.id).copied().unwrap_or(0))
            .sum();
        let open_waiting = plan
            .unassigned
            .iter()
            .filter(|id| {
                queue
                    .iter()
                    .any(|c| c.id == **id && c.required_skills.is_empty() && c.team_id.is_none())
            })
            .count();
        assert!(
            open_waiting == 0 || left == 0,
            "seed {seed}: {open_waiting} waiting with {left} free"
        );
    }
}

#[test]
fn explanations_in_a_plan_keep_the_top_candidates_and_count_the_rest() {
    // 15 eligible agents and 15 lacking the skill: the explanation keeps 10 of each, winner
    // first, and says how many it left out.
    let agents: Vec<AgentSnapshot> = (1..=30)
        .map(|id| AgentSnapshot {
            skills: if id <= 15 {
                skills(&[("billing", 2)])
            } else {
                BTreeMap::new()
            },
            ..agent(id)
        })
        .collect();
    let queue = [QueuedConversation {
        required_skills: skills(&[("billing", 1)]),
        ..conv(1)
    }];
    let plan = plan_round(&queue, &agents, &no_policies(), at(0), OFF);
    let why = &plan.assignments[0].explanation;
    assert_eq!(plan.assignments[0].agent_id, 1);
    assert_eq!(why.candidates[0].agent_id, 1, "winner first");
    let eligible = why.candidates.iter().filter(|c| c.eligible).count();
    assert_eq!(
        (
            eligible,
            why.candidates.len() - eligible,
            why.omitted_candidates
        ),
        (10, 10, 10)
    );
    let json = serde_json::to_value(why).expect("serializes");
    assert_eq!(json["omitted_candidates"], 10);
}
