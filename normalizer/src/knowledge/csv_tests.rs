use chrono::Utc;

use super::*;

fn entry(id: i64, question: &str, alternatives: &[&str], answer: &str) -> KnowledgeView {
    KnowledgeView {
        id,
        question: question.into(),
        alternatives: alternatives.iter().map(|s| (*s).to_owned()).collect(),
        answer: answer.into(),
        tags: vec!["shipping".into(), "运费".into()],
        locale: Some("zh-CN".into()),
        enabled: id % 2 == 1,
        attachments: Vec::new(),
        created_at: Utc::now(),
        updated_at: Utc::now(),
    }
}

#[test]
fn the_export_reads_back_as_the_same_entries() {
    let entries = [
        entry(
            3,
            "运费是多少, 怎么算?",
            &["邮费怎么算", "say \"shipping\""],
            "满 99 元包邮，\n不满收 10 元。",
        ),
        entry(8, "Returns", &[], "Use the order page."),
    ];
    let text = write(&entries);
    assert!(text.starts_with(BOM), "Excel needs the byte order mark");
    assert!(
        text.starts_with("\u{feff}id,question,alternatives,answer,tags,locale,enabled\r\n"),
        "{text}"
    );
    // RFC 4180: commas, quotes and line breaks are quoted, quotes doubled.
    assert!(
        text.contains("\"运费是多少, 怎么算?\",\"邮费怎么算\nsay \"\"shipping\"\"\""),
        "{text}"
    );
    let rows = parse(text.as_bytes()).expect("valid");
    let back: Vec<(usize, Option<i64>, KnowledgeInput)> =
        rows.into_iter().map(|r| (r.row, r.id, r.input)).collect();
    let want: Vec<(usize, Option<i64>, KnowledgeInput)> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            (
                i + 2,
                Some(e.id),
                KnowledgeInput {
                    question: e.question.clone(),
                    alternatives: e.alternatives.clone(),
                    answer: e.answer.clone(),
                    locale: e.locale.clone(),
                    tags: e.tags.clone(),
                    enabled: Some(e.enabled),
                    attachment_ids: None,
                },
            )
        })
        .collect();
    assert_eq!(back, want);
}

#[test]
fn columns_may_come_in_any_order_and_only_question_and_answer_are_needed() {
    let text =
        "Answer,QUESTION, tags\r\n\"Ten yuan\",Shipping?,\"a\r\nb\r\n\"\r\n,,\r\nFree,Returns?,\n";
    let rows = parse(text.as_bytes()).expect("valid");
    assert_eq!(rows.len(), 2, "the blank row is skipped: {rows:?}");
    assert_eq!(
        (rows[0].row, rows[0].id, rows[0].input.question.as_str()),
        (2, None, "Shipping?")
    );
    assert_eq!(rows[0].input.tags, ["a", "b"]);
    assert_eq!(rows[0].input.enabled, Some(true));
    assert_eq!((rows[1].row, rows[1].input.answer.as_str()), (4, "Free"));
}

#[test]
fn every_bad_cell_is_named_by_row_and_column() {
    let long = "x".repeat(501);
    let text = format!(
        "id,question,answer,enabled,locale\n\
         1,Fine,Yes,true,en\n\
         abc,Q,A,maybe,en\n\
         ,,An answer,,\n\
         1,Again,A,,\n\
         ,{long},A,,\n\
         ,Q,A,,not a locale\n\
         ,Q,A\n"
    );
    let errors = parse(text.as_bytes()).expect_err("invalid");
    let got: Vec<(usize, &str)> = errors.iter().map(|e| (e.row, e.field.as_str())).collect();
    assert_eq!(
        got,
        [
            (3, "id"),
            (3, "enabled"),
            (4, "question"),
            (5, "id"),
            (6, "question"),
            (7, "locale"),
            (8, "row"),
        ],
        "{errors:?}"
    );
    assert_eq!(errors[3].reason, "entry 1 is also on row 2");
}

#[test]
fn a_bad_header_or_file_is_row_one() {
    type Case<'a> = (&'a [u8], Vec<(usize, &'a str)>);
    let cases: [Case<'_>; 5] = [
        (b"", vec![(1, "file")]),
        (b"question\nQ\n", vec![(1, "answer")]),
        (b"question,answer,colour\nQ,A,red\n", vec![(1, "header")]),
        (b"question,answer,answer\nQ,A,A\n", vec![(1, "answer")]),
        (
            b"\xef\xbb\xbfquestion,answer\nQ,\xff\xfe\n",
            vec![(2, "answer")],
        ),
    ];
    for (bytes, want) in cases {
        let errors = parse(bytes).expect_err("invalid");
        let got: Vec<(usize, &str)> = errors.iter().map(|e| (e.row, e.field.as_str())).collect();
        assert_eq!(
            got,
            want,
            "{:?}: {errors:?}",
            String::from_utf8_lossy(bytes)
        );
    }
}

#[test]
fn a_file_may_hold_at_most_the_limit() {
    let mut text = String::from("question,answer\n");
    for i in 0..=MAX_IMPORT_ROWS {
        text.push_str(&format!("Q{i},A\n"));
    }
    let errors = parse(text.as_bytes()).expect_err("too many");
    assert_eq!(
        (errors.len(), errors[0].row, errors[0].field.as_str()),
        (1, MAX_IMPORT_ROWS + 2, "row")
    );
    text.truncate(text.trim_end().rfind('\n').expect("lines") + 1);
    assert_eq!(
        parse(text.as_bytes()).expect("at the limit").len(),
        MAX_IMPORT_ROWS
    );
}
