//! The per-inbox routing configuration, as the API accepts it in JSON.
//!
//! ```json
//! {
//!   "skills": {"support": 1},
//!   "priority": 0,
//!   "rules": [
//!     {"name": "refunds", "when": {"keywords": ["refund", "退款"]},
//!      "then": {"skills": {"billing": 3}, "priority": {"raise": 5}}},
//!     {"name": "refund intent", "when": {"intent": "refund"}, "then": {"team_id": 3}},
//!     {"name": "vip", "when": {"attributes": [{"name": "vip_level", "op": "gte", "value": 3}]},
//!      "then": {"priority": {"set": 100}, "team_id": 7}}
//!   ],
//!   "overflow": {"overflow_after_secs": 120, "step_secs": 60, "fallback_team_id": 2,
//!                "max_wait_secs": 900, "max_wait_message": "Sorry for the wait…"},
//!   "sticky_window_secs": 86400,
//!   "allow_claim": true
//! }
//! ```
//!
//! `skills` and `priority` keep the shape inboxes already store; `default_skills` and
//! `default_priority` are accepted as aliases. Unknown fields are rejected so a typo does not
//! silently disable a rule. Structural checks live in [`RoutingConfig::validate`].

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::secs;

/// How an inbox routes its conversations.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingConfig {
    /// Skills every conversation of the inbox requires: `{name: minimum level}` (levels 1–10).
    #[serde(rename = "skills", alias = "default_skills", default)]
    pub default_skills: BTreeMap<String, u8>,
    /// Priority of a new conversation before rules apply; higher is served first.
    #[serde(rename = "priority", alias = "default_priority", default)]
    pub default_priority: i32,
    /// Ordered rules; every matching rule applies, in order.
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// How requirements widen while a conversation waits.
    #[serde(default)]
    pub overflow: OverflowPolicy,
    /// How long after the last conversation with an agent a returning contact goes back to that
    /// agent (when eligible). `None` turns stickiness off.
    #[serde(rename = "sticky_window_secs", with = "secs::opt", default)]
    pub sticky_window: Option<Duration>,
    /// Whether agents may take queued conversations of this inbox themselves
    /// (`POST /api/v1/conversations/{id}/claim`); supervisors always can assign.
    #[serde(default)]
    pub allow_claim: bool,
}

/// One routing rule: when all its conditions hold, its actions apply.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// A label shown in routing explanations.
    #[serde(default)]
    pub name: Option<String>,
    /// Conditions; all given ones must hold. At least one is required.
    #[serde(default)]
    pub when: Conditions,
    /// What the rule does when it matches. At least one action is required.
    #[serde(default)]
    pub then: RuleActions,
}

/// The conditions of a [`Rule`]. Absent conditions are not checked; present ones must all hold.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conditions {
    /// Any of these occurs in the first message, case-insensitively, as a substring (so it works
    /// for scripts without spaces between words, such as Chinese).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    /// A regular expression (Rust `regex` syntax, linear time) that finds a match in the first
    /// message. Use `(?i)` for case-insensitive matching.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    /// The inbox's channel type equals this (`web_chat`, `wechat`, `wecom_kf`, `email`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Comparisons on the contact's attributes; all must hold.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<AttributeCondition>,
    /// The script the first message is mostly written in (see [`detect_language`](super::detect_language)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<Language>,
    /// The first message's sentiment (−1 angry to 1 happy, see `kefu_ai::sentiment`) is below
    /// this, e.g. `-0.5` for complaints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sentiment_below: Option<f32>,
    /// The intent detected in the first message (see `kefu_ai::IntentDetector`) is this one,
    /// or one of these: `"refund"` or `["refund", "cancel_order"]`. Intents are defined under
    /// `/api/v1/intents`; a message with no clear intent matches no `intent` condition.
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub intent: Vec<String>,
}

/// A string or a list of strings.
fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged, expecting = "an intent name or a list of intent names")]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

impl Conditions {
    /// Whether no condition is set (such a rule would match everything).
    pub fn is_empty(&self) -> bool {
        self.keywords.is_empty()
            && self.regex.is_none()
            && self.channel.is_none()
            && self.attributes.is_empty()
            && self.language.is_none()
            && self.sentiment_below.is_none()
            && self.intent.is_empty()
    }
}

/// A comparison on one contact attribute, e.g. `{"name": "vip_level", "op": "gte", "value": 3}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeCondition {
    /// The attribute's key in the contact's `attributes` object.
    pub name: String,
    /// How to compare.
    pub op: AttributeOp,
    /// The value to compare with; a number for the ordering operators.
    pub value: serde_json::Value,
}

/// A comparison operator. Numbers compare numerically (a numeric string attribute such as `"3"`
/// counts as a number); `eq`/`ne` otherwise compare JSON values exactly. A missing attribute
/// satisfies only `ne`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttributeOp {
    /// Equal (`==`).
    #[serde(alias = "==")]
    Eq,
    /// Not equal (`!=`).
    #[serde(alias = "!=")]
    Ne,
    /// Greater than (`>`).
    #[serde(alias = ">")]
    Gt,
    /// Greater than or equal (`>=`).
    #[serde(alias = ">=")]
    Gte,
    /// Less than (`<`).
    #[serde(alias = "<")]
    Lt,
    /// Less than or equal (`<=`).
    #[serde(alias = "<=")]
    Lte,
}

impl AttributeOp {
    /// The operator as written in explanations.
    pub fn symbol(self) -> &'static str {
        match self {
            Self::Eq => "==",
            Self::Ne => "!=",
            Self::Gt => ">",
            Self::Gte => ">=",
            Self::Lt => "<",
            Self::Lte => "<=",
        }
    }

    /// Whether the operator needs a numeric value.
    pub fn is_ordering(self) -> bool {
        matches!(self, Self::Gt | Self::Gte | Self::Lt | Self::Lte)
    }
}

/// The script a text is mostly written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    /// Mostly CJK Han characters (Chinese).
    Zh,
    /// Mostly Latin letters.
    Latin,
}

/// What a matching [`Rule`] does.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleActions {
    /// Skills to require: `{name: minimum level}`. Where a skill is already required, the higher
    /// level wins.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub skills: BTreeMap<String, u8>,
    /// How to change the priority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<PriorityAction>,
    /// The team that should handle the conversation; a later matching rule overrides it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_id: Option<i64>,
}

impl RuleActions {
    /// Whether the rule does nothing.
    pub fn is_empty(&self) -> bool {
        self.skills.is_empty() && self.priority.is_none() && self.team_id.is_none()
    }
}

/// A change of priority: `{"raise": 5}` adds 5, `{"set": 100}` replaces it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum PriorityAction {
    /// Add this amount (saturating).
    Raise(i32),
    /// Replace the priority with this value.
    Set(i32),
}

/// How requirements widen while a conversation waits (see [`stage`](super::stage)).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverflowPolicy {
    /// Waiting time before the first stage (any level of the required skills). `None`: never
    /// widen.
    #[serde(rename = "overflow_after_secs", with = "secs::opt", default)]
    pub overflow_after: Option<Duration>,
    /// Time between later stages; defaults to `overflow_after`.
    #[serde(rename = "step_secs", with = "secs::opt", default)]
    pub step: Option<Duration>,
    /// The team that may also take the conversation in the last stage.
    #[serde(default)]
    pub fallback_team_id: Option<i64>,
    /// Waiting time after which the customer is told (once) that they are still in the queue.
    #[serde(rename = "max_wait_secs", with = "secs::opt", default)]
    pub max_wait: Option<Duration>,
    /// The text sent to the customer after `max_wait`; required when `max_wait` is set.
    #[serde(default)]
    pub max_wait_message: Option<String>,
}
