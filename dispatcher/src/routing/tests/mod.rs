//! Table-driven tests of the routing policy, one file per piece, with shared builders.

mod business;
mod choice;
mod overflow;
mod plan;
mod queue;
mod rules;
mod sticky;
mod validate;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use super::{AgentSnapshot, QueuedConversation};

/// `secs` seconds after a fixed instant.
fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000 + secs, 0).expect("in range")
}

fn skills(list: &[(&str, u8)]) -> BTreeMap<String, u8> {
    list.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

fn teams(list: &[i64]) -> BTreeSet<i64> {
    list.iter().copied().collect()
}

/// An online agent with capacity 3, no skills, no teams, never assigned.
fn agent(id: i64) -> AgentSnapshot {
    AgentSnapshot {
        id,
        online: true,
        skills: BTreeMap::new(),
        active: 0,
        max_concurrent: 3,
        last_assigned_at: None,
        teams: BTreeSet::new(),
    }
}

/// A conversation of inbox 1, priority 0, enqueued at `at(0)`, with no requirements.
fn conv(id: i64) -> QueuedConversation {
    QueuedConversation {
        id,
        inbox_id: 1,
        priority: 0,
        enqueued_at: at(0),
        required_skills: BTreeMap::new(),
        team_id: None,
        previous_agent: None,
        max_wait_notified: false,
        rule_hits: Vec::new(),
    }
}
