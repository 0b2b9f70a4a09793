use serde_json::json;

use crate::routing::{RoutingConfig, ValidationError};

fn errors(config: serde_json::Value) -> Vec<String> {
    let config: RoutingConfig = serde_json::from_value(config).expect("parses");
    match config.validate() {
        Ok(()) => Vec::new(),
        Err(e) => e.0.iter().map(ValidationError::to_string).collect(),
    }
}

#[test]
fn valid_configs_pass() {
    for ok in [
        json!({}),
        json!({"skills": {"support": 1, "billing": 10}, "priority": -5}),
        json!({
            "rules": [
                {"name": "vip", "when": {"attributes": [{"name": "vip_level", "op": "gte", "value": 3}]},
                 "then": {"priority": {"set": 50}}},
                {"when": {"keywords": ["退款"], "regex": "^\\d+$", "channel": "wechat", "language": "zh"},
                 "then": {"skills": {"billing": 2}, "team_id": 3}}
            ],
            "overflow": {"overflow_after_secs": 0, "fallback_team_id": 2,
                         "max_wait_secs": 60, "max_wait_message": "Still here!"},
            "sticky_window_secs": 3600
        }),
    ] {
        assert_eq!(errors(ok.clone()), Vec::<String>::new(), "{ok}");
    }
}

#[test]
fn errors_name_the_rule_and_field() {
    let cases = [
        (
            json!({"skills": {"billing": 0}}),
            vec!["skills.billing: level 0 is outside 1 to 10"],
        ),
        (
            json!({"skills": {"billing": 11}}),
            vec!["skills.billing: level 11 is outside 1 to 10"],
        ),
        (
            json!({"skills": {" ": 1}}),
            vec!["skills: skill names must be 1 to 64 bytes"],
        ),
        (
            json!({"rules": [{"when": {}, "then": {"team_id": 1}}]}),
            vec![
                "rules[0].when: a rule needs at least one condition; put unconditional settings in the inbox defaults",
            ],
        ),
        (
            json!({"rules": [{"when": {"channel": "email"}}]}),
            vec!["rules[0].then: a rule needs at least one action (skills, priority or team_id)"],
        ),
        (
            json!({"rules": [
                {"when": {"channel": "email"}, "then": {"team_id": 1}},
                {"when": {"regex": "(unclosed"}, "then": {"team_id": 1}}
            ]}),
            vec!["rules[1].when.regex: not a valid regular expression: unclosed group"],
        ),
        (
            json!({"rules": [{"when": {"keywords": ["ok", "  "]}, "then": {"skills": {"x": 12}}}]}),
            vec![
                "rules[0].when.keywords[1]: keywords must not be blank",
                "rules[0].then.skills.x: level 12 is outside 1 to 10",
            ],
        ),
        (
            json!({"rules": [{"when": {"attributes": [{"name": "vip_level", "op": ">=", "value": "3"}]},
                              "then": {"priority": {"raise": 1}}}]}),
            vec!["rules[0].when.attributes[0].value: `>=` compares numbers; give a number"],
        ),
        (
            json!({"rules": [{"when": {"channel": ""}, "then": {"team_id": 0}}]}),
            vec![
                "rules[0].when.channel: must not be blank",
                "rules[0].then.team_id: team ids are positive",
            ],
        ),
        (
            json!({"overflow": {"max_wait_secs": 60}}),
            vec!["overflow.max_wait_message: required when max_wait_secs is set"],
        ),
        (
            json!({"overflow": {"step_secs": 60, "fallback_team_id": 4}}),
            vec![
                "overflow.step_secs: needs overflow_after_secs",
                "overflow.fallback_team_id: needs overflow_after_secs",
            ],
        ),
        (
            json!({"overflow": {"overflow_after_secs": 60, "step_secs": 0}}),
            vec!["overflow.step_secs: must be at least one second"],
        ),
    ];
    for (config, expected) in cases {
        assert_eq!(errors(config.clone()), expected, "{config}");
    }
}

#[test]
fn error_carries_index_and_field() {
    let config: RoutingConfig = serde_json::from_value(json!({"rules": [
        {"when": {"channel": "email"}, "then": {"team_id": 1}},
        {"when": {"channel": "email"}, "then": {"team_id": 1}},
        {"when": {"regex": "["}, "then": {"team_id": 1}}
    ]}))
    .expect("parses");
    let err = config.validate().expect_err("invalid regex");
    assert_eq!(err.0.len(), 1);
    assert_eq!(err.0[0].rule, Some(2));
    assert_eq!(err.0[0].field, "when.regex");
    assert!(
        err.to_string()
            .starts_with("invalid routing configuration: rules[2].when.regex:")
    );
}

#[test]
fn intent_conditions_name_existing_intents() {
    assert_eq!(
        errors(
            json!({"rules": [{"when": {"intent": ["refund", "Bad Name"]}, "then": {"team_id": 1}}]})
        ),
        ["rules[0].when.intent[1]: \"Bad Name\" is not an intent name (a-z, 0-9, _ and -)"]
    );
    let config: RoutingConfig = serde_json::from_value(json!({"rules": [
        {"when": {"keywords": ["x"]}, "then": {"team_id": 1}},
        {"when": {"intent": ["refund", "refnud"]}, "then": {"team_id": 1}}
    ]}))
    .expect("parses");
    let known = ["invoice".to_owned(), "refund".to_owned()];
    let e = config.check_intents(&known).expect_err("refnud is unknown");
    assert_eq!(
        e.0.iter()
            .map(ValidationError::to_string)
            .collect::<Vec<_>>(),
        [
            "rules[1].when.intent[1]: no intent is named \"refnud\"; define it under Settings → Intents first"
        ]
    );
    config
        .check_intents(&["refnud".to_owned(), "refund".to_owned()])
        .expect("both known");
    assert!(
        serde_json::from_value::<RoutingConfig>(json!({"rules": [{"when": {"intent": 3}}]}))
            .is_err()
    );
}
