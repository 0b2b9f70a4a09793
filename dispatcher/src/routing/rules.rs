//! Evaluating an inbox's rules against the first message of a conversation.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::config::{
    AttributeCondition, AttributeOp, Conditions, Language, PriorityAction, RoutingConfig,
};
use super::validate::REGEX_SIZE_LIMIT;

/// What the rules look at: the first message of a new or reopened conversation.
#[derive(Clone, Copy, Debug)]
pub struct FirstMessage<'a> {
    /// The message text (may be empty for an attachment-only message).
    pub text: &'a str,
    /// The inbox's channel type, e.g. `wechat`.
    pub channel: &'a str,
    /// The contact's `attributes` object; anything else counts as no attributes.
    pub contact_attributes: &'a Value,
    /// The intent detected in the text (`kefu_ai::IntentDetector`), when one was.
    pub intent: Option<&'a str>,
}

/// What the rules decided for one conversation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutingDecision {
    /// Required skills and their minimum levels.
    pub skills: BTreeMap<String, u8>,
    /// The queue priority; higher is served first.
    pub priority: i32,
    /// The team that should handle the conversation, if a rule named one.
    pub team_id: Option<i64>,
    /// The rules that matched, in order.
    pub hits: Vec<RuleHit>,
}

/// A rule that matched, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleHit {
    /// The rule's index in `rules`.
    pub index: usize,
    /// The rule's name, if it has one.
    pub name: Option<String>,
    /// One entry per condition that held, e.g. `keyword "refund"`, `vip_level 5 >= 3`.
    pub why: Vec<String>,
}

/// Applies the inbox defaults, then every matching rule in order.
///
/// All matching rules apply, not just the first: skills are merged (the higher level wins when
/// two rules require the same skill), `raise` adds to and `set` replaces the priority as it stands
/// after the previous rules, and the last matching rule naming a team decides the team. So put
/// broad rules first and the specific ones that should have the last word after them.
///
/// Run [`RoutingConfig::validate`] when storing a configuration; here a regex that does not
/// compile simply does not match.
pub fn evaluate(config: &RoutingConfig, msg: &FirstMessage<'_>) -> RoutingDecision {
    let mut decision = RoutingDecision {
        skills: config.default_skills.clone(),
        priority: config.default_priority,
        team_id: None,
        hits: Vec::new(),
    };
    let lowered = msg.text.to_lowercase();
    let language = detect_language(msg.text);
    for (index, rule) in config.rules.iter().enumerate() {
        let Some(why) = matches(&rule.when, msg, &lowered, language) else {
            continue;
        };
        for (skill, &level) in &rule.then.skills {
            let entry = decision.skills.entry(skill.clone()).or_insert(level);
            *entry = (*entry).max(level);
        }
        match rule.then.priority {
            Some(PriorityAction::Raise(by)) => {
                decision.priority = decision.priority.saturating_add(by)
            }
            Some(PriorityAction::Set(to)) => decision.priority = to,
            None => {}
        }
        if let Some(team) = rule.then.team_id {
            decision.team_id = Some(team);
        }
        decision.hits.push(RuleHit {
            index,
            name: rule.name.clone(),
            why,
        });
    }
    decision
}

/// `Some(reasons)` when every condition holds.
fn matches(
    when: &Conditions,
    msg: &FirstMessage<'_>,
    lowered: &str,
    language: Option<Language>,
) -> Option<Vec<String>> {
    if when.is_empty() {
        return None;
    }
    let mut why = Vec::new();
    if !when.keywords.is_empty() {
        let hit = when
            .keywords
            .iter()
            .find(|k| !k.trim().is_empty() && lowered.contains(&k.to_lowercase()))?;
        why.push(format!("keyword {hit:?}"));
    }
    if let Some(pattern) = &when.regex {
        let re = regex::RegexBuilder::new(pattern)
            .size_limit(REGEX_SIZE_LIMIT)
            .build()
            .ok()?;
        if !re.is_match(msg.text) {
            return None;
        }
        why.push(format!("regex {pattern:?}"));
    }
    if let Some(channel) = &when.channel {
        if channel != msg.channel {
            return None;
        }
        why.push(format!("channel {channel}"));
    }
    for cond in &when.attributes {
        why.push(attribute_holds(cond, msg.contact_attributes)?);
    }
    if let Some(wanted) = when.language {
        if language != Some(wanted) {
            return None;
        }
        why.push(format!("language {}", language_name(wanted)));
    }
    if let Some(below) = when.sentiment_below {
        let score = kefu_ai::sentiment::analyze(msg.text).score;
        if score >= below {
            return None;
        }
        why.push(format!("sentiment {score} < {below}"));
    }
    if !when.intent.is_empty() {
        let intent = msg
            .intent
            .filter(|i| when.intent.iter().any(|w| w.as_str() == *i))?;
        why.push(format!("intent {intent}"));
    }
    Some(why)
}

fn language_name(l: Language) -> &'static str {
    match l {
        Language::Zh => "zh",
        Language::Latin => "latin",
    }
}

/// `Some(reason)` when the attribute comparison holds.
fn attribute_holds(cond: &AttributeCondition, attributes: &Value) -> Option<String> {
    let actual = attributes.get(&cond.name);
    let holds = match actual {
        None => cond.op == AttributeOp::Ne,
        Some(a) => match (as_number(a), cond.value.as_f64()) {
            (Some(x), Some(wanted)) => match (x.partial_cmp(&wanted), cond.op) {
                (None, _) => false,
                (Some(ord), AttributeOp::Eq) => ord == Ordering::Equal,
                (Some(ord), AttributeOp::Ne) => ord != Ordering::Equal,
                (Some(ord), AttributeOp::Gt) => ord == Ordering::Greater,
                (Some(ord), AttributeOp::Gte) => ord != Ordering::Less,
                (Some(ord), AttributeOp::Lt) => ord == Ordering::Less,
                (Some(ord), AttributeOp::Lte) => ord != Ordering::Greater,
            },
            _ => match cond.op {
                AttributeOp::Eq => *a == cond.value,
                AttributeOp::Ne => *a != cond.value,
                _ => false,
            },
        },
    };
    holds.then(|| {
        let shown = actual.map_or_else(|| "missing".to_owned(), Value::to_string);
        format!("{} {shown} {} {}", cond.name, cond.op.symbol(), cond.value)
    })
}

/// A number, or a string holding one (attributes imported from CSV often are strings).
fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|x| x.is_finite()),
        _ => None,
    }
}

/// The script a text is mostly written in: [`Language::Zh`] when more than half of its letters
/// are CJK Han characters, [`Language::Latin`] when more than half are Latin letters, `None` when
/// neither (no letters at all, Cyrillic, kana-heavy Japanese, an even mix). Digits, punctuation
/// and emoji are not letters and do not count.
pub fn detect_language(text: &str) -> Option<Language> {
    let (mut han, mut latin, mut letters) = (0usize, 0usize, 0usize);
    for c in text.chars() {
        if is_han(c) {
            han += 1;
            letters += 1;
        } else if c.is_alphabetic() {
            letters += 1;
            if is_latin(c) {
                latin += 1;
            }
        }
    }
    if han * 2 > letters {
        Some(Language::Zh)
    } else if latin * 2 > letters {
        Some(Language::Latin)
    } else {
        None
    }
}

fn is_han(c: char) -> bool {
    matches!(c,
        '\u{4E00}'..='\u{9FFF}'     // CJK Unified Ideographs
        | '\u{3400}'..='\u{4DBF}'   // Extension A
        | '\u{F900}'..='\u{FAFF}'   // Compatibility Ideographs
        | '\u{20000}'..='\u{2EBEF}' // Extensions B–F
        | '\u{30000}'..='\u{3134F}' // Extension G
    )
}

fn is_latin(c: char) -> bool {
    c.is_ascii_alphabetic()
        || (matches!(c, '\u{00C0}'..='\u{024F}' | '\u{1E00}'..='\u{1EFF}') && c != '×' && c != '÷')
}
