//! The requests built for drafts and summaries, and the checks on the model's answers.

use kefu_normalizer::summaries::{Speaker, SummaryFacts, SummaryInput, SummaryMessage};

use super::*;

fn said(speaker: Speaker, text: &str) -> SummaryMessage {
    SummaryMessage {
        speaker,
        text: text.to_owned(),
    }
}

fn sources() -> Vec<Source> {
    vec![
        Source {
            knowledge_id: 7,
            question: "How much is shipping?".into(),
            answer: "Shipping is free over 99 yuan.".into(),
        },
        Source {
            knowledge_id: 9,
            question: "How do I return an item?".into(),
            answer: "Returns are free within 7 days.".into(),
        },
    ]
}

fn facts() -> SummaryFacts {
    SummaryFacts {
        channel: Some("web_chat".into()),
        duration_secs: Some(60),
        intent: None,
        labels: vec!["shipping".into()],
        open_question: Some("extractive question?".into()),
    }
}

#[test]
fn a_draft_request_carries_the_entries_and_the_newest_messages() {
    let mut thread: Vec<SummaryMessage> = (0..30)
        .map(|i| said(Speaker::Agent, &format!("old message {i}")))
        .collect();
    thread.push(said(Speaker::Customer, "Is shipping free?"));
    let req = draft_request(&sources(), &thread);
    assert_eq!(req.len(), 2);
    assert_eq!(req[0].role, Role::System);
    let user = &req[1].content;
    assert!(user.contains("[7] Q: How much is shipping?\nA: Shipping is free over 99 yuan."));
    assert!(user.contains("[9] Q: How do I return an item?"));
    assert!(user.ends_with("Customer: Is shipping free?"), "{user}");
    assert!(
        !user.contains("old message 10\n"),
        "only the newest messages"
    );
    assert!(user.contains("old message 29"));
}

#[test]
fn drafts_are_parsed_and_citations_kept_only_when_given() {
    let cases = [
        (
            r#"{"answer": " Shipping is free over 99 yuan. ", "citations": [7, 7, 42]}"#,
            Ok(("Shipping is free over 99 yuan.", vec![7])),
        ),
        (
            "```json\n{\"answer\": \"Free.\", \"citations\": [9]}\n```",
            Ok(("Free.", vec![9])),
        ),
        (
            r#"{"answer": "I will check."}"#,
            Ok(("I will check.", vec![])),
        ),
        (r#"{"answer": "  ", "citations": []}"#, Err("empty")),
        ("Shipping is free.", Err("not the JSON")),
        (r#"{"answer": "x", "sources": [7]}"#, Err("not the JSON")),
    ];
    for (content, want) in cases {
        let got = parse_draft(content, &sources());
        match (got, want) {
            (Ok(d), Ok((text, citations))) => {
                assert_eq!(d.text, text, "{content}");
                assert_eq!(d.citations, citations, "{content}");
            }
            (Err(LlmError::BadAnswer(e)), Err(part)) => assert!(e.contains(part), "{e}"),
            (got, _) => panic!("{content}: {got:?}"),
        }
    }
}

#[test]
fn summaries_fit_the_schema_or_are_refused() {
    let ok = r#"{"sentences": [{"speaker": "customer", "text": "Order A1 is late."},
                               {"speaker": "agent", "text": "It ships Friday."}],
                 "open_question": "Can I get a refund?"}"#;
    let body = parse_summary(ok, facts()).expect("fits");
    assert_eq!(body.source, "llm");
    assert_eq!(body.sentences.len(), 2);
    assert_eq!(body.sentences[1].speaker, Speaker::Agent);
    assert_eq!(
        body.facts.open_question.as_deref(),
        Some("Can I get a refund?")
    );
    assert_eq!(
        body.facts.labels,
        ["shipping"],
        "the facts are computed, not asked"
    );
    let no_question =
        r#"{"sentences": [{"speaker": "bot", "text": "Hi."}], "open_question": null}"#;
    assert_eq!(
        parse_summary(no_question, facts())
            .expect("fits")
            .facts
            .open_question,
        None
    );
    let long = "x".repeat(401);
    let six = [r#"{"speaker": "agent", "text": "a"}"#; 6].join(",");
    for bad in [
        r#"{"sentences": [], "open_question": null}"#.to_owned(),
        format!(r#"{{"sentences": [{six}], "open_question": null}}"#),
        r#"{"sentences": [{"speaker": "manager", "text": "a"}], "open_question": null}"#.to_owned(),
        r#"{"sentences": [{"speaker": "agent", "text": " "}], "open_question": null}"#.to_owned(),
        format!(r#"{{"sentences": [{{"speaker": "agent", "text": "{long}"}}], "open_question": null}}"#),
        r#"{"sentences": [{"speaker": "agent", "text": "a"}], "open_question": null, "mood": "ok"}"#.to_owned(),
        r#"{"summary": "The customer was angry."}"#.to_owned(),
        "not json".to_owned(),
    ] {
        assert!(
            matches!(parse_summary(&bad, facts()), Err(LlmError::BadAnswer(_))),
            "{bad}"
        );
    }
}

#[test]
fn a_summary_request_keeps_the_newest_messages_within_its_size() {
    let messages: Vec<SummaryMessage> = (0..100)
        .map(|i| said(Speaker::Customer, &format!("{i:03} {}", "y".repeat(1_000))))
        .collect();
    let input = SummaryInput {
        channel: None,
        labels: vec![],
        intent: None,
        started_at: None,
        ended_at: chrono::Utc::now(),
        messages,
    };
    let req = summary_request(&input);
    let user = &req[1].content;
    assert!(user.contains("099 "), "the newest message is sent");
    assert!(!user.contains("000 "), "the oldest is left out");
    assert!(user.chars().count() <= MAX_SUMMARY_INPUT_CHARS + 100);
}
