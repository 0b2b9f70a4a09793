//! The index end to end, in memory: Chinese and English questions find their entries.

use chrono::Utc;
use kefu_normalizer::knowledge::KnowledgeView;

use crate::KnowledgeIndex;

fn entry(id: i64, question: &str, alternatives: &[&str], answer: &str) -> KnowledgeView {
    KnowledgeView {
        id,
        question: question.into(),
        alternatives: alternatives.iter().map(|a| (*a).to_owned()).collect(),
        answer: answer.into(),
        tags: vec![],
        locale: None,
        enabled: true,
        attachments: Vec::new(),
        created_at: Utc::now(),
        updated_at: Utc::now(),
    }
}

fn faq() -> Vec<KnowledgeView> {
    vec![
        entry(
            1,
            "运费是多少钱",
            &["邮费怎么算"],
            "满 99 元包邮，不满收 10 元。",
        ),
        entry(
            2,
            "退货流程是什么",
            &["怎么退货"],
            "在订单页点“申请退货”，寄回后 3 天内退款。",
        ),
        entry(
            3,
            "How much is shipping?",
            &["shipping cost"],
            "Free over $50.",
        ),
        entry(
            4,
            "How do I return an item?",
            &["return policy"],
            "Returns within 30 days.",
        ),
        entry(5, "小米手环怎么充电", &[], "用随附的磁吸充电线。"),
    ]
}

#[test]
fn questions_find_their_entries() {
    let index = KnowledgeIndex::new().expect("index");
    index.rebuild(&faq()).expect("rebuild");
    assert_eq!(index.len(), 5);
    for (q, want) in [
        ("运费多少", 1),
        ("退货流程", 2),
        ("what does shipping cost", 3),
        ("I want to return an item", 4),
        ("手环充电", 5),
    ] {
        let hits = index.search(q, 3).expect("search");
        assert_eq!(
            hits.first().map(|h| h.knowledge_id),
            Some(want),
            "{q}: {hits:?}"
        );
    }
    let hits = index.search("运费多少", 3).expect("search");
    assert_eq!(hits[0].score, 0.786);
    assert!(index.search("你们老板是谁", 3).expect("search").is_empty());
}

#[test]
fn typos_are_corrected_and_the_question_language_is_preferred() {
    let mut faq = faq();
    faq[0].locale = Some("zh-CN".into());
    faq[2].locale = Some("en".into());
    faq[1].locale = Some("zh-CN".into());
    faq[3].locale = Some("en".into());
    let index = KnowledgeIndex::new().expect("index");
    index.rebuild(&faq).expect("rebuild");
    for (q, want) in [
        ("shiping cost", 3),
        ("retrun policy", 4),
        // Chinese with an English word: the Chinese entry, not the English one.
        ("退货 return 怎么弄", 2),
        ("return policy", 4),
    ] {
        let hits = index.search(q, 3).expect("search");
        assert_eq!(
            hits.first().map(|h| h.knowledge_id),
            Some(want),
            "{q}: {hits:?}"
        );
    }
    // The English entry is still found for a Chinese question, at half its score.
    let hits = index.search("退货 return policy", 3).expect("search");
    let english = hits.iter().find(|h| h.knowledge_id == 4).expect("found");
    assert!(english.score <= 0.5, "{hits:?}");
}

#[test]
fn edits_keep_the_index_in_step() {
    let index = KnowledgeIndex::new().expect("index");
    index.rebuild(&faq()).expect("rebuild");
    let mut changed = entry(1, "发票怎么开", &[], "在订单页申请电子发票。");
    index.upsert(&changed).expect("upsert");
    assert!(
        index
            .search("运费多少", 3)
            .expect("search")
            .iter()
            .all(|h| h.knowledge_id != 1)
    );
    assert_eq!(
        index.search("怎么开发票", 1).expect("search")[0].knowledge_id,
        1
    );
    changed.enabled = false;
    index.upsert(&changed).expect("disable");
    assert!(index.search("怎么开发票", 1).expect("search").is_empty());
    index.remove(2).expect("remove");
    assert!(
        index
            .search("退货流程", 3)
            .expect("search")
            .iter()
            .all(|h| h.knowledge_id != 2)
    );
    assert_eq!(index.len(), 3);
}
