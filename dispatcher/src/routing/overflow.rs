//! Overflow: widening a waiting conversation's requirements in stages.
//!
//! With `overflow_after = A` and `step = S` (default `A`), a conversation that has waited `w`:
//!
//! | waited            | stage                          | skills          | teams                     |
//! |-------------------|--------------------------------|-----------------|---------------------------|
//! | `w < A`           | [`OverflowStage::Normal`]      | as required     | its team, if any          |
//! | `A ≤ w < A+S`     | [`OverflowStage::AnyLevel`]    | same, level 1   | its team, if any          |
//! | `A+S ≤ w < A+2S`  | [`OverflowStage::AnySkill`]    | none            | its team, if any          |
//! | `A+2S ≤ w`        | [`OverflowStage::FallbackTeam`]| none            | its team or the fallback  |
//!
//! `w` is business time when the inbox keeps a schedule ([`QueuePolicy::waited`]): only the
//! schedule's open time since the conversation queued counts, so a conversation queued before a
//! closed night, weekend or holiday reaches `A` after `A` of open time, not at opening time.
//! Without a schedule it is wall-clock time since `enqueued_at`. `max_wait` counts the same way.
//!
//! Without a `fallback_team_id` the last stage is `AnySkill`. A conversation with no team can
//! already go to any agent at `AnySkill`, so the fallback team adds nobody for it.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::choice::Requirements;
use super::config::OverflowPolicy;
#[cfg(doc)]
use super::queue::QueuePolicy;
use super::queue::QueuedConversation;

/// How far a conversation's requirements have widened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverflowStage {
    /// The requirements as routed.
    Normal,
    /// Stage 1: every required skill at level 1.
    AnyLevel,
    /// Stage 2: no required skills.
    AnySkill,
    /// Stage 3: no required skills, and the fallback team may take it too.
    FallbackTeam,
}

/// The stage a conversation is in after waiting `waited` (see the module table; the caller
/// measures `waited` with [`QueuePolicy::waited`]).
pub fn stage(waited: Duration, policy: &OverflowPolicy) -> OverflowStage {
    let Some(after) = policy.overflow_after else {
        return OverflowStage::Normal;
    };
    let Some(beyond) = waited.checked_sub(after) else {
        return OverflowStage::Normal;
    };
    let step = policy.step.unwrap_or(after).as_nanos();
    // A zero step (only reachable with `overflow_after = 0` and no step) widens all the way.
    let steps = beyond.as_nanos().checked_div(step).unwrap_or(u128::MAX);
    match steps {
        0 => OverflowStage::AnyLevel,
        1 => OverflowStage::AnySkill,
        _ if policy.fallback_team_id.is_some() => OverflowStage::FallbackTeam,
        _ => OverflowStage::AnySkill,
    }
}

/// The skills and teams an agent must satisfy for `conv` in `stage`.
pub fn effective_requirements(
    conv: &QueuedConversation,
    stage: OverflowStage,
    policy: &OverflowPolicy,
) -> Requirements {
    let own_team: Vec<i64> = conv.team_id.into_iter().collect();
    let preferred_skills: Vec<String> = conv.required_skills.keys().cloned().collect();
    match stage {
        OverflowStage::Normal => Requirements {
            skills: conv.required_skills.clone(),
            teams: own_team,
            preferred_skills,
        },
        OverflowStage::AnyLevel => Requirements {
            skills: conv
                .required_skills
                .keys()
                .map(|k| (k.clone(), 1))
                .collect(),
            teams: own_team,
            preferred_skills,
        },
        OverflowStage::AnySkill => Requirements {
            skills: Default::default(),
            teams: own_team,
            preferred_skills,
        },
        OverflowStage::FallbackTeam => {
            let mut teams = own_team;
            // An empty list already means any team; adding the fallback would narrow it.
            if let Some(fallback) = policy.fallback_team_id
                && !teams.is_empty()
                && !teams.contains(&fallback)
            {
                teams.push(fallback);
            }
            Requirements {
                skills: Default::default(),
                teams,
                preferred_skills,
            }
        }
    }
}

/// The message to send the customer when `conv` has waited (`waited`, measured with
/// [`QueuePolicy::waited`]) past `max_wait` and has not been told yet. The caller sends it, marks the conversation notified with a conditional update (so
/// two nodes send it once), and leaves the conversation queued.
pub fn max_wait_notice<'p>(
    conv: &QueuedConversation,
    waited: Duration,
    policy: &'p OverflowPolicy,
) -> Option<&'p str> {
    let max_wait = policy.max_wait?;
    if conv.max_wait_notified || waited < max_wait {
        return None;
    }
    policy
        .max_wait_message
        .as_deref()
        .filter(|m| !m.trim().is_empty())
}
