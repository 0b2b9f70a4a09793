//! The FAQ bot's labelled evaluation set (`knowledge.json`, `questions.json` beside this
//! file, see `README.md`) and how it is scored. Included by path in `ai/tests/eval.rs`
//! (which asserts the figures) and in `kefu-bench faq` (which also times them).

#![allow(dead_code)] // each includer uses part of it

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use kefu_ai::{Hit, KnowledgeIndex, decide};
use kefu_normalizer::knowledge::{BotSettings, Decided, KnowledgeView};
use serde::Deserialize;

/// The hand-written knowledge base.
const KNOWLEDGE: &str = include_str!("knowledge.json");
/// The hand-written, labelled customer questions.
const QUESTIONS: &str = include_str!("questions.json");

/// Candidates the bot weighs per message (as `FaqBot` does).
pub const CANDIDATES: usize = kefu_ai::CANDIDATES;

/// Filler entries take ids from here up, far from the real ones.
pub const FILLER_FIRST_ID: i64 = 100_000;

#[derive(Deserialize)]
struct Entry {
    id: i64,
    locale: Option<String>,
    tags: Vec<String>,
    question: String,
    alternatives: Vec<String>,
    answer: String,
}

/// What should happen to a question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Expect {
    /// The entry with this id answers it.
    Entry(i64),
    /// It is off-topic (or asks for a person): the bot must hand off. Spelled `"handoff"`.
    Handoff(HandoffLabel),
}

/// The string `"handoff"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HandoffLabel {
    /// `"handoff"`.
    Handoff,
}

/// One labelled customer question.
#[derive(Debug, Clone, Deserialize)]
pub struct Question {
    /// What the customer writes.
    pub text: String,
    /// What should happen.
    pub expect: Expect,
    /// `paraphrase`, `typo`, `mixed` (Chinese and Latin script) or `offtopic`.
    pub kind: String,
}

fn epoch() -> DateTime<Utc> {
    DateTime::<Utc>::UNIX_EPOCH
}

fn view(id: i64, question: String, alternatives: Vec<String>, answer: String) -> KnowledgeView {
    KnowledgeView {
        id,
        question,
        alternatives,
        answer,
        tags: Vec::new(),
        locale: None,
        enabled: true,
        attachments: Vec::new(),
        created_at: epoch(),
        updated_at: epoch(),
    }
}

/// The evaluation's knowledge base.
pub fn knowledge() -> Vec<KnowledgeView> {
    let entries: Vec<Entry> = serde_json::from_str(KNOWLEDGE).expect("knowledge.json parses");
    entries
        .into_iter()
        .map(|e| KnowledgeView {
            tags: e.tags,
            locale: e.locale,
            ..view(e.id, e.question, e.alternatives, e.answer)
        })
        .collect()
}

/// The evaluation's questions.
pub fn questions() -> Vec<Question> {
    serde_json::from_str(QUESTIONS).expect("questions.json parses")
}

/// `count` generated entries about made-up products (sizes, colours, batteries, materials,
/// stock...), half in Chinese and half in English, from a fixed seed. They share everyday
/// words with the real entries ("多久", "支持", "怎么", "how long", "does") without being
/// about the same things, the way a shop's product FAQ sits beside its policy FAQ.
pub fn filler(count: usize) -> Vec<KnowledgeView> {
    const ZH_BRAND: &[&str] = &[
        "星", "云", "青", "松", "禾", "岚", "川", "鹿", "橙", "铃", "鲸", "棠", "屿", "沐", "岩",
        "澜",
    ];
    const ZH_PRODUCT: &[&str] = &[
        "蓝牙耳机",
        "电饭煲",
        "保温杯",
        "运动鞋",
        "羽绒服",
        "台灯",
        "行李箱",
        "键盘",
        "加湿器",
        "瑜伽垫",
        "双肩包",
        "电动牙刷",
        "空气炸锅",
        "智能手表",
        "充电宝",
        "投影仪",
    ];
    const ZH: &[(&str, &str)] = &[
        ("{p}的尺寸是多少", "{p}多大"),
        ("{p}有几种颜色", "{p}有哪些颜色可选"),
        ("{p}充满电能用多久", "{p}续航时间"),
        ("{p}是什么材质", "{p}用的什么材料"),
        ("{p}怎么清洗", "{p}脏了怎么洗"),
        ("{p}支持快充吗", "{p}充电要多久"),
        ("{p}有多重", "{p}重量是多少"),
        ("{p}适合几岁的孩子用", "{p}儿童能用吗"),
        ("{p}还有现货吗", "{p}什么时候补货"),
        ("{p}怎么连接手机", "{p}配对方法"),
        ("{p}说明书在哪下载", "{p}使用说明"),
        ("{p}噪音大吗", "{p}声音大不大"),
    ];
    const EN_BRAND: &[&str] = &[
        "Nova", "Lumen", "Orbit", "Pebble", "Zephyr", "Atlas", "Echo", "Vega", "Flux", "Terra",
        "Quill", "Maple",
    ];
    const EN_PRODUCT: &[&str] = &[
        "earbuds",
        "rice cooker",
        "water bottle",
        "running shoes",
        "desk lamp",
        "suitcase",
        "keyboard",
        "humidifier",
        "backpack",
        "smartwatch",
        "power bank",
        "projector",
    ];
    const EN: &[(&str, &str)] = &[
        ("What size is the {p}?", "{p} dimensions"),
        ("Which colours does the {p} come in?", "{p} colour options"),
        ("How long does the {p} battery last?", "{p} battery life"),
        ("What is the {p} made of?", "{p} material"),
        ("How do I clean the {p}?", "washing the {p}"),
        ("Does the {p} support fast charging?", "{p} charging time"),
        ("How much does the {p} weigh?", "{p} weight"),
        ("Is the {p} suitable for children?", "{p} age range"),
        ("Is the {p} in stock?", "when is the {p} back in stock"),
        (
            "How do I pair the {p} with my phone?",
            "{p} bluetooth pairing",
        ),
        ("Where is the {p} manual?", "{p} user guide"),
        ("Is the {p} noisy?", "{p} noise level"),
    ];
    let mut seed: u64 = 0x5EED_F00D;
    let mut next = move |n: usize| {
        // A 64-bit LCG (Knuth's MMIX constants): enough to spread the picks, and the same
        // filler on every machine.
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((seed >> 33) % n as u64) as usize
    };
    (0..count)
        .map(|i| {
            let id = FILLER_FIRST_ID + i as i64;
            let model = format!(
                "{}{}",
                ["X", "S", "M", "Pro", "Lite"][next(5)],
                next(90) + 1
            );
            let (product, (q, alt), locale) = if i % 2 == 0 {
                let p = format!(
                    "{}{}{}{}",
                    ZH_BRAND[next(ZH_BRAND.len())],
                    ZH_BRAND[next(ZH_BRAND.len())],
                    model,
                    ZH_PRODUCT[next(ZH_PRODUCT.len())]
                );
                (p, ZH[next(ZH.len())], "zh-CN")
            } else {
                let p = format!(
                    "{} {} {}",
                    EN_BRAND[next(EN_BRAND.len())],
                    model,
                    EN_PRODUCT[next(EN_PRODUCT.len())]
                );
                (p, EN[next(EN.len())], "en")
            };
            KnowledgeView {
                locale: Some(locale.into()),
                tags: vec!["product".into()],
                ..view(
                    id,
                    q.replace("{p}", &product),
                    vec![alt.replace("{p}", &product)],
                    format!("About the {product}: see its product page."),
                )
            }
        })
        .collect()
}

/// An index of the real entries and `size - real` filler entries (at least the real ones).
pub fn index(size: usize) -> KnowledgeIndex {
    let mut entries = knowledge();
    entries.extend(filler(size.saturating_sub(entries.len())));
    let index = KnowledgeIndex::new().expect("index");
    index.rebuild(&entries).expect("rebuild");
    index
}

/// What the bot did with one question.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The best candidate, if any.
    pub top: Option<Hit>,
    /// The runner-up's score (0 when none).
    pub runner_up: f32,
    /// The bot's decision.
    pub decided: Decided,
}

/// The bot's real decision path for one message: the index's candidates, then [`decide`]
/// (first message of the conversation: no answers in a row yet).
pub fn ask(index: &KnowledgeIndex, text: &str, settings: &BotSettings) -> Outcome {
    let hits = index.search(text, CANDIDATES).expect("search");
    let decided = decide(text, &hits, settings, 0, true);
    Outcome {
        top: hits.first().cloned(),
        runner_up: hits.get(1).map_or(0.0, |h| h.score),
        decided,
    }
}

/// Counts over one pass of the questions.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Score {
    /// In-scope questions (labelled with an entry).
    pub in_scope: usize,
    /// ...whose best candidate is their entry.
    pub top1: usize,
    /// ...that the bot answers with their entry.
    pub answered_right: usize,
    /// ...that the bot answers with another entry.
    pub answered_wrong: usize,
    /// Off-topic questions (labelled `handoff`).
    pub off_topic: usize,
    /// ...that the bot hands off.
    pub off_topic_handed_off: usize,
    /// Questions handed off, in scope or not.
    pub handed_off: usize,
}

impl Score {
    /// Adds one question's outcome.
    pub fn add(&mut self, q: &Question, o: &Outcome) {
        let answered = match &o.decided {
            Decided::Answer { knowledge_id, .. } => Some(*knowledge_id),
            Decided::Handoff(_) => None,
        };
        self.handed_off += usize::from(answered.is_none());
        match q.expect {
            Expect::Entry(id) => {
                self.in_scope += 1;
                self.top1 += usize::from(o.top.as_ref().map(|h| h.knowledge_id) == Some(id));
                self.answered_right += usize::from(answered == Some(id));
                self.answered_wrong += usize::from(answered.is_some_and(|a| a != id));
            }
            Expect::Handoff(_) => {
                self.off_topic += 1;
                self.off_topic_handed_off += usize::from(answered.is_none());
            }
        }
    }

    /// Share of in-scope questions whose best candidate is right.
    pub fn top1_accuracy(&self) -> f64 {
        ratio(self.top1, self.in_scope)
    }

    /// Share of in-scope questions the bot answers, and answers right.
    pub fn answer_accuracy(&self) -> f64 {
        ratio(self.answered_right, self.in_scope)
    }

    /// Share of handoffs that were off-topic questions.
    pub fn handoff_precision(&self) -> f64 {
        ratio(self.off_topic_handed_off, self.handed_off)
    }

    /// Share of off-topic questions handed off.
    pub fn handoff_recall(&self) -> f64 {
        ratio(self.off_topic_handed_off, self.off_topic)
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Scores every question against `index`; also returns, per kind, `(right, total)` where
/// right means answered with the labelled entry, or handed off when labelled `handoff`.
pub fn evaluate(
    index: &KnowledgeIndex,
    questions: &[Question],
    settings: &BotSettings,
) -> (Score, BTreeMap<String, (usize, usize)>, Vec<String>) {
    let mut score = Score::default();
    let mut kinds: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut misses = Vec::new();
    for q in questions {
        let o = ask(index, &q.text, settings);
        score.add(q, &o);
        let right = match (&o.decided, q.expect) {
            (Decided::Answer { knowledge_id, .. }, Expect::Entry(id)) => *knowledge_id == id,
            (Decided::Handoff(_), Expect::Handoff(_)) => true,
            _ => false,
        };
        let k = kinds.entry(q.kind.clone()).or_default();
        k.0 += usize::from(right);
        k.1 += 1;
        if !right {
            misses.push(format!(
                "{:?} want {:?}: best {:?} ({}), runner-up {}, {:?}",
                q.text,
                q.expect,
                o.top.as_ref().map(|h| h.knowledge_id),
                o.top.as_ref().map_or(0.0, |h| h.score),
                o.runner_up,
                o.decided
            ));
        }
    }
    (score, kinds, misses)
}
