use serde_json::{Value, json};

use super::skills;
use crate::routing::{FirstMessage, Language, RoutingConfig, detect_language, evaluate};

/// An inbox config with one rule per interesting condition.
fn config() -> RoutingConfig {
    serde_json::from_value(json!({
        "skills": {"support": 1},
        "priority": 10,
        "rules": [
            {"name": "refund", "when": {"keywords": ["Refund", "退款"]},
             "then": {"skills": {"billing": 3}, "priority": {"raise": 5}}},
            {"name": "order", "when": {"regex": "(?i)order\\s*#\\d+"},
             "then": {"skills": {"orders": 2}}},
            {"name": "vip", "when": {"attributes": [{"name": "vip_level", "op": ">=", "value": 3}]},
             "then": {"priority": {"set": 100}, "team_id": 7}},
            {"name": "chinese", "when": {"language": "zh"}, "then": {"skills": {"zh": 4}}},
            {"name": "wechat latin", "when": {"channel": "wechat", "language": "latin"},
             "then": {"skills": {"en": 2}}},
            {"name": "plan", "when": {"attributes": [{"name": "plan", "op": "eq", "value": "enterprise"}]},
             "then": {"team_id": 9, "skills": {"billing": 5}}}
        ]
    }))
    .expect("valid config JSON")
}

#[test]
fn rules_match_and_combine() {
    struct Case {
        name: &'static str,
        text: &'static str,
        channel: &'static str,
        attrs: Value,
        hits: &'static [usize],
        skills: &'static [(&'static str, u8)],
        priority: i32,
        team: Option<i64>,
    }
    let cases = [
        Case {
            name: "no rule: defaults only",
            text: "12345 !!!",
            channel: "web_chat",
            attrs: json!({}),
            hits: &[],
            skills: &[("support", 1)],
            priority: 10,
            team: None,
        },
        Case {
            name: "keyword is case-insensitive and raises priority",
            text: "I want a REFUND now",
            channel: "web_chat",
            attrs: json!({}),
            hits: &[0],
            skills: &[("support", 1), ("billing", 3)],
            priority: 15,
            team: None,
        },
        Case {
            name: "keyword found inside unspaced Chinese, language zh",
            text: "我要退款，谢谢",
            channel: "wechat",
            attrs: json!({}),
            hits: &[0, 3],
            skills: &[("support", 1), ("billing", 3), ("zh", 4)],
            priority: 15,
            team: None,
        },
        Case {
            name: "keyword absent: 'refun' is not 'refund'",
            text: "refun",
            channel: "email",
            attrs: json!({}),
            hits: &[],
            skills: &[("support", 1)],
            priority: 10,
            team: None,
        },
        Case {
            name: "regex",
            text: "where is Order #4411?",
            channel: "email",
            attrs: json!({}),
            hits: &[1],
            skills: &[("support", 1), ("orders", 2)],
            priority: 10,
            team: None,
        },
        Case {
            name: "regex needs digits",
            text: "where is order #?",
            channel: "email",
            attrs: json!({}),
            hits: &[],
            skills: &[("support", 1)],
            priority: 10,
            team: None,
        },
        Case {
            name: "vip_level at the threshold sets priority after the raise",
            text: "refund please",
            channel: "email",
            attrs: json!({"vip_level": 3}),
            hits: &[0, 2],
            skills: &[("support", 1), ("billing", 3)],
            priority: 100,
            team: Some(7),
        },
        Case {
            name: "vip_level as a numeric string counts",
            text: "12",
            channel: "email",
            attrs: json!({"vip_level": "5"}),
            hits: &[2],
            skills: &[("support", 1)],
            priority: 100,
            team: Some(7),
        },
        Case {
            name: "vip_level below the threshold",
            text: "12",
            channel: "email",
            attrs: json!({"vip_level": 2}),
            hits: &[],
            skills: &[("support", 1)],
            priority: 10,
            team: None,
        },
        Case {
            name: "missing attribute does not match >=",
            text: "12",
            channel: "email",
            attrs: json!(null),
            hits: &[],
            skills: &[("support", 1)],
            priority: 10,
            team: None,
        },
        Case {
            name: "channel and language must both hold",
            text: "hello there",
            channel: "wechat",
            attrs: json!({}),
            hits: &[4],
            skills: &[("support", 1), ("en", 2)],
            priority: 10,
            team: None,
        },
        Case {
            name: "latin text on another channel",
            text: "hello there",
            channel: "email",
            attrs: json!({}),
            hits: &[],
            skills: &[("support", 1)],
            priority: 10,
            team: None,
        },
        Case {
            name: "later team wins, higher skill level wins",
            text: "refund",
            channel: "email",
            attrs: json!({"vip_level": 4, "plan": "enterprise"}),
            hits: &[0, 2, 5],
            skills: &[("support", 1), ("billing", 5)],
            priority: 100,
            team: Some(9),
        },
        Case {
            name: "string equality is exact",
            text: "12",
            channel: "email",
            attrs: json!({"plan": "Enterprise"}),
            hits: &[],
            skills: &[("support", 1)],
            priority: 10,
            team: None,
        },
    ];
    let config = config();
    for case in cases {
        let msg = FirstMessage {
            text: case.text,
            channel: case.channel,
            contact_attributes: &case.attrs,
            intent: None,
        };
        let d = evaluate(&config, &msg);
        let hits: Vec<usize> = d.hits.iter().map(|h| h.index).collect();
        assert_eq!(hits, case.hits, "{}: hits", case.name);
        assert_eq!(d.skills, skills(case.skills), "{}: skills", case.name);
        assert_eq!(d.priority, case.priority, "{}: priority", case.name);
        assert_eq!(d.team_id, case.team, "{}: team", case.name);
    }
}

#[test]
fn hits_say_why() {
    let attrs = json!({"vip_level": 5});
    let msg = FirstMessage {
        text: "Refund for order #12",
        channel: "email",
        contact_attributes: &attrs,
        intent: None,
    };
    let d = evaluate(&config(), &msg);
    let why: Vec<(Option<&str>, Vec<&str>)> = d
        .hits
        .iter()
        .map(|h| {
            (
                h.name.as_deref(),
                h.why.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        why,
        vec![
            (Some("refund"), vec!["keyword \"Refund\""]),
            (Some("order"), vec!["regex \"(?i)order\\\\s*#\\\\d+\""]),
            (Some("vip"), vec!["vip_level 5 >= 3"]),
        ]
    );
}

#[test]
fn attribute_operators() {
    let cases: [(&str, Value, Value, bool); 12] = [
        ("eq", json!(3), json!(3), true),
        ("eq", json!(3.0), json!(3), true),
        ("eq", json!("gold"), json!("gold"), true),
        ("eq", json!(true), json!(true), true),
        ("ne", json!("gold"), json!("silver"), true),
        ("ne", Value::Null, json!("silver"), true),
        ("gt", json!(3), json!(3), false),
        ("gt", json!(4), json!(3), true),
        ("lt", json!(2), json!(3), true),
        ("lte", json!(3), json!(3), true),
        ("gte", json!("not a number"), json!(3), false),
        ("lt", json!([1]), json!(3), false),
    ];
    for (op, actual, value, expected) in cases {
        let config: RoutingConfig = serde_json::from_value(json!({"rules": [
            {"when": {"attributes": [{"name": "x", "op": op, "value": value}]},
             "then": {"priority": {"raise": 1}}}
        ]}))
        .expect("valid");
        let attrs = if actual.is_null() {
            json!({})
        } else {
            json!({ "x": actual })
        };
        let msg = FirstMessage {
            text: "",
            channel: "email",
            contact_attributes: &attrs,
            intent: None,
        };
        let got = !evaluate(&config, &msg).hits.is_empty();
        assert_eq!(got, expected, "x={actual} {op} {value}");
    }
}

#[test]
fn language_detection() {
    let cases = [
        ("你好，我的订单还没到", Some(Language::Zh)),
        ("我想要退款 ok", Some(Language::Zh)),
        ("我想要退款 refund", Some(Language::Latin)),
        ("Hello, where is my order?", Some(Language::Latin)),
        ("Ça va? Où est ma commande", Some(Language::Latin)),
        ("Tiếng Việt có dấu", Some(Language::Latin)),
        ("my order 订单", Some(Language::Latin)),
        ("Здравствуйте", None),
        ("12345 !!! 🙂", None),
        ("", None),
        ("ab你好", None),
    ];
    for (text, expected) in cases {
        assert_eq!(detect_language(text), expected, "{text:?}");
    }
}

#[test]
fn json_shape() {
    // Aliases for the names the Rust fields carry, and the stored inbox shape.
    let a: RoutingConfig =
        serde_json::from_value(json!({"default_skills": {"x": 2}, "default_priority": 3}))
            .expect("aliases");
    let b: RoutingConfig =
        serde_json::from_value(json!({"skills": {"x": 2}, "priority": 3})).expect("stored shape");
    assert_eq!(a, b);
    assert_eq!(a.default_skills, skills(&[("x", 2)]));
    assert_eq!(a.default_priority, 3);

    for bad in [
        json!({"skils": {}}),
        json!({"rules": [{"when": {"keyword": ["x"]}, "then": {"team_id": 1}}]}),
        json!({"rules": [{"when": {"keywords": ["x"]}, "then": {"priority": {"add": 1}}}]}),
        json!({"overflow": {"overflow_after": 10}}),
    ] {
        assert!(
            serde_json::from_value::<RoutingConfig>(bad.clone()).is_err(),
            "{bad}"
        );
    }

    let round: RoutingConfig =
        serde_json::from_value(serde_json::to_value(config()).expect("serializes"))
            .expect("round trip");
    assert_eq!(round, config());
}

#[test]
fn a_later_rule_never_lowers_a_skill_level() {
    let config: RoutingConfig = serde_json::from_value(json!({
        "skills": {"support": 3},
        "rules": [
            {"when": {"keywords": ["invoice"]}, "then": {"skills": {"billing": 5}}},
            {"when": {"keywords": ["invoice"]}, "then": {"skills": {"billing": 2, "support": 1}}}
        ]
    }))
    .expect("valid");
    let attrs = json!({});
    let msg = FirstMessage {
        text: "invoice",
        channel: "email",
        contact_attributes: &attrs,
        intent: None,
    };
    let d = evaluate(&config, &msg);
    assert_eq!(d.hits.len(), 2);
    assert_eq!(d.skills, skills(&[("billing", 5), ("support", 3)]));
}

#[test]
fn an_intent_rule_matches_the_detected_intent() {
    let config: RoutingConfig = serde_json::from_value(json!({
        "rules": [
            {"name": "refunds", "when": {"intent": "refund"}, "then": {"team_id": 3}},
            {"when": {"intent": ["invoice", "order_status"], "channel": "email"},
             "then": {"skills": {"billing": 2}}}
        ]
    }))
    .expect("valid");
    assert_eq!(config.rules[0].when.intent, ["refund"]);
    let attrs = json!({});
    let run = |intent: Option<&str>, channel: &str| {
        evaluate(
            &config,
            &FirstMessage {
                text: "whatever the words",
                channel,
                contact_attributes: &attrs,
                intent,
            },
        )
    };
    let refund = run(Some("refund"), "email");
    assert_eq!(refund.team_id, Some(3));
    assert_eq!(refund.hits.len(), 1);
    assert_eq!(refund.hits[0].why, ["intent refund"]);
    let invoice = run(Some("invoice"), "email");
    assert_eq!(invoice.team_id, None);
    assert_eq!(invoice.hits[0].why, ["channel email", "intent invoice"]);
    assert_eq!(invoice.skills, skills(&[("billing", 2)]));
    // Every condition must hold; no intent matches no intent condition.
    assert!(run(Some("invoice"), "wechat").hits.is_empty());
    assert!(run(None, "email").hits.is_empty());
    assert!(run(Some("account"), "email").hits.is_empty());

    let round: RoutingConfig =
        serde_json::from_value(serde_json::to_value(&config).expect("serializes"))
            .expect("round trip");
    assert_eq!(round, config);
}
