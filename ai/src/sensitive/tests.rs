//! Rules over sample messages: word folding, boundaries, actions and masking.

use super::*;

fn words(id: i64, name: &str, list: &[&str], action: Action) -> RuleSpec {
    RuleSpec {
        id: Some(id),
        name: name.into(),
        pattern: Pattern::Words(list.iter().map(|w| (*w).to_owned()).collect()),
        action,
    }
}

fn screen() -> Screen {
    Screen::new(
        vec![
            words(1, "off-platform", &["微信", "vx", "WeChat"], Action::Block),
            words(2, "fraud", &["洗钱", "套现"], Action::Route { team_id: 7 }),
            words(3, "abuse", &["傻瓜"], Action::Mask),
            words(4, "watch", &["套现"], Action::Flag),
        ],
        &[],
    )
}

fn terms(text: &str) -> Vec<(String, &'static str)> {
    screen()
        .scan(text)
        .into_iter()
        .map(|f| (f.term, f.action.name()))
        .collect()
}

#[test]
fn words_match_through_width_case_and_separators() {
    for text in [
        "加我微信",
        "加我微 信",
        "加我微-信",
        "加我 ＷＥＣＨＡＴ",
        "加 v x 聊",
        "加我 we.chat",
    ] {
        assert_eq!(terms(text).len(), 1, "{text}");
        assert_eq!(terms(text)[0].1, "block", "{text}");
    }
    assert!(terms("我在用 vxlan 组网").is_empty());
    assert!(terms("你好").is_empty());
}

#[test]
fn one_word_can_serve_several_rules() {
    assert_eq!(
        terms("可以 套-现 吗"),
        vec![("套现".to_owned(), "route"), ("套现".to_owned(), "flag")]
    );
    let found = screen().scan("套现");
    assert_eq!(found[0].action, Action::Route { team_id: 7 });
}

#[test]
fn built_in_detectors_mask_ids_and_cards() {
    let s = screen();
    let text = "我的身份证 110101199003074514，卡号 4111 1111 1111 1111，手机 13800138000";
    let found = s.scan(text);
    let names: Vec<&str> = found.iter().map(|f| f.term.as_str()).collect();
    assert_eq!(
        names,
        ["cn_id", "bank_card"],
        "mobile has no rule by default"
    );
    assert_eq!(
        Screen::mask(text, &found),
        "我的身份证 110***********4514，卡号 411* **** **** 1111，手机 13800138000"
    );
}

#[test]
fn a_named_detector_replaces_the_built_in() {
    let s = Screen::new(
        vec![RuleSpec {
            id: Some(9),
            name: "ids".into(),
            pattern: Pattern::Detector(Detector::CnId),
            action: Action::Flag,
        }],
        &[Detector::CnId],
    );
    let found = s.scan("110101199003074514");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].action, Action::Flag);
    assert_eq!(
        Screen::mask("110101199003074514", &found),
        "110101199003074514"
    );
    // A disabled rule still names its detector: nothing at all.
    let off = Screen::new(vec![], &[Detector::CnId, Detector::BankCard]);
    assert!(off.is_empty());
}

#[test]
fn masks_words_and_emails() {
    let s = Screen::new(
        vec![
            words(3, "abuse", &["傻瓜"], Action::Mask),
            RuleSpec {
                id: Some(5),
                name: "mail".into(),
                pattern: Pattern::Detector(Detector::Email),
                action: Action::Mask,
            },
        ],
        &[],
    );
    let text = "你这个傻 瓜，写信到 li.lei@example.com";
    assert_eq!(
        Screen::mask(text, &s.scan(text)),
        "你这个* *，写信到 l***@example.com"
    );
}

#[test]
fn redaction_replaces_every_detected_piece_whole() {
    let cases = [
        (
            "身份证 110101199003074514，卡号 4111 1111 1111 1111，手机 １３８００１３８０００",
            "身份证 [cn_id]，卡号 [bank_card]，手机 [mobile]",
        ),
        (
            "Write to li.lei@example.com or call 138-0013-8000.",
            "Write to [email] or call [mobile].",
        ),
        (
            "订单号 20261207000123 还没到",
            "订单号 20261207000123 还没到",
        ),
        ("", ""),
    ];
    for (text, want) in cases {
        assert_eq!(redact(text), want, "{text}");
    }
}
