use chrono::TimeZone;
use serde_json::json;

use super::*;

fn at(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().expect("valid time")
}

#[test]
fn every_documented_event_type_round_trips() {
    let names = [
        "conversation.created",
        "conversation.queued",
        "conversation.assigned",
        "conversation.transferred",
        "conversation.resolved",
        "conversation.reopened",
        "conversation.updated",
        "conversation.closed",
        "conversation.labels_changed",
        "message.created",
        "message.updated",
        "message.failed",
        "contact.created",
        "contact.updated",
        "contact.merged",
        "contact.labels_changed",
        "agent.status_changed",
        "csat.requested",
        "csat.submitted",
        "conversation.bot_handoff",
    ];
    assert_eq!(EventType::ALL.map(EventType::as_str), names);
    for name in names {
        let parsed: EventType = name.parse().expect("known type");
        assert_eq!(parsed.to_string(), name);
    }
}

#[test]
fn filter_parsing() {
    assert_eq!(EventFilter::parse(&["*"]), Ok(EventFilter::All));
    assert_eq!(EventFilter::parse(&["*", "*"]), Ok(EventFilter::All));
    let only = EventFilter::parse(&["message.created", "conversation.created", "message.created"])
        .expect("valid");
    assert_eq!(only.names(), ["conversation.created", "message.created"]);

    let empty: [&str; 0] = [];
    let cases: &[(&[&str], FilterError)] = &[
        (&empty, FilterError::Empty),
        (&["*", "message.created"], FilterError::WildcardWithOthers),
        (
            &["message.created", "message.deleted"],
            FilterError::UnknownType("message.deleted".into()),
        ),
        (
            &["Message.Created"],
            FilterError::UnknownType("Message.Created".into()),
        ),
        (&["message.*"], FilterError::UnknownType("message.*".into())),
        (&[""], FilterError::UnknownType(String::new())),
    ];
    for (names, want) in cases {
        assert_eq!(EventFilter::parse(names).as_ref(), Err(want), "{names:?}");
    }
    let err = EventFilter::parse(&["conversation.deleted"]).expect_err("unknown");
    let text = err.to_string();
    assert!(
        text.starts_with("unknown event type \"conversation.deleted\"; known types: "),
        "{text}"
    );
    assert!(text.contains("agent.status_changed"), "{text}");
}

#[test]
fn filter_matching() {
    let only = EventFilter::parse(&["message.created", "contact.merged"]).expect("valid");
    assert!(only.matches(EventType::MessageCreated));
    assert!(only.matches(EventType::ContactMerged));
    assert!(!only.matches(EventType::MessageUpdated));
    assert!(EventFilter::All.matches(EventType::ConversationCreated));
    // A type added later still reaches "*" subscribers.
    assert!(EventFilter::All.matches(EventType::MessageFailed));
}

#[test]
fn filter_serde_is_the_api_list_form() {
    let only = EventFilter::parse(&["message.updated", "agent.status_changed"]).expect("valid");
    assert_eq!(
        serde_json::to_value(&only).expect("serializes"),
        json!(["message.updated", "agent.status_changed"])
    );
    assert_eq!(
        serde_json::to_value(EventFilter::All).expect("serializes"),
        json!(["*"])
    );
    let back: EventFilter = serde_json::from_value(json!(["*"])).expect("parses");
    assert_eq!(back, EventFilter::All);
    let err = serde_json::from_value::<EventFilter>(json!(["nope"])).expect_err("refused");
    assert!(
        err.to_string().contains("unknown event type \"nope\""),
        "{err}"
    );
}

#[test]
fn message_ids_are_stable_and_distinct() {
    let t = at(1_714_036_504_123);
    let id = MessageId::for_event(42, t);
    assert_eq!(id.as_str(), "msg_42_1714036504123");
    assert_eq!(id, MessageId::for_event(42, t), "redelivery reuses the id");
    assert_ne!(id, MessageId::for_event(43, t));
    assert_ne!(
        id,
        MessageId::for_event(42, at(1_800_000_000_000)),
        "a recreated database"
    );
    assert_eq!(id.event_id(), Some(42));
    assert!(!id.as_str().contains('.'));
    assert_eq!(
        serde_json::to_value(&id).expect("serializes"),
        json!("msg_42_1714036504123")
    );
}

#[test]
fn body_shape_is_exact() {
    let data = json!({"id": 7, "subject": "Où est ma commande ?", "tags": ["vip"]});
    let bytes = body(EventType::ConversationCreated, at(1_714_036_504_000), &data);
    assert_eq!(
        String::from_utf8(bytes.clone()).expect("utf-8"),
        r#"{"type":"conversation.created","timestamp":"2024-04-25T09:15:04.000Z","data":{"id":7,"subject":"Où est ma commande ?","tags":["vip"]}}"#
    );
    let parsed: serde_json::Value = serde_json::from_slice(&bytes).expect("valid JSON");
    assert_eq!(parsed["data"], data);
}

#[test]
fn message_from_a_relayed_event() {
    let event = kefu_normalizer::Event {
        id: 9,
        timestamp: at(1_700_000_000_500),
        conversation_id: None,
        data: kefu_normalizer::EventData::AgentStatusChanged(
            kefu_normalizer::views::AgentStatusView {
                agent_id: 11,
                status: kefu_normalizer::AgentStatus::Online,
                previous: kefu_normalizer::AgentStatus::Offline,
            },
        ),
    };
    let msg = WebhookMessage::from_event(&event).expect("renders");
    assert_eq!(msg.id.as_str(), "msg_9_1700000000500");
    assert_eq!(msg.event_type, EventType::AgentStatusChanged);
    assert_eq!(
        String::from_utf8(msg.body.clone()).expect("utf-8"),
        r#"{"type":"agent.status_changed","timestamp":"2023-11-14T22:13:20.500Z","data":{"agent_id":11,"previous":"offline","status":"online"}}"#
    );
    assert_eq!(WebhookMessage::from_event(&event).expect("renders"), msg);
}

#[test]
fn response_excerpts() {
    let long_ascii = "a".repeat(5000);
    let e_acute_run = "é".repeat(600); // 1200 bytes; byte 1024 ends a character
    let cut_mid = format!("{}€tail", "a".repeat(1022)); // € spans bytes 1022..1025
    let invalid_run = vec![0xffu8; 2000];
    let cases: Vec<(&str, Vec<u8>, String)> = vec![
        ("empty", vec![], String::new()),
        ("short", b"ok".to_vec(), "ok".into()),
        (
            "long ascii",
            long_ascii.clone().into_bytes(),
            "a".repeat(1024),
        ),
        ("two-byte chars", e_acute_run.into_bytes(), "é".repeat(512)),
        ("split char dropped", cut_mid.into_bytes(), "a".repeat(1022)),
        (
            "invalid byte",
            b"bad \xff byte".to_vec(),
            "bad \u{FFFD} byte".into(),
        ),
        ("NUL", b"a\0b".to_vec(), "a\u{FFFD}b".into()),
        ("all invalid", invalid_run, "\u{FFFD}".repeat(341)),
    ];
    for (name, input, want) in cases {
        let got = response_excerpt(&input);
        assert!(
            got.len() <= RESPONSE_EXCERPT_BYTES,
            "{name}: {} bytes",
            got.len()
        );
        assert_eq!(got, want, "{name}");
    }
}
