//! The skill-based routing policy: pure functions from plain data to decisions.
//!
//! Nothing here touches the database, the clock or the network. The caller loads inboxes,
//! conversations and agents, calls these functions with an explicit `now`, and applies the
//! result with conditional updates (`UPDATE … WHERE status = 'queued' AND assignee_id IS NULL`,
//! `… WHERE active < max_concurrent`), so a plan computed from a stale snapshot can lose a race
//! but never break an invariant.
//!
//! # The policy, step by step
//!
//! 1. **Rules** ([`RoutingConfig`], [`evaluate`]). Each inbox has default required skills and a
//!    default priority, plus ordered rules. Every rule whose conditions all hold applies, in
//!    order: skills are merged (the higher level wins), priority is raised or set, and the last
//!    matching rule that names a team sets the team. The decision records which rules hit and why.
//! 2. **Queue order** ([`order_queue`], [`effective_priority`]). Higher effective priority first,
//!    then first in, first out, then the lower conversation id. Effective priority is
//!    `priority + floor(waited / aging.every)`: one point per aging interval, so a low-priority
//!    conversation eventually overtakes newer high-priority ones and nothing starves. Two
//!    conversations of the same priority age at the same rate, so aging never breaks FIFO among
//!    them.
//! 3. **Overflow** ([`stage`], [`effective_requirements`]). After `overflow_after` of waiting the
//!    requirements widen one stage per `overflow_step`: any level of the required skills, then
//!    no skills, then the fallback team as well as the conversation's own team. After `max_wait`
//!    the customer is sent a message once ([`max_wait_notice`]); the conversation stays queued.
//!    When the inbox keeps business hours, both timers count only its open time
//!    ([`QueuePolicy::waited`]): waiting over a closed weekend does not overflow on Monday.
//! 4. **Agent choice** ([`choose`]). An agent is eligible when online, below `max_concurrent`,
//!    holding every required skill at or above its level and, when a team is required, in one of
//!    the allowed teams. A returning contact gets their previous agent when that agent is eligible
//!    and the previous contact is within the inbox's sticky window. Otherwise the least loaded
//!    (`active / max_concurrent`), then the most proficient (sum of levels on the required skills),
//!    then the longest idle agent wins (never assigned counts as idle forever), then the lowest id.
//!    The [`Explanation`] lists every candidate with its scores or why it was not eligible.
//! 5. **A round** ([`plan_round`]). Conversations are taken in queue order and assigned greedily;
//!    each assignment counts against the agent's capacity for the rest of the round, and a
//!    conversation appears at most once in the plan.

mod choice;
mod config;
mod overflow;
mod plan;
pub(crate) mod queue;
mod rules;
mod secs;
mod trial;
mod validate;

#[cfg(test)]
mod tests;

pub use choice::{
    AgentSnapshot, CandidateScore, Choice, Explanation, Requirements, WhyNot, WinnerCriterion,
    choose, choose_with,
};
pub use config::{
    AttributeCondition, AttributeOp, Conditions, Language, OverflowPolicy, PriorityAction,
    RoutingConfig, Rule, RuleActions,
};
pub use overflow::{OverflowStage, effective_requirements, max_wait_notice, stage};
pub use plan::{Assignment, EXPLAINED_CANDIDATES, Notice, RoundPlan, plan_round};
pub use queue::{
    Aging, PreviousAgent, QueuePolicy, QueuedConversation, effective_priority, order_queue,
};
pub use rules::{FirstMessage, RoutingDecision, RuleHit, detect_language, evaluate};
pub use trial::{ConfigRejection, RuleTrial, Trial, TrialRequirements, parse_checked, try_message};
pub use validate::{ValidationError, ValidationErrors};
