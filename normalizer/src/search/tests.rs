//! The index on its own, in memory: what matches, in which order, and how it is highlighted.
//! The whole path (events, rebuilds, both databases, the API) is tested in `kefu-tests`.

use super::index::{Doc, Location, MatchField, Opened};

fn index_of(docs: &[Doc]) -> Opened {
    let opened = Opened::open(&Location::Memory).expect("in-memory index");
    let mut w = opened
        .index
        .writer_with_num_threads(1, 15_000_000)
        .expect("writer");
    for d in docs {
        w.add_document(d.to_tantivy(&opened.fields)).expect("add");
    }
    w.commit().expect("commit");
    opened.reader.reload().expect("reload");
    opened
}

fn message(id: i64, conversation_id: i64, text: &str) -> Doc {
    Doc::Message {
        id,
        conversation_id,
        text: text.into(),
    }
}

fn ranked(opened: &Opened, q: &str) -> Vec<i64> {
    let searcher = opened.reader.searcher();
    let query = opened.query(q).expect("a query");
    opened
        .rank(&searcher, query.as_ref())
        .expect("rank")
        .iter()
        .map(|r| r.conversation_id)
        .collect()
}

#[test]
fn two_character_chinese_words_match_and_more_mentions_rank_first() {
    let opened = index_of(&[
        message(1, 10, "我想申请退款，谢谢"),
        message(2, 11, "退款什么时候到账？我已经申请退款三天了"),
        message(3, 12, "请问发票怎么开"),
    ]);
    assert_eq!(ranked(&opened, "退款"), [11, 10]);
    assert_eq!(ranked(&opened, "发票"), [12]);
    assert!(ranked(&opened, "Refund").is_empty());
}

#[test]
fn english_words_match_in_any_case_and_punctuation_alone_finds_nothing() {
    let opened = index_of(&[
        message(1, 10, "Where is my REFUND?"),
        message(2, 11, "refund refund, please refund"),
    ]);
    assert_eq!(ranked(&opened, "refund"), [11, 10]);
    assert!(opened.query("?!，。").is_none());
}

#[test]
fn snippets_mark_the_words_and_escape_the_rest() {
    let opened = index_of(&[
        message(7, 10, "<b>Hi</b> I want a refund & more"),
        Doc::Conversation {
            id: 10,
            subject: Some("Order 1234".into()),
            contact: vec!["Alice Wong".into(), "alice@example.com".into()],
            exact: vec!["alice@example.com".into()],
        },
    ]);
    let searcher = opened.reader.searcher();
    let query = opened.query("refund").expect("query");
    let best = opened.rank(&searcher, query.as_ref()).expect("rank")[0].best;
    let m = opened
        .snippet(&searcher, query.as_ref(), best)
        .expect("snippet")
        .expect("a match");
    assert_eq!(m.field, MatchField::Message);
    assert_eq!(m.message_id, Some(7));
    assert_eq!(
        m.snippet,
        "&lt;b&gt;Hi&lt;/b&gt; I want a <mark>refund</mark> &amp; more"
    );

    let query = opened.query("ALICE@example.com").expect("query");
    let found = opened.rank(&searcher, query.as_ref()).expect("rank");
    assert_eq!(found[0].conversation_id, 10);
    let m = opened
        .snippet(&searcher, query.as_ref(), found[0].best)
        .expect("snippet")
        .expect("a match");
    assert_eq!(m.field, MatchField::Contact);
    assert!(m.snippet.contains("<mark>alice</mark>"), "{}", m.snippet);
}
