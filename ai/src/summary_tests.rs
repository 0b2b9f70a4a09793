use chrono::{Duration, TimeZone, Utc};
use kefu_normalizer::summaries::{Speaker, SummaryInput, SummaryMessage};

use super::*;

fn msg(speaker: Speaker, text: &str) -> SummaryMessage {
    SummaryMessage {
        speaker,
        text: text.to_owned(),
    }
}

fn customer(text: &str) -> SummaryMessage {
    msg(Speaker::Customer, text)
}

fn agent(text: &str) -> SummaryMessage {
    msg(Speaker::Agent, text)
}

fn input(messages: Vec<SummaryMessage>) -> SummaryInput {
    let start = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).single();
    let end = start.map(|s| s + Duration::minutes(42));
    SummaryInput {
        channel: Some("wechat".into()),
        labels: vec!["shipping".into()],
        intent: Some("refund".into()),
        started_at: if messages.is_empty() { None } else { start },
        ended_at: end.unwrap_or_default(),
        messages,
    }
}

fn texts(body: &SummaryBody) -> Vec<&str> {
    body.sentences.iter().map(|s| s.text.as_str()).collect()
}

#[test]
fn sentences_split_at_chinese_and_english_ends_and_lines() {
    let cases: &[(&str, &[&str])] = &[
        (
            "你好。我的订单还没到！什么时候发货？",
            &["你好。", "我的订单还没到！", "什么时候发货？"],
        ),
        (
            "Hi there. My order #123 hasn't arrived! When will it ship?",
            &[
                "Hi there.",
                "My order #123 hasn't arrived!",
                "When will it ship?",
            ],
        ),
        (
            "It costs 3.5 dollars, see example.com",
            &["It costs 3.5 dollars, see example.com"],
        ),
        ("first line\nsecond line", &["first line", "second line"]),
        ("> quoted reply\n> more\nmy answer", &["my answer"]),
        ("真的吗？？还是假的", &["真的吗？？", "还是假的"]),
        (
            "He said \"yes.\" Then he left.",
            &["He said \"yes.\"", "Then he left."],
        ),
        ("我想退货；运费谁出", &["我想退货；", "运费谁出"]),
        (
            "It is late; I want a refund.",
            &["It is late; I want a refund."],
        ),
        ("", &[]),
        ("。。。！？", &[]),
        ("ok", &["ok"]),
        ("a", &[]),
    ];
    for (text, want) in cases {
        assert_eq!(sentences(text), *want, "{text:?}");
    }
}

#[test]
fn questions_in_chinese_and_english() {
    let cases = [
        ("什么时候发货？", true),
        ("可以退款吗", true),
        ("运费多少", true),
        ("我的快递到哪了", true),
        ("你们是不是周末不上班", true),
        ("When will it ship", true),
        ("Can I get a refund.", true),
        ("is this covered by warranty", true),
        ("My order is late?", true),
        ("“真的吗？”", true),
        ("我的订单还没到。", false),
        ("Thanks, that helps!", false),
        ("I already paid.", false),
        ("好的", false),
    ];
    for (s, want) in cases {
        assert_eq!(is_question(s), want, "{s:?}");
    }
}

#[test]
fn the_last_unanswered_question_stays_open() {
    let cases: &[(&[SummaryMessage], Option<&str>)] = &[
        (&[], None),
        (&[customer("什么时候发货？")], Some("什么时候发货？")),
        (&[customer("什么时候发货？"), agent("明天发货。")], None),
        (
            &[
                customer("什么时候发货？"),
                agent("明天发货。"),
                customer("好的。可以改地址吗？我搬家了。"),
            ],
            Some("可以改地址吗？"),
        ),
        (
            &[
                customer("Where is my parcel? Also, can I change the address?"),
                msg(Speaker::Bot, "Here is how to track a parcel."),
            ],
            Some("Also, can I change the address?"),
        ),
        (&[customer("Thanks, bye.")], None),
    ];
    for (messages, want) in cases {
        assert_eq!(open_question(messages).as_deref(), *want, "{messages:?}");
    }
}

#[test]
fn an_empty_conversation_has_facts_and_no_sentences() {
    let body = summarize(&input(vec![]));
    assert_eq!(body.source, "extractive");
    assert!(body.sentences.is_empty());
    assert_eq!(body.facts.channel.as_deref(), Some("wechat"));
    assert_eq!(body.facts.duration_secs, None);
    assert_eq!(body.facts.labels, ["shipping"]);
    assert_eq!(body.facts.intent.as_deref(), Some("refund"));
    assert_eq!(body.facts.open_question, None);
}

#[test]
fn one_message_is_its_own_summary() {
    let body = summarize(&input(vec![customer("我的耳机坏了，能换一个吗？")]));
    assert_eq!(texts(&body), ["我的耳机坏了，能换一个吗？"]);
    assert_eq!(body.sentences[0].speaker, Speaker::Customer);
    assert_eq!(body.facts.duration_secs, Some(42 * 60));
    assert_eq!(
        body.facts.open_question.as_deref(),
        Some("我的耳机坏了，能换一个吗？")
    );
}

#[test]
fn a_chinese_conversation_keeps_its_central_sentences_in_order() {
    let messages = vec![
        customer("你好"),
        customer("我上周买的蓝牙耳机一直没有发货。订单号是 A1234。"),
        agent("您好，我帮您查一下订单 A1234 的物流。"),
        agent("这个订单的蓝牙耳机缺货，仓库预计周五发货。"),
        customer("周五能发货就好。如果周五还没发货可以退款吗？"),
        agent("可以的，周五没发货可以直接申请退款。"),
        customer("好的，谢谢！"),
    ];
    let all: Vec<String> = messages.iter().flat_map(|m| sentences(&m.text)).collect();
    let body = summarize(&input(messages));
    let got = texts(&body);
    assert_eq!(got.len(), SENTENCES, "{got:?}");
    // Chosen from the conversation, in the order they were said.
    let positions: Vec<usize> = got
        .iter()
        .map(|s| {
            all.iter()
                .position(|a| a == s)
                .expect("a sentence of the conversation")
        })
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{got:?}");
    // The shipping problem, not the courtesies.
    assert!(got.iter().any(|s| s.contains("缺货")), "{got:?}");
    assert!(
        !got.contains(&"你好") && !got.contains(&"好的，谢谢！"),
        "{got:?}"
    );
    assert_eq!(body.facts.open_question, None);
}

#[test]
fn an_english_conversation_keeps_its_central_sentences() {
    let messages = vec![
        customer("Hello!"),
        customer("My wireless headphones stopped charging after two days."),
        agent("Sorry to hear that. Are the headphones charging with the original cable?"),
        customer("Yes, the original cable, and the charging light never turns on."),
        agent("That sounds like a faulty battery, so we will send replacement headphones."),
        customer("Great. How long will the replacement take?"),
    ];
    let body = summarize(&input(messages));
    let got = texts(&body);
    assert_eq!(got.len(), SENTENCES, "{got:?}");
    assert!(
        got.iter().all(|s| s.contains("headphones")
            || s.contains("charging")
            || s.contains("replacement")),
        "{got:?}"
    );
    assert!(!got.contains(&"Hello!"), "{got:?}");
    assert_eq!(
        body.facts.open_question.as_deref(),
        Some("How long will the replacement take?")
    );
}

#[test]
fn very_long_messages_are_bounded() {
    let endless = "退货".repeat(50_000);
    let many = "The parcel is late. ".repeat(5_000);
    let body = summarize(&input(vec![customer(&endless), agent(&many)]));
    assert_eq!(body.sentences.len(), SENTENCES);
    for s in &body.sentences {
        assert!(
            s.text.chars().count() <= MAX_SENTENCE_CHARS,
            "{}",
            s.text.len()
        );
    }
    // Only the first 4,000 characters of a message are read, and a sentence is shown cut.
    assert_eq!(sentences(&endless)[0].chars().count(), MAX_MESSAGE_CHARS);
    assert_eq!(sentences(&many).len(), MAX_MESSAGE_CHARS / 20);
    let body = summarize(&input(vec![customer(&endless)]));
    let [only] = body.sentences.as_slice() else {
        panic!("one sentence: {body:?}");
    };
    assert_eq!(only.text.chars().count(), MAX_SENTENCE_CHARS);
    assert!(only.text.starts_with("退货退货") && only.text.ends_with('…'));
}

#[test]
fn bot_answers_are_not_summarized() {
    let body = summarize(&input(vec![
        customer("运费多少？"),
        msg(Speaker::Bot, "满99元包邮，不满99元运费10元。"),
    ]));
    assert_eq!(texts(&body), ["运费多少？"]);
    assert_eq!(body.facts.open_question.as_deref(), Some("运费多少？"));
}

#[test]
fn textrank_favours_the_sentence_others_resemble() {
    let f = |s: &str| feature_set(s);
    let scores = textrank(&[
        f("refund for the broken blender"),
        f("the blender arrived broken"),
        f("refund the blender please"),
        f("nice weather today"),
    ]);
    let best = (0..scores.len())
        .max_by(|&a, &b| scores[a].total_cmp(&scores[b]))
        .expect("scores");
    assert_eq!(best, 0, "{scores:?}");
    assert!((scores[3] - (1.0 - 0.85)).abs() < 1e-9, "{scores:?}");
    assert!(textrank(&[]).is_empty());
}
