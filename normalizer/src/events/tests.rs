//! The wire and stored forms of every event type, against golden JSON.
//!
//! The goldens are the bytes the untyped code produced (`json!(view)` for the views,
//! `json!({"contact": .., "merged_id": ..})` and `json!({"agent_id", "status", "previous"})`
//! for the two ad-hoc payloads). Webhook receivers, consoles and outbox rows already in a
//! database depend on them, so a failure here is a breaking change, not a golden to refresh.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};

use super::*;
use crate::entity::agent::AgentStatus;
use crate::entity::message::{DeliveryStatus, Direction, SenderType};
use crate::status::Status;
use crate::views::{
    AgentStatusView, AttachmentView, ContactLabelsView, ContactMergedView, ContactSummary,
    ContactView, ContentView, ConversationLabelsView, ConversationView, DeliveryView, IdentityView,
    MessageView, SenderView,
};

pub(super) fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 123_000_000)
        .single()
        .expect("valid time")
}

fn conversation() -> ConversationView {
    ConversationView {
        id: 7,
        inbox_id: 2,
        contact: ContactSummary {
            id: 5,
            name: Some("Lǐ Wěi".into()),
            email: None,
        },
        status: Status::Assigned,
        priority: 1,
        skills: BTreeMap::from([("billing".to_owned(), 2)]),
        assignee_id: Some(3),
        team_id: None,
        subject: Some("Où est ma commande ?".into()),
        last_seq: 4,
        created_at: at(1_714_036_504),
        last_message_at: at(1_714_036_600),
        sentiment: None,
        intent: None,
        summary: None,
    }
}

pub(super) const CONVERSATION: &str = r#"{"assignee_id":3,"contact":{"email":null,"id":5,"name":"Lǐ Wěi"},"created_at":"2024-04-25T09:15:04.123Z","id":7,"inbox_id":2,"last_message_at":"2024-04-25T09:16:40.123Z","last_seq":4,"priority":1,"skills":{"billing":2},"status":"assigned","subject":"Où est ma commande ?","team_id":null}"#;

pub(super) fn message() -> MessageView {
    MessageView {
        id: 11,
        conversation_id: 7,
        seq: 4,
        direction: Direction::Outbound,
        private: false,
        sender: SenderView {
            kind: SenderType::Agent,
            id: Some(3),
            name: Some("Ada".into()),
        },
        content: ContentView {
            text: "Voilà \"le\" suivi".into(),
            html: None,
            attachments: vec![AttachmentView {
                id: Some(9),
                name: "label.pdf".into(),
                mime: "application/pdf".into(),
                size: Some(2048),
                url: None,
            }],
            extra: None,
        },
        delivery: Some(DeliveryView {
            status: DeliveryStatus::Pending,
            error: None,
            attempts: 0,
            details: None,
            channel: None,
            fallback_from: None,
            fallback_to: None,
        }),
        created_at: at(1_714_036_600),
        client_id: None,
    }
}

pub(super) const MESSAGE: &str = r#"{"content":{"attachments":[{"id":9,"mime":"application/pdf","name":"label.pdf","size":2048,"url":null}],"text":"Voilà \"le\" suivi"},"conversation_id":7,"created_at":"2024-04-25T09:16:40.123Z","delivery":{"attempts":0,"status":"pending"},"direction":"outbound","id":11,"private":false,"sender":{"id":3,"name":"Ada","type":"agent"},"seq":4}"#;

fn contact() -> ContactView {
    ContactView {
        id: 5,
        name: Some("Lǐ Wěi".into()),
        email: Some("li@example.com".into()),
        phone: None,
        attributes: json!({"vip_level": 2, "language": "zh-CN"}),
        merged_into_id: None,
        identities: vec![IdentityView {
            inbox_id: 2,
            external_id: "oLVPpjqs9BhvzwPj5A-vTYAX3GLc".into(),
            display_name: None,
        }],
        created_at: at(1_714_036_504),
    }
}

const CONTACT: &str = r#"{"attributes":{"language":"zh-CN","vip_level":2},"created_at":"2024-04-25T09:15:04.123Z","email":"li@example.com","id":5,"identities":[{"display_name":null,"external_id":"oLVPpjqs9BhvzwPj5A-vTYAX3GLc","inbox_id":2}],"merged_into_id":null,"name":"Lǐ Wěi","phone":null}"#;

const AGENT: &str = r#"{"agent_id":3,"previous":"online","status":"away"}"#;

const CONVERSATION_LABELS: &str =
    r#"{"added":["vip"],"conversation_id":7,"labels":["refund","vip"],"removed":["spam"]}"#;

const CONTACT_LABELS: &str =
    r#"{"added":["vip"],"contact_id":5,"labels":["vip","退款"],"removed":[]}"#;

const CSAT_REQUESTED: &str = r#"{"agent_id":3,"channel":"web_chat","comment":null,"contact_id":5,"conversation_id":7,"id":9,"inbox_id":2,"rating":null,"requested_at":"2024-04-25T09:15:04.123Z","status":"requested","submitted_at":null,"team_id":null}"#;

const CSAT_SUBMITTED: &str = r#"{"agent_id":3,"channel":"web_chat","comment":"快","contact_id":5,"conversation_id":7,"id":9,"inbox_id":2,"rating":4,"requested_at":"2024-04-25T09:15:04.123Z","status":"submitted","submitted_at":"2024-04-25T09:15:04.123Z","team_id":null}"#;

const BOT_HANDOFF: &str =
    r#"{"conversation_id":7,"inbox_id":2,"message_id":11,"reason":"asked_for_human"}"#;

fn csat(rating: Option<i16>) -> crate::csat::CsatView {
    crate::csat::CsatView {
        id: 9,
        conversation_id: 7,
        inbox_id: 2,
        contact_id: 5,
        agent_id: Some(3),
        team_id: None,
        channel: "web_chat".into(),
        status: if rating.is_some() {
            crate::csat::SurveyStatus::Submitted
        } else {
            crate::csat::SurveyStatus::Requested
        },
        skip_reason: None,
        rating,
        comment: rating.map(|_| "快".into()),
        requested_at: at(1_714_036_504),
        submitted_at: rating.map(|_| at(1_714_036_504)),
    }
}

/// One event of every type, with its golden wire JSON.
pub(super) fn every_type() -> Vec<(EventData, String)> {
    let conv = conversation;
    let merged = format!(r#"{{"contact":{CONTACT},"merged_id":6}}"#);
    vec![
        (
            EventData::ConversationCreated(NewConversation {
                conversation: conv(),
                external_id: Some("oLVPpjqs9BhvzwPj5A-vTYAX3GLc".into()),
            }),
            CONVERSATION.into(),
        ),
        (EventData::ConversationQueued(conv()), CONVERSATION.into()),
        (EventData::ConversationAssigned(conv()), CONVERSATION.into()),
        (
            EventData::ConversationTransferred(conv()),
            CONVERSATION.into(),
        ),
        (EventData::ConversationResolved(conv()), CONVERSATION.into()),
        (EventData::ConversationReopened(conv()), CONVERSATION.into()),
        (EventData::ConversationUpdated(conv()), CONVERSATION.into()),
        (EventData::ConversationClosed(conv()), CONVERSATION.into()),
        (
            EventData::ConversationLabelsChanged(ConversationLabelsView {
                conversation_id: 7,
                labels: vec!["refund".into(), "vip".into()],
                added: vec!["vip".into()],
                removed: vec!["spam".into()],
            }),
            CONVERSATION_LABELS.into(),
        ),
        (EventData::MessageCreated(message()), MESSAGE.into()),
        (EventData::MessageUpdated(message()), MESSAGE.into()),
        (EventData::MessageFailed(message()), MESSAGE.into()),
        (EventData::ContactCreated(contact()), CONTACT.into()),
        (EventData::ContactUpdated(contact()), CONTACT.into()),
        (
            EventData::ContactMerged(ContactMergedView {
                contact: contact(),
                merged_id: 6,
            }),
            merged,
        ),
        (
            EventData::ContactLabelsChanged(ContactLabelsView {
                contact_id: 5,
                labels: vec!["vip".into(), "退款".into()],
                added: vec!["vip".into()],
                removed: vec![],
            }),
            CONTACT_LABELS.into(),
        ),
        (
            EventData::AgentStatusChanged(AgentStatusView {
                agent_id: 3,
                status: AgentStatus::Away,
                previous: AgentStatus::Online,
            }),
            AGENT.into(),
        ),
        (EventData::CsatRequested(csat(None)), CSAT_REQUESTED.into()),
        (
            EventData::CsatSubmitted(csat(Some(4))),
            CSAT_SUBMITTED.into(),
        ),
        (
            EventData::ConversationBotHandoff(crate::knowledge::BotHandoffView {
                conversation_id: 7,
                inbox_id: 2,
                reason: crate::knowledge::HandoffReason::AskedForHuman,
                message_id: 11,
            }),
            BOT_HANDOFF.into(),
        ),
    ]
}

#[test]
fn every_type_is_covered_once() {
    let kinds: Vec<EventType> = every_type().iter().map(|(d, _)| d.kind()).collect();
    assert_eq!(kinds, EventType::ALL);
}

#[test]
fn the_wire_form_is_byte_compatible_with_the_untyped_payloads() {
    for (data, golden) in every_type() {
        let kind = data.kind();
        assert_eq!(
            data.to_value().expect("renders").to_string(),
            golden,
            "{kind}"
        );
    }
    // The goldens are what the untyped producers wrote: `json!` of the view, or of an object.
    assert_eq!(json!(conversation()).to_string(), CONVERSATION);
    assert_eq!(json!(message()).to_string(), MESSAGE);
    assert_eq!(
        json!({"agent_id": 3, "status": "away", "previous": "online"}).to_string(),
        AGENT
    );
    assert_eq!(
        json!({"contact": contact(), "merged_id": 6}).to_string(),
        format!(r#"{{"contact":{CONTACT},"merged_id":6}}"#)
    );
}

/// `conversation.resolved` with its summary: the conversation's keys plus `summary`, and the
/// stored form decodes back to the same event.
#[test]
fn a_resolved_event_carries_its_summary() {
    use crate::entity::conversation_summary::Occasion;
    use crate::summaries::{Speaker, SummaryFacts, SummarySentence, SummaryView};
    let mut c = conversation();
    c.status = Status::Resolved;
    c.summary = Some(SummaryView {
        id: 9,
        conversation_id: 7,
        occasion: Occasion::Resolved,
        source: "extractive".into(),
        facts: SummaryFacts {
            channel: Some("web_chat".into()),
            duration_secs: Some(96),
            intent: None,
            labels: vec!["refund".into()],
            open_question: Some("还能退款吗？".into()),
        },
        sentences: vec![SummarySentence {
            speaker: Speaker::Customer,
            text: "我的订单还没到。".into(),
        }],
        llm_error: None,
        created_at: at(1_714_036_600),
    });
    let data = EventData::ConversationResolved(c);
    let wire = data.to_value().expect("renders");
    assert_eq!(
        wire["summary"],
        json!({
            "id": 9, "conversation_id": 7, "occasion": "resolved", "source": "extractive",
            "facts": {"channel": "web_chat", "duration_secs": 96, "intent": null,
                "labels": ["refund"], "open_question": "还能退款吗？"},
            "sentences": [{"speaker": "customer", "text": "我的订单还没到。"}],
            "created_at": "2024-04-25T09:16:40.123Z",
        })
    );
    assert_eq!(wire["id"], 7);
    let stored = data.stored().expect("stores");
    assert_eq!(
        EventData::decode(EventType::ConversationResolved, stored).expect("decodes"),
        data
    );
}

#[test]
fn rows_written_before_events_were_typed_still_decode() {
    for (data, golden) in every_type() {
        let kind = data.kind();
        let stored: Value = serde_json::from_str(&golden).expect("golden is JSON");
        let decoded = EventData::decode(kind, stored).expect("decodes");
        let expected = match data {
            // Old rows do not say whose the conversation is.
            EventData::ConversationCreated(c) => EventData::ConversationCreated(NewConversation {
                external_id: None,
                ..c
            }),
            other => other,
        };
        assert_eq!(decoded, expected, "{kind}");
        assert_eq!(decoded.to_value().expect("renders").to_string(), golden);
    }
}

#[test]
fn the_stored_form_round_trips_and_keeps_routing_off_the_wire() {
    for (data, golden) in every_type() {
        let kind = data.kind();
        let stored = data.stored().expect("stores");
        assert_eq!(
            stored.get(ROUTING_KEY).is_some(),
            kind == EventType::ConversationCreated,
            "{kind}"
        );
        let back = EventData::decode(kind, stored).expect("decodes");
        assert_eq!(back, data, "{kind}");
        assert_eq!(back.to_value().expect("renders").to_string(), golden);
    }
}

#[test]
fn a_payload_of_the_wrong_shape_is_refused() {
    let err = EventData::decode(
        EventType::MessageCreated,
        serde_json::from_str(AGENT).expect("json"),
    );
    assert!(err.is_err());
    assert!("test.unknown".parse::<EventType>().is_err());
}

#[test]
fn event_types_serialize_as_their_wire_names() {
    for kind in EventType::ALL {
        let v = serde_json::to_value(kind).expect("serializes");
        assert_eq!(v, json!(kind.as_str()));
        assert_eq!(
            serde_json::from_value::<EventType>(v).expect("parses"),
            kind
        );
    }
}
