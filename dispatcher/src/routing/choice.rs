//! Choosing an agent for one conversation, with an explanation of the choice.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::overflow::{OverflowStage, effective_requirements, stage};
use super::queue::{QueuePolicy, QueuedConversation};
use super::rules::RuleHit;

/// An agent as the dispatcher sees them at decision time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentSnapshot {
    /// The agent id.
    pub id: i64,
    /// Whether their status is `online` (`away` and `offline` take no new conversations).
    pub online: bool,
    /// Their skills and levels (1–10).
    pub skills: BTreeMap<String, u8>,
    /// Conversations currently assigned to them and not resolved.
    pub active: u32,
    /// How many conversations they take at once.
    pub max_concurrent: u32,
    /// When they were last assigned a conversation; `None` if never.
    pub last_assigned_at: Option<DateTime<Utc>>,
    /// The teams they belong to.
    pub teams: BTreeSet<i64>,
}

/// What an agent must satisfy to take a conversation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requirements {
    /// Skills the agent must hold, at or above these levels.
    pub skills: BTreeMap<String, u8>,
    /// The agent must belong to one of these teams; empty means any agent.
    pub teams: Vec<i64>,
    /// Skills that count towards proficiency even when overflow no longer requires them, so a
    /// widened pool still prefers whoever knows the subject best.
    pub preferred_skills: Vec<String>,
}

/// Why an agent could not take the conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum WhyNot {
    /// Not `online`.
    Offline,
    /// Already at `max_concurrent`.
    AtCapacity {
        /// Conversations they hold.
        active: u32,
        /// Their capacity.
        max_concurrent: u32,
    },
    /// Not in any of the required teams.
    NotInTeam {
        /// The teams that may take it.
        teams: Vec<i64>,
    },
    /// Lacks a required skill.
    MissingSkill {
        /// The skill.
        skill: String,
    },
    /// Holds a required skill below the required level.
    SkillTooLow {
        /// The skill.
        skill: String,
        /// Their level.
        level: u8,
        /// The required level.
        required: u8,
    },
}

impl fmt::Display for WhyNot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Offline => f.write_str("offline"),
            Self::AtCapacity {
                active,
                max_concurrent,
            } => {
                write!(f, "at capacity ({active}/{max_concurrent})")
            }
            Self::NotInTeam { teams } => write!(f, "not in team {teams:?}"),
            Self::MissingSkill { skill } => write!(f, "lacks skill {skill}"),
            Self::SkillTooLow {
                skill,
                level,
                required,
            } => {
                write!(f, "{skill} at level {level}, needs {required}")
            }
        }
    }
}

/// One agent as considered for a conversation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CandidateScore {
    /// The agent id.
    pub agent_id: i64,
    /// Whether they could take it.
    pub eligible: bool,
    /// Why not, when not eligible.
    pub why_not: Option<WhyNot>,
    /// `active / max_concurrent` (1 when the capacity is zero); lower wins.
    pub load: f64,
    /// Sum of their levels on the required (and preferred) skills; higher wins.
    pub proficiency: u32,
    /// Seconds since their last assignment, `None` if never assigned (which wins).
    pub idle_secs: Option<i64>,
}

/// What decided the choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WinnerCriterion {
    /// Nobody was eligible; the conversation stays queued.
    NoEligibleAgent,
    /// The returning contact's previous agent, within the sticky window.
    PreviousAgent,
    /// Only one agent was eligible.
    OnlyEligible,
    /// Lower load than the runner-up.
    LeastLoaded,
    /// Same load, more proficient.
    MostProficient,
    /// Same load and proficiency, idle longer.
    LongestIdle,
    /// A full tie, broken by the lower agent id.
    LowestId,
}

/// Why a conversation went (or did not go) to an agent; shown by
/// `GET /api/v1/conversations/{id}/routing`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// The overflow stage at decision time.
    pub stage: OverflowStage,
    /// The requirements in that stage.
    pub requirements: Requirements,
    /// Every agent considered: eligible ones in ranking order (the winner first), then the
    /// others by id.
    pub candidates: Vec<CandidateScore>,
    /// What decided between the winner and the runner-up.
    pub winner_criteria: WinnerCriterion,
    /// The routing rules that shaped the requirements.
    pub rule_hits: Vec<RuleHit>,
    /// Candidates left out of `candidates` to keep the explanation small (see
    /// [`Explanation::truncate_candidates`]); absent when none were.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub omitted_candidates: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Explanation {
    /// Keeps the first `eligible` eligible candidates (the winner and the runners-up) and the
    /// first `ineligible` others, counting the rest in `omitted_candidates`. With a thousand
    /// agents online a full list would make every stored explanation tens of kilobytes.
    pub fn truncate_candidates(&mut self, eligible: usize, ineligible: usize) {
        let before = self.candidates.len();
        let (mut e, mut i) = (0, 0);
        self.candidates.retain(|c| {
            let keep = if c.eligible {
                e < eligible
            } else {
                i < ineligible
            };
            if c.eligible {
                e += 1;
            } else {
                i += 1;
            }
            keep
        });
        self.omitted_candidates += before - self.candidates.len();
    }
}

/// The outcome of [`choose`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    /// The chosen agent; `None` leaves the conversation queued.
    pub agent_id: Option<i64>,
    /// Why.
    pub reason: Explanation,
}

/// Chooses an agent for a queued conversation at `now`: computes the overflow stage and its
/// requirements, honours stickiness, then ranks the eligible agents.
pub fn choose(
    conv: &QueuedConversation,
    agents: &[AgentSnapshot],
    now: DateTime<Utc>,
    policy: &QueuePolicy,
) -> Choice {
    let stage = stage(policy.waited(conv, now), &policy.overflow);
    let requirements = effective_requirements(conv, stage, &policy.overflow);
    let preferred = conv.previous_agent.and_then(|p| {
        let window = chrono::Duration::from_std(policy.sticky_window?).ok()?;
        (now - p.last_contact_at <= window).then_some(p.agent_id)
    });
    let mut choice = choose_with(requirements, preferred, agents, now);
    choice.reason.stage = stage;
    choice.reason.rule_hits = conv.rule_hits.clone();
    choice
}

/// Chooses an agent for explicit requirements (a transfer to a skill set or a team), preferring
/// `preferred` when that agent is eligible.
pub fn choose_with(
    requirements: Requirements,
    preferred: Option<i64>,
    agents: &[AgentSnapshot],
    now: DateTime<Utc>,
) -> Choice {
    let mut eligible: Vec<(&AgentSnapshot, CandidateScore)> = Vec::new();
    let mut ineligible: Vec<CandidateScore> = Vec::new();
    for agent in agents {
        let score = score(agent, &requirements, now);
        if score.eligible {
            eligible.push((agent, score));
        } else {
            ineligible.push(score);
        }
    }
    eligible.sort_by(|(a, sa), (b, sb)| rank(a, sa, b, sb));
    ineligible.sort_by_key(|c| c.agent_id);

    let sticky = preferred.and_then(|p| eligible.iter().position(|(a, _)| a.id == p));
    let criterion = match (sticky, eligible.as_slice()) {
        (_, []) => WinnerCriterion::NoEligibleAgent,
        (Some(_), _) => WinnerCriterion::PreviousAgent,
        (None, [_]) => WinnerCriterion::OnlyEligible,
        (None, [(a, sa), (b, sb), ..]) => deciding(a, sa, b, sb),
    };
    if let Some(i) = sticky {
        let winner = eligible.remove(i);
        eligible.insert(0, winner);
    }
    let agent_id = eligible.first().map(|(a, _)| a.id);
    let mut candidates: Vec<CandidateScore> = eligible.into_iter().map(|(_, s)| s).collect();
    candidates.extend(ineligible);
    Choice {
        agent_id,
        reason: Explanation {
            stage: OverflowStage::Normal,
            requirements,
            candidates,
            winner_criteria: criterion,
            rule_hits: Vec::new(),
            omitted_candidates: 0,
        },
    }
}

/// Why `agent` cannot take a conversation with `req`, if they cannot.
pub(crate) fn why_not(agent: &AgentSnapshot, req: &Requirements) -> Option<WhyNot> {
    if !agent.online {
        return Some(WhyNot::Offline);
    }
    if agent.active >= agent.max_concurrent {
        return Some(WhyNot::AtCapacity {
            active: agent.active,
            max_concurrent: agent.max_concurrent,
        });
    }
    if !req.teams.is_empty() && !req.teams.iter().any(|t| agent.teams.contains(t)) {
        return Some(WhyNot::NotInTeam {
            teams: req.teams.clone(),
        });
    }
    for (skill, &required) in &req.skills {
        match agent.skills.get(skill) {
            None => {
                return Some(WhyNot::MissingSkill {
                    skill: skill.clone(),
                });
            }
            Some(&level) if level < required => {
                return Some(WhyNot::SkillTooLow {
                    skill: skill.clone(),
                    level,
                    required,
                });
            }
            Some(_) => {}
        }
    }
    None
}

fn score(agent: &AgentSnapshot, req: &Requirements, now: DateTime<Utc>) -> CandidateScore {
    let why_not = why_not(agent, req);
    let level = |s: &str| u32::from(agent.skills.get(s).copied().unwrap_or(0));
    let proficiency = req.skills.keys().map(|s| level(s)).sum::<u32>()
        + req
            .preferred_skills
            .iter()
            .filter(|s| !req.skills.contains_key(*s))
            .map(|s| level(s))
            .sum::<u32>();
    CandidateScore {
        agent_id: agent.id,
        eligible: why_not.is_none(),
        why_not,
        load: if agent.max_concurrent == 0 {
            1.0
        } else {
            f64::from(agent.active) / f64::from(agent.max_concurrent)
        },
        proficiency,
        idle_secs: agent
            .last_assigned_at
            .map(|t| (now - t).num_seconds().max(0)),
    }
}

/// Load compared exactly (`a.active/a.max` vs `b.active/b.max` by cross-multiplying).
fn by_load(a: &AgentSnapshot, b: &AgentSnapshot) -> Ordering {
    let lhs = u64::from(a.active) * u64::from(b.max_concurrent.max(1));
    let rhs = u64::from(b.active) * u64::from(a.max_concurrent.max(1));
    lhs.cmp(&rhs)
}

/// Never assigned first, then the oldest assignment.
fn by_idle(a: &AgentSnapshot, b: &AgentSnapshot) -> Ordering {
    match (a.last_assigned_at, b.last_assigned_at) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => x.cmp(&y),
    }
}

/// The ranking: `Less` means `a` is the better choice.
fn rank(
    a: &AgentSnapshot,
    sa: &CandidateScore,
    b: &AgentSnapshot,
    sb: &CandidateScore,
) -> Ordering {
    by_load(a, b)
        .then(sb.proficiency.cmp(&sa.proficiency))
        .then(by_idle(a, b))
        .then(a.id.cmp(&b.id))
}

/// The first ranking criterion on which the winner beats the runner-up.
fn deciding(
    a: &AgentSnapshot,
    sa: &CandidateScore,
    b: &AgentSnapshot,
    sb: &CandidateScore,
) -> WinnerCriterion {
    if by_load(a, b) != Ordering::Equal {
        WinnerCriterion::LeastLoaded
    } else if sa.proficiency != sb.proficiency {
        WinnerCriterion::MostProficient
    } else if by_idle(a, b) != Ordering::Equal {
        WinnerCriterion::LongestIdle
    } else {
        WinnerCriterion::LowestId
    }
}
