use chrono::{TimeZone, Utc};

use super::{BotMode, BotSettings, BotSettingsInput, KnowledgeInput};
use crate::error::StoreError;

fn input(question: &str, answer: &str) -> KnowledgeInput {
    KnowledgeInput {
        question: question.into(),
        answer: answer.into(),
        ..Default::default()
    }
}

#[test]
fn entries_are_trimmed_and_deduplicated() {
    let checked = KnowledgeInput {
        alternatives: vec![
            " 运费多少 ".into(),
            "".into(),
            "运费多少".into(),
            "运费是多少钱".into(),
        ],
        tags: vec!["物流".into(), " 物流".into()],
        locale: Some(" zh-CN ".into()),
        ..input(" 运费是多少钱 ", " 满 99 元包邮。 ")
    }
    .checked()
    .expect("valid");
    assert_eq!(checked.question, "运费是多少钱");
    assert_eq!(checked.alternatives, ["运费多少"]);
    assert_eq!(checked.answer, "满 99 元包邮。");
    assert_eq!(checked.tags, ["物流"]);
    assert_eq!(checked.locale.as_deref(), Some("zh-CN"));
}

#[test]
fn bad_entries_name_the_field() {
    let cases = [
        (input("  ", "a"), "question"),
        (input("q", ""), "answer"),
        (input(&"x".repeat(501), "a"), "question"),
        (
            KnowledgeInput {
                locale: Some("zh CN".into()),
                ..input("q", "a")
            },
            "locale",
        ),
        (
            KnowledgeInput {
                tags: (0..21).map(|i| i.to_string()).collect(),
                ..input("q", "a")
            },
            "tags",
        ),
    ];
    for (i, field) in cases {
        match i.checked() {
            Err(StoreError::Invalid(m)) => assert!(m.starts_with(field), "{m}"),
            other => panic!("{field}: {other:?}"),
        }
    }
}

#[test]
fn auto_mode_holds_waits_that_began_after_it_was_switched_on() {
    let t0 = Utc
        .with_ymd_and_hms(2026, 1, 1, 9, 0, 0)
        .single()
        .expect("time");
    let auto =
        |v: serde_json::Value| -> BotSettingsInput { serde_json::from_value(v).expect("input") };
    let on = auto(serde_json::json!({"mode": "auto", "min_score": 0.6}))
        .apply(&BotSettings::default(), t0)
        .expect("valid");
    assert_eq!(on.mode, BotMode::Auto);
    assert_eq!(on.min_score, 0.6);
    assert_eq!(on.min_margin, 0.05);
    assert!(on.holds(t0) && !on.holds(t0 - chrono::Duration::seconds(1)));
    // Saving auto again keeps the time it was first switched on.
    let again = auto(serde_json::json!({"mode": "auto"}))
        .apply(&on, t0 + chrono::Duration::hours(1))
        .expect("valid");
    assert_eq!((again.auto_since, again.min_score), (Some(t0), 0.6));
    let off = auto(serde_json::json!({"mode": "suggest"}))
        .apply(&on, t0)
        .expect("valid");
    assert!(!off.holds(t0));
    for bad in [
        serde_json::json!({"mode": "auto", "min_score": 1.5}),
        serde_json::json!({"mode": "auto", "max_answers": 0}),
    ] {
        assert!(matches!(
            auto(bad).apply(&on, t0),
            Err(StoreError::Invalid(_))
        ));
    }
}

#[test]
fn the_bot_schedule_is_kept_when_left_out_and_dropped_on_null() {
    let now = Utc::now();
    let input =
        |v: serde_json::Value| -> BotSettingsInput { serde_json::from_value(v).expect("input") };
    // Settings stored before bot hours existed read as "around the clock".
    let old: BotSettings =
        serde_json::from_value(serde_json::json!({"mode": "auto", "min_score": 0.4,
            "min_margin": 0.05, "max_answers": 3, "auto_since": null}))
        .expect("stored settings");
    assert_eq!(old.schedule_id, None);
    let set = input(serde_json::json!({"mode": "auto", "schedule_id": 7}))
        .apply(&old, now)
        .expect("valid");
    assert_eq!(set.schedule_id, Some(7));
    let kept = input(serde_json::json!({"mode": "suggest"}))
        .apply(&set, now)
        .expect("valid");
    assert_eq!(kept.schedule_id, Some(7));
    let dropped = input(serde_json::json!({"mode": "auto", "schedule_id": null}))
        .apply(&kept, now)
        .expect("valid");
    assert_eq!(dropped.schedule_id, None);
}
