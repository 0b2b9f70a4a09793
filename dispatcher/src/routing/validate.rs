//! Structural checks of a [`RoutingConfig`], run by the API before it stores one.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::config::{Conditions, RoutingConfig, RuleActions};

/// Skill levels run from 1 (basic) to 10 (expert), as on agents.
pub(crate) const MAX_LEVEL: u8 = 10;
const MAX_RULES: usize = 200;
const MAX_NAME_LEN: usize = 64;
const MAX_REGEX_LEN: usize = 1_000;
/// Compiled-program size cap, so a pathological pattern cannot eat memory.
pub(crate) const REGEX_SIZE_LIMIT: usize = 1 << 20;
const MAX_MESSAGE_LEN: usize = 2_000;

/// One problem in a routing configuration, located by rule index and field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ValidationError {
    /// The index of the offending rule in `rules`, when the problem is in a rule.
    pub rule: Option<usize>,
    /// The field, as a JSON path relative to the rule (or to the config), e.g. `when.regex`.
    pub field: String,
    /// What is wrong, as a sentence.
    pub problem: String,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.rule {
            Some(i) => write!(f, "rules[{i}].{}: {}", self.field, self.problem),
            None => write!(f, "{}: {}", self.field, self.problem),
        }
    }
}

/// Every problem found in a routing configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("invalid routing configuration: {}", join(.0))]
pub struct ValidationErrors(pub Vec<ValidationError>);

fn join(errors: &[ValidationError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Collects errors with the current rule index.
struct Checker {
    rule: Option<usize>,
    errors: Vec<ValidationError>,
}

impl Checker {
    fn fail(&mut self, field: impl Into<String>, problem: impl Into<String>) {
        self.errors.push(ValidationError {
            rule: self.rule,
            field: field.into(),
            problem: problem.into(),
        });
    }

    fn skills(&mut self, field: &str, skills: &BTreeMap<String, u8>) {
        for (name, level) in skills {
            if name.trim().is_empty() || name.len() > MAX_NAME_LEN {
                self.fail(
                    field,
                    format!("skill names must be 1 to {MAX_NAME_LEN} bytes"),
                );
            }
            if !(1..=MAX_LEVEL).contains(level) {
                self.fail(
                    format!("{field}.{name}"),
                    format!("level {level} is outside 1 to {MAX_LEVEL}"),
                );
            }
        }
    }

    fn team(&mut self, field: &str, team: Option<i64>) {
        if team.is_some_and(|t| t <= 0) {
            self.fail(field, "team ids are positive");
        }
    }

    fn conditions(&mut self, when: &Conditions) {
        if when.is_empty() {
            self.fail(
                "when",
                "a rule needs at least one condition; put unconditional settings in the inbox defaults",
            );
        }
        for (k, keyword) in when.keywords.iter().enumerate() {
            if keyword.trim().is_empty() {
                self.fail(format!("when.keywords[{k}]"), "keywords must not be blank");
            }
        }
        if let Some(pattern) = &when.regex {
            if pattern.len() > MAX_REGEX_LEN {
                self.fail("when.regex", format!("longer than {MAX_REGEX_LEN} bytes"));
            } else if let Err(e) = regex::RegexBuilder::new(pattern)
                .size_limit(REGEX_SIZE_LIMIT)
                .build()
            {
                // The regex error spans several lines with a caret; its last line says what.
                let why = e.to_string();
                let why = why.lines().last().unwrap_or("invalid").trim();
                let why = why.strip_prefix("error: ").unwrap_or(why);
                self.fail(
                    "when.regex",
                    format!("not a valid regular expression: {why}"),
                );
            }
        }
        if when
            .sentiment_below
            .is_some_and(|s| !(s.is_finite() && (-1.0..=1.0).contains(&s)))
        {
            self.fail("when.sentiment_below", "must be a number from -1 to 1");
        }
        for (k, intent) in when.intent.iter().enumerate() {
            if !kefu_normalizer::intents::is_slug(intent) {
                self.fail(
                    format!("when.intent[{k}]"),
                    format!("{intent:?} is not an intent name (a-z, 0-9, _ and -)"),
                );
            }
        }
        if when.channel.as_deref().is_some_and(|c| c.trim().is_empty()) {
            self.fail("when.channel", "must not be blank");
        }
        for (a, cond) in when.attributes.iter().enumerate() {
            if cond.name.trim().is_empty() {
                self.fail(format!("when.attributes[{a}].name"), "must not be blank");
            }
            if cond.op.is_ordering() && !cond.value.is_number() {
                self.fail(
                    format!("when.attributes[{a}].value"),
                    format!("`{}` compares numbers; give a number", cond.op.symbol()),
                );
            }
        }
    }

    fn actions(&mut self, then: &RuleActions) {
        if then.is_empty() {
            self.fail(
                "then",
                "a rule needs at least one action (skills, priority or team_id)",
            );
        }
        self.skills("then.skills", &then.skills);
        self.team("then.team_id", then.team_id);
    }
}

impl RoutingConfig {
    /// Checks that every `when.intent` names one of `known` (the stored intents' names), so a
    /// typo is refused rather than silently never matching. The API runs it after
    /// [`Self::validate`].
    pub fn check_intents(&self, known: &[String]) -> Result<(), ValidationErrors> {
        let mut c = Checker {
            rule: None,
            errors: Vec::new(),
        };
        for (i, rule) in self.rules.iter().enumerate() {
            c.rule = Some(i);
            for (k, intent) in rule.when.intent.iter().enumerate() {
                if !known.contains(intent) {
                    c.fail(
                        format!("when.intent[{k}]"),
                        format!("no intent is named {intent:?}; define it under Settings → Intents first"),
                    );
                }
            }
        }
        if c.errors.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors(c.errors))
        }
    }

    /// Checks everything the type system does not: skill levels 1–10, regexes that compile,
    /// numeric values for ordering comparisons, rules with at least one condition and one action,
    /// a message when `max_wait` is set. Reports every problem, not just the first.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut c = Checker {
            rule: None,
            errors: Vec::new(),
        };
        c.skills("skills", &self.default_skills);
        if self.rules.len() > MAX_RULES {
            c.fail("rules", format!("at most {MAX_RULES} rules"));
        }
        let o = &self.overflow;
        c.team("overflow.fallback_team_id", o.fallback_team_id);
        if o.step.is_some() && o.overflow_after.is_none() {
            c.fail("overflow.step_secs", "needs overflow_after_secs");
        }
        if o.step.is_some_and(|s| s.is_zero()) {
            c.fail("overflow.step_secs", "must be at least one second");
        }
        if o.fallback_team_id.is_some() && o.overflow_after.is_none() {
            c.fail("overflow.fallback_team_id", "needs overflow_after_secs");
        }
        match (&o.max_wait, o.max_wait_message.as_deref().map(str::trim)) {
            (Some(_), None | Some("")) => {
                c.fail(
                    "overflow.max_wait_message",
                    "required when max_wait_secs is set",
                );
            }
            (_, Some(m)) if m.chars().count() > MAX_MESSAGE_LEN => {
                c.fail(
                    "overflow.max_wait_message",
                    format!("longer than {MAX_MESSAGE_LEN} characters"),
                );
            }
            _ => {}
        }
        for (i, rule) in self.rules.iter().enumerate() {
            c.rule = Some(i);
            if rule.name.as_deref().is_some_and(|n| n.len() > MAX_NAME_LEN) {
                c.fail("name", format!("longer than {MAX_NAME_LEN} bytes"));
            }
            c.conditions(&rule.when);
            c.actions(&rule.then);
        }
        if c.errors.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors(c.errors))
        }
    }
}
