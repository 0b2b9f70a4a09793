//! Intent matching on a small shop's intents, in Chinese and English.

use chrono::Utc;
use kefu_normalizer::intents::IntentView;

use crate::index::{Hit, KnowledgeIndex, Scoring};
use crate::intent::{CANDIDATES, classify};

fn intent(id: i64, name: &str, examples: &[&str]) -> IntentView {
    IntentView {
        id,
        name: name.into(),
        label: name.into(),
        examples: examples.iter().map(|e| (*e).to_owned()).collect(),
        enabled: true,
        created_at: Utc::now(),
        updated_at: Utc::now(),
    }
}

fn shop() -> Vec<IntentView> {
    vec![
        intent(
            1,
            "refund",
            &[
                "我要退款",
                "申请退款",
                "退款什么时候到账",
                "钱能退回来吗",
                "I want a refund",
                "refund my order",
                "how do I get my money back",
            ],
        ),
        intent(
            2,
            "order_status",
            &[
                "我的快递到哪了",
                "查一下物流",
                "什么时候发货",
                "订单还没收到",
                "where is my order",
                "track my package",
                "when will my order ship",
            ],
        ),
        intent(
            3,
            "invoice",
            &[
                "开发票",
                "怎么开发票",
                "需要增值税专用发票",
                "I need an invoice",
                "send me a receipt",
            ],
        ),
        intent(
            4,
            "account",
            &[
                "登录不了",
                "忘记密码",
                "账号被锁了",
                "I can't log in",
                "reset my password",
            ],
        ),
    ]
}

fn index(intents: &[IntentView]) -> KnowledgeIndex {
    let index = KnowledgeIndex::with_scoring(Scoring::Coverage).expect("index");
    index.rebuild(intents).expect("rebuild");
    index
}

fn detect(index: &KnowledgeIndex, text: &str) -> Option<String> {
    classify(&index.search(text, CANDIDATES).expect("search")).intent
}

#[test]
fn finds_the_intent_in_chinese_english_typos_and_mixed() {
    let index = index(&shop());
    let cases = [
        // Chinese paraphrases.
        ("退款多久能到账", "refund"),
        ("我想申请退款", "refund"),
        ("我的快递怎么还没到，到哪了", "order_status"),
        ("什么时候能发货啊", "order_status"),
        ("能开发票吗", "invoice"),
        ("忘记密码了怎么办", "account"),
        ("账号登录不了", "account"),
        // English.
        ("Where is my order?", "order_status"),
        ("I want my money back", "refund"),
        ("I forgot my password", "account"),
        ("Can you send me an invoice?", "invoice"),
        // Typos.
        ("I want a refnd", "refund"),
        ("where is my oder", "order_status"),
        // Mixed Chinese and English.
        ("我想 refund", "refund"),
        ("invoice 怎么开", "invoice"),
    ];
    let mut wrong = Vec::new();
    for (text, want) in cases {
        let got = detect(&index, text);
        if got.as_deref() != Some(want) {
            wrong.push(format!("{text:?}: want {want}, got {got:?}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn long_messages_and_shared_words() {
    let index = index(&shop());
    // A long message covers a short example as well as a short one does.
    for (text, want) in [
        (
            "Hi, I ordered a jacket last week and it does not fit, how can I get a refund?",
            "refund",
        ),
        ("我上周买的衣服不合适，想退款，请问怎么操作", "refund"),
        // "order" is in two intents' examples, "invoice" in one.
        ("I need an invoice for my order", "invoice"),
    ] {
        assert_eq!(detect(&index, text).as_deref(), Some(want), "{text:?}");
    }
}

#[test]
fn off_topic_messages_have_no_intent() {
    let index = index(&shop());
    for text in [
        "今天天气怎么样",
        "你好",
        "hello there",
        "how do I cook rice",
        "你们公司招人吗",
        "",
        "!!!",
    ] {
        assert_eq!(detect(&index, text), None, "{text:?}");
    }
}

#[test]
fn disabled_intents_are_not_detected_and_edits_apply() {
    let mut intents = shop();
    let index = index(&intents);
    assert_eq!(detect(&index, "我要退款").as_deref(), Some("refund"));
    intents[0].enabled = false;
    index.upsert(&intents[0]).expect("upsert");
    assert_eq!(detect(&index, "我要退款"), None);
    // A new example is matched at once.
    intents[1].examples.push("包裹丢了".into());
    index.upsert(&intents[1]).expect("upsert");
    assert_eq!(detect(&index, "包裹丢了").as_deref(), Some("order_status"));
}

#[test]
fn detection_is_deterministic() {
    let a = index(&shop());
    let b = index(&shop());
    for text in ["退款 发票", "refund invoice", "我的订单", "password"] {
        let x = classify(&a.search(text, CANDIDATES).expect("search"));
        let y = classify(&b.search(text, CANDIDATES).expect("search"));
        assert_eq!(x, y, "{text:?}");
    }
}

fn hit(id: i64, name: &str, score: f32) -> Hit {
    Hit {
        knowledge_id: id,
        answer: name.into(),
        score,
    }
}

#[test]
fn thresholds_on_score_and_margin() {
    let cases: Vec<(Vec<Hit>, Option<&str>, f32)> = vec![
        (vec![], None, 0.0),
        (vec![hit(1, "refund", 0.9)], Some("refund"), 0.9),
        (vec![hit(1, "refund", 0.35)], Some("refund"), 0.35),
        (vec![hit(1, "refund", 0.349)], None, 0.349),
        (
            vec![hit(1, "refund", 0.8), hit(2, "invoice", 0.75)],
            Some("refund"),
            0.05,
        ),
        (
            vec![hit(1, "refund", 0.8), hit(2, "invoice", 0.751)],
            None,
            0.049,
        ),
    ];
    for (hits, want, margin) in cases {
        let m = classify(&hits);
        assert_eq!(m.intent.as_deref(), want, "{hits:?}");
        assert_eq!(m.margin, margin, "{hits:?}");
        assert_eq!(m.candidates.len(), hits.len());
    }
}
