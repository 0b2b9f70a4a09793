//! "Try it": which rules of a routing configuration a message would match and the requirements
//! that would result, for an admin editing an inbox's routing. Uses [`evaluate`], the same
//! function that routes real conversations, so the answer cannot drift from what happens.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::config::{Language, RoutingConfig};
use super::rules::{FirstMessage, detect_language, evaluate};

/// One rule's outcome for the tried message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleTrial {
    /// The rule's index in `rules`.
    pub index: usize,
    /// The rule's name, if it has one.
    pub name: Option<String>,
    /// Whether all its conditions held.
    pub matched: bool,
    /// For a match, one entry per condition that held, e.g. `keyword "refund"`.
    pub why: Vec<String>,
}

/// What the conversation would require of an agent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TrialRequirements {
    /// Required skills and their minimum levels.
    pub skills: BTreeMap<String, u8>,
    /// The queue priority.
    pub priority: i32,
    /// The team that should handle it, if a rule named one.
    pub team_id: Option<i64>,
}

/// The outcome of trying a message against a configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Trial {
    /// Every rule, in order, matched or not.
    pub rules: Vec<RuleTrial>,
    /// The resulting requirements (defaults, then every matching rule).
    pub requirements: TrialRequirements,
    /// The script the text is mostly written in, as `language` conditions see it.
    pub language: Option<Language>,
}

/// Tries `msg` against `config`.
pub fn try_message(config: &RoutingConfig, msg: &FirstMessage<'_>) -> Trial {
    let decision = evaluate(config, msg);
    let rules = config
        .rules
        .iter()
        .enumerate()
        .map(|(index, rule)| {
            let hit = decision.hits.iter().find(|h| h.index == index);
            RuleTrial {
                index,
                name: rule.name.clone(),
                matched: hit.is_some(),
                why: hit.map(|h| h.why.clone()).unwrap_or_default(),
            }
        })
        .collect();
    Trial {
        rules,
        requirements: TrialRequirements {
            skills: decision.skills,
            priority: decision.priority,
            team_id: decision.team_id,
        },
        language: detect_language(msg.text),
    }
}

/// Why a routing configuration was refused: every problem in `detail`, and the JSON path of
/// the first one (`rules[2].when.regex`, `overflow.step_secs`) for a form to point at.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct ConfigRejection {
    /// The path of the (first) offending field, when known.
    pub field: Option<String>,
    /// Every problem, as sentences.
    pub detail: String,
}

/// Parses and validates a routing configuration as the API receives it.
pub fn parse_checked(v: Value) -> Result<RoutingConfig, ConfigRejection> {
    let config: RoutingConfig = serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        // The root is `.`; a key that is the empty string has an empty path. Neither names a
        // field a form could point at.
        let field = (path != "." && !path.is_empty()).then_some(path);
        let why = e.into_inner().to_string();
        ConfigRejection {
            detail: match &field {
                Some(f) => format!("routing: {f}: {why}"),
                None => format!("routing: {why}"),
            },
            field,
        }
    })?;
    config.validate().map_err(|errors| ConfigRejection {
        field: errors.0.first().map(|e| match e.rule {
            Some(i) => format!("rules[{i}].{}", e.field),
            None => e.field.clone(),
        }),
        detail: errors.to_string(),
    })?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn config() -> RoutingConfig {
        parse_checked(json!({
            "skills": {"support": 1},
            "rules": [
                {"name": "refunds", "when": {"keywords": ["refund", "退款"]},
                 "then": {"skills": {"billing": 3}, "priority": {"raise": 5}}},
                {"name": "vip", "when": {"attributes": [{"name": "vip", "op": "gte", "value": 3}]},
                 "then": {"team_id": 7}}
            ]
        }))
        .expect("valid")
    }

    #[test]
    fn a_keyword_rule_matches_one_text_and_not_another() {
        let attrs = json!({});
        let refund = try_message(
            &config(),
            &FirstMessage {
                text: "I want a REFUND please",
                channel: "email",
                contact_attributes: &attrs,
                intent: None,
            },
        );
        assert!(refund.rules[0].matched);
        assert_eq!(refund.rules[0].why, vec![r#"keyword "refund""#.to_owned()]);
        assert!(!refund.rules[1].matched);
        assert_eq!(
            refund.requirements.skills,
            BTreeMap::from([("billing".into(), 3), ("support".into(), 1)])
        );
        assert_eq!(refund.requirements.priority, 5);
        assert_eq!(refund.language, Some(Language::Latin));

        let vip = json!({"vip": 4});
        let other = try_message(
            &config(),
            &FirstMessage {
                text: "where is my parcel",
                channel: "email",
                contact_attributes: &vip,
                intent: None,
            },
        );
        assert!(!other.rules[0].matched);
        assert!(other.rules[1].matched);
        assert_eq!(other.requirements.team_id, Some(7));
        assert_eq!(other.requirements.priority, 0);
    }

    #[test]
    fn rejections_name_the_rule_and_field() {
        let e = parse_checked(json!({"rules": [
            {"when": {"keywords": ["a"]}, "then": {"priority": {"raise": 1}}},
            {"when": {"regex": "("}, "then": {"priority": {"raise": 1}}}
        ]}))
        .expect_err("bad regex");
        assert_eq!(e.field.as_deref(), Some("rules[1].when.regex"));
        assert!(e.detail.contains("rules[1].when.regex"), "{}", e.detail);

        let e = parse_checked(json!({"rules": [{"when": {"keywordz": ["a"]}}]}))
            .expect_err("unknown field");
        assert_eq!(
            e.field.as_deref(),
            Some("rules[0].when.keywordz"),
            "{}",
            e.detail
        );
    }

    #[test]
    fn an_empty_key_is_refused_without_an_empty_field() {
        // Found by the `routing_config` fuzz target: `field` was `""` and the detail read
        // "routing: : unknown field ``".
        let e = parse_checked(json!({"": ["refund"]})).expect_err("unknown field");
        assert_eq!(e.field, None, "{}", e.detail);
        assert!(
            e.detail.starts_with("routing: unknown field ``"),
            "{}",
            e.detail
        );
    }
}
