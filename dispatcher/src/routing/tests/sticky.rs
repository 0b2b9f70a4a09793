//! A returning contact goes back to their previous agent, when that agent can take them.

use std::time::Duration;

use super::{agent, at, conv, skills};
use crate::routing::{
    AgentSnapshot, PreviousAgent, QueuePolicy, QueuedConversation, WinnerCriterion, choose,
};

#[test]
fn stickiness() {
    let window = Some(Duration::from_secs(3_600));
    let billing = skills(&[("billing", 2)]);
    // Agent 1 would win on load; agent 2 handled this contact before.
    let fresh = AgentSnapshot {
        skills: billing.clone(),
        ..agent(1)
    };
    let previous = AgentSnapshot {
        active: 2,
        skills: billing.clone(),
        ..agent(2)
    };
    let cases = [
        (
            "within the window",
            window,
            -3_600,
            previous.clone(),
            Some(2),
            WinnerCriterion::PreviousAgent,
        ),
        (
            "outside the window",
            window,
            -3_601,
            previous.clone(),
            Some(1),
            WinnerCriterion::LeastLoaded,
        ),
        (
            "stickiness off",
            None,
            -10,
            previous.clone(),
            Some(1),
            WinnerCriterion::LeastLoaded,
        ),
        (
            "previous agent full",
            window,
            -10,
            AgentSnapshot {
                active: 3,
                ..previous.clone()
            },
            Some(1),
            WinnerCriterion::OnlyEligible,
        ),
        (
            "previous agent offline",
            window,
            -10,
            AgentSnapshot {
                online: false,
                ..previous.clone()
            },
            Some(1),
            WinnerCriterion::OnlyEligible,
        ),
        (
            "previous agent lacks the skill now required",
            window,
            -10,
            AgentSnapshot {
                skills: skills(&[("billing", 1)]),
                ..previous.clone()
            },
            Some(1),
            WinnerCriterion::OnlyEligible,
        ),
    ];
    for (name, sticky_window, last_contact, prev, winner, criterion) in cases {
        let c = QueuedConversation {
            required_skills: billing.clone(),
            previous_agent: Some(PreviousAgent {
                agent_id: 2,
                last_contact_at: at(last_contact),
            }),
            ..conv(1)
        };
        let policy = QueuePolicy {
            sticky_window,
            hours: None,
            ..QueuePolicy::default()
        };
        let choice = choose(&c, &[fresh.clone(), prev], at(0), &policy);
        assert_eq!(choice.agent_id, winner, "{name}");
        assert_eq!(choice.reason.winner_criteria, criterion, "{name}");
    }
}
