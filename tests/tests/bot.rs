//! The FAQ bot, on every backend: in `auto` mode it answers a confident match as a `bot`
//! message while agents are not offered the conversation; it hands off (a structured decision:
//! `conversation.bot_handoff`, a timeline line, the conversation queued for agents) on a weak
//! match, when the customer asks for a person, and after `max_answers` answers in a row; it
//! never answers a conversation a human holds; every decision is stored with its candidates.

mod routing_support;

use std::time::Duration;

use kefu_normalizer::entity::outbox_event;
use kefu_normalizer::{EventData, EventType};
use kefu_tests::{TestApp, backends, eventually};
use reqwest::{Method, StatusCode};
use routing_support::{assigned_to, conversation, online_agent, write_in};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(10);

async fn add(app: &TestApp, question: &str, alternatives: Value, answer: &str) -> i64 {
    let body = json!({"question": question, "alternatives": alternatives, "answer": answer});
    let (s, b) = app
        .admin(Method::POST, "/api/v1/knowledge", Some(body))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    b["id"].as_i64().expect("id")
}

/// Shipping and returns, in Chinese.
async fn faq(app: &TestApp) -> (i64, i64) {
    (
        add(
            app,
            "运费是多少钱",
            json!(["邮费怎么算"]),
            "满 99 元包邮，不满收 10 元运费。",
        )
        .await,
        add(
            app,
            "退货流程是什么",
            json!(["怎么退货"]),
            "在订单页点“申请退货”，寄回后 3 天内退款。",
        )
        .await,
    )
}

async fn put_bot(app: &TestApp, inbox: i64, body: Value) -> (StatusCode, Value) {
    app.admin(
        Method::PUT,
        &format!("/api/v1/inboxes/{inbox}/bot"),
        Some(body),
    )
    .await
}

/// Waits until every outbox event has been relayed, so the fan-out (and the bot) has seen
/// every message.
async fn until_relayed(app: &TestApp) {
    let db = app.state.db.conn();
    eventually(WAIT, || async {
        let waiting = outbox_event::Entity::find()
            .filter(outbox_event::Column::RelayedAt.is_null())
            .count(db)
            .await
            .ok()?;
        (waiting == 0).then_some(())
    })
    .await
    .expect("the outbox is relayed");
}

/// The bot's messages in a conversation, oldest first.
async fn bot_messages(app: &TestApp, conv: i64) -> Vec<Value> {
    app.messages(conv)
        .await
        .into_iter()
        .filter(|m| m["sender"]["type"] == "bot")
        .collect()
}

/// Waits until the bot has sent `n` messages in the conversation; returns them.
async fn until_bot_messages(app: &TestApp, conv: i64, n: usize) -> Vec<Value> {
    app.until_event(&format!("{n} bot messages"), || async {
        let m = bot_messages(app, conv).await;
        (m.len() >= n).then_some(m)
    })
    .await
}

async fn decisions(app: &TestApp, conv: i64) -> Vec<Value> {
    let (s, b) = app
        .admin(
            Method::GET,
            &format!("/api/v1/conversations/{conv}/bot-decisions"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    b["items"].as_array().cloned().unwrap_or_default()
}

/// Waits for the `conversation.bot_handoff` of `conv`; returns its reason.
async fn handoff_reason(
    events: &mut tokio::sync::broadcast::Receiver<std::sync::Arc<kefu_normalizer::Event>>,
    conv: i64,
) -> String {
    loop {
        let ev = tokio::time::timeout(WAIT, events.recv())
            .await
            .expect("the handoff arrives")
            .expect("no lag");
        if let EventData::ConversationBotHandoff(h) = &ev.data
            && h.conversation_id == conv
        {
            assert_eq!(ev.kind(), EventType::ConversationBotHandoff);
            let wire = ev.data.to_value().expect("json");
            assert_eq!(wire["conversation_id"], conv, "{wire}");
            return wire["reason"].as_str().unwrap_or_default().to_owned();
        }
    }
}

async fn activity_kinds(app: &TestApp, conv: i64) -> Vec<Value> {
    let (s, b) = app
        .admin(
            Method::GET,
            &format!("/api/v1/conversations/{conv}/activities"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    b["items"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn the_bot_answers_then_hands_a_weak_match_to_an_agent_and_stays_silent() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let (shipping, returns) = faq(&app).await;
        let inbox = app.loopback_inbox(json!({})).await;
        let (agent, _) = online_agent(&app, "li@x.io", json!({}), 5).await;
        let (s, b) = put_bot(&app, inbox, json!({"mode": "auto"})).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(
            (
                &b["mode"],
                &b["min_score"],
                &b["min_margin"],
                &b["max_answers"]
            ),
            (&json!("auto"), &json!(0.35), &json!(0.05), &json!(3)),
            "{b}"
        );

        // A confident match is answered by the bot; the agent is not offered the conversation.
        let conv = write_in(&app, inbox, "m1", "u1", "运费多少").await;
        let answers = until_bot_messages(&app, conv, 1).await;
        assert_eq!(
            answers[0]["content"]["text"],
            "满 99 元包邮，不满收 10 元运费。"
        );
        assert_eq!(answers[0]["direction"], "outbound");
        app.wait_delivery(conv, &answers[0]["id"], &["sent", "delivered"])
            .await;
        let report = app.state.dispatcher.run_round().await.expect("round");
        assert!(report.assigned.is_empty(), "{report:?}");
        let c = conversation(&app, conv).await;
        assert_eq!(
            (&c["status"], &c["assignee_id"]),
            (&json!("queued"), &Value::Null),
            "{c}"
        );

        write_in(&app, inbox, "m2", "u1", "退货流程").await;
        let answers = until_bot_messages(&app, conv, 2).await;
        assert_eq!(
            answers[1]["content"]["text"],
            "在订单页点“申请退货”，寄回后 3 天内退款。"
        );

        // A question the knowledge base does not cover goes to the agent.
        let mut events = app.state.bus.subscribe();
        write_in(&app, inbox, "m3", "u1", "你们周末上班吗").await;
        assert_eq!(handoff_reason(&mut events, conv).await, "weak_match");
        assigned_to(&app, conv, agent).await;
        let lines = activity_kinds(&app, conv).await;
        let handoff = lines
            .iter()
            .find(|l| l["kind"] == "bot_handoff")
            .expect("a handoff line");
        assert_eq!(handoff["details"]["reason"], "weak_match", "{handoff}");

        // Every decision is kept with its candidates.
        let d = decisions(&app, conv).await;
        let summary: Vec<(Value, Value, Value)> = d
            .iter()
            .map(|d| {
                (
                    d["action"].clone(),
                    d["reason"].clone(),
                    d["knowledge_id"].clone(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (json!("answer"), Value::Null, json!(shipping)),
                (json!("answer"), Value::Null, json!(returns)),
                (json!("handoff"), json!("weak_match"), Value::Null),
            ]
        );
        assert_eq!(
            d[0]["candidates"][0],
            json!({"knowledge_id": shipping, "score": 0.786})
        );

        // The agent holds it now: the bot stays silent, even on a question it knows.
        write_in(&app, inbox, "m4", "u1", "运费多少").await;
        until_relayed(&app).await;
        assert_eq!(bot_messages(&app, conv).await.len(), 2);
        assert_eq!(decisions(&app, conv).await.len(), 3);
        app.stop().await;
    }
}

#[tokio::test]
async fn asking_for_a_person_or_too_many_answers_hands_off() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        faq(&app).await;
        let inbox = app.loopback_inbox(json!({})).await;
        let (agent, _) = online_agent(&app, "li@x.io", json!({}), 5).await;
        let (s, b) = put_bot(&app, inbox, json!({"mode": "auto", "max_answers": 1})).await;
        assert_eq!(s, StatusCode::OK, "{b}");

        let mut events = app.state.bus.subscribe();
        let first = write_in(&app, inbox, "m1", "u1", "转人工").await;
        assert_eq!(handoff_reason(&mut events, first).await, "asked_for_human");
        assigned_to(&app, first, agent).await;
        assert!(bot_messages(&app, first).await.is_empty());

        let second = write_in(&app, inbox, "m2", "u2", "运费多少").await;
        until_bot_messages(&app, second, 1).await;
        write_in(&app, inbox, "m3", "u2", "退货流程").await;
        assert_eq!(
            handoff_reason(&mut events, second).await,
            "too_many_answers"
        );
        assigned_to(&app, second, agent).await;
        assert_eq!(bot_messages(&app, second).await.len(), 1);
        app.stop().await;
    }
}

#[tokio::test]
async fn bot_settings_are_checked() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let inbox = app.loopback_inbox(json!({})).await;
        let path = format!("/api/v1/inboxes/{inbox}/bot");
        let (s, b) = app.admin(Method::GET, &path, None).await;
        assert_eq!((s, &b["mode"]), (StatusCode::OK, &json!("off")), "{b}");
        for (body, field) in [
            (json!({"mode": "auto", "min_score": 1.5}), "min_score"),
            (json!({"mode": "auto", "min_margin": -0.1}), "min_margin"),
            (json!({"mode": "auto", "max_answers": 0}), "max_answers"),
        ] {
            let (s, b) = put_bot(&app, inbox, body).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
            assert_eq!(b["field"], field, "{b}");
        }
        let (s, b) = put_bot(&app, inbox, json!({"mode": "sometimes"})).await;
        assert!(s.is_client_error() && b["code"].is_string(), "{s} {b}");
        let (_, agent) = app.agent("agent@x.io", "agent", json!({})).await;
        let (s, _) = app
            .call(
                Method::PUT,
                &path,
                Some(&agent),
                Some(json!({"mode": "auto"})),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, b) = put_bot(&app, 999_999, json!({"mode": "auto"})).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
        app.stop().await;
    }
}

#[tokio::test]
async fn a_strongly_negative_message_is_handed_to_a_person() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        faq(&app).await;
        let inbox = app.loopback_inbox(json!({})).await;
        let (agent, _) = online_agent(&app, "li@x.io", json!({}), 5).await;
        let (s, b) = put_bot(&app, inbox, json!({"mode": "auto"})).await;
        assert_eq!(s, StatusCode::OK, "{b}");

        // The bot knows the answer, but the customer is complaining: a person takes it.
        let mut events = app.state.bus.subscribe();
        let conv = write_in(&app, inbox, "m1", "u1", "运费多少？？？我要投诉").await;
        assert_eq!(
            handoff_reason(&mut events, conv).await,
            "negative_sentiment"
        );
        assigned_to(&app, conv, agent).await;
        assert!(bot_messages(&app, conv).await.is_empty());
        app.stop().await;
    }
}

async fn schedule(app: &TestApp, name: &str, weekly: Value) -> i64 {
    let (s, b) = app
        .admin(
            Method::POST,
            "/api/v1/schedules",
            Some(json!({"name": name, "time_zone": "UTC", "weekly": weekly})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    b["id"].as_i64().expect("id")
}

#[tokio::test]
async fn outside_its_hours_the_bot_hands_off_even_what_it_knows() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        faq(&app).await;
        let inbox = app.loopback_inbox(json!({})).await;
        let (agent, _) = online_agent(&app, "li@x.io", json!({}), 5).await;
        let day = json!([["00:00", "24:00"]]);
        let always = schedule(
            &app,
            "Always",
            json!({"mon": day, "tue": day, "wed": day, "thu": day, "fri": day, "sat": day, "sun": day}),
        )
        .await;
        let never = schedule(&app, "Never", json!({})).await;

        let (s, b) = put_bot(&app, inbox, json!({"mode": "auto", "schedule_id": 999_999})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert_eq!(b["field"], "schedule_id", "{b}");

        // Within its hours the bot answers.
        let (s, b) = put_bot(&app, inbox, json!({"mode": "auto", "schedule_id": always})).await;
        assert_eq!(
            (s, &b["schedule_id"]),
            (StatusCode::OK, &json!(always)),
            "{b}"
        );
        let first = write_in(&app, inbox, "m1", "u1", "运费多少").await;
        until_bot_messages(&app, first, 1).await;

        // Outside them it hands the same question to a person; leaving `schedule_id` out of
        // an update keeps it.
        let (s, b) = put_bot(&app, inbox, json!({"mode": "auto", "schedule_id": never})).await;
        assert_eq!(
            (s, &b["schedule_id"]),
            (StatusCode::OK, &json!(never)),
            "{b}"
        );
        let (s, b) = put_bot(&app, inbox, json!({"mode": "auto", "max_answers": 2})).await;
        assert_eq!(
            (s, &b["schedule_id"]),
            (StatusCode::OK, &json!(never)),
            "{b}"
        );
        let mut events = app.state.bus.subscribe();
        let second = write_in(&app, inbox, "m2", "u2", "运费多少").await;
        assert_eq!(handoff_reason(&mut events, second).await, "outside_hours");
        assigned_to(&app, second, agent).await;
        assert!(bot_messages(&app, second).await.is_empty());
        let lines = activity_kinds(&app, second).await;
        let handoff = lines
            .iter()
            .find(|l| l["kind"] == "bot_handoff")
            .expect("a handoff line");
        assert_eq!(handoff["details"]["reason"], "outside_hours", "{handoff}");

        // The bot's schedule cannot be deleted while the bot keeps it.
        let (s, b) = app
            .admin(Method::DELETE, &format!("/api/v1/schedules/{never}"), None)
            .await;
        assert_eq!(
            (s, &b["code"]),
            (StatusCode::CONFLICT, &json!("schedule_in_use")),
            "{b}"
        );
        let (s, b) = put_bot(&app, inbox, json!({"mode": "auto", "schedule_id": null})).await;
        assert_eq!(
            (s, &b["schedule_id"]),
            (StatusCode::OK, &Value::Null),
            "{b}"
        );
        let (s, b) = app
            .admin(Method::DELETE, &format!("/api/v1/schedules/{never}"), None)
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT, "{b}");
        app.stop().await;
    }
}
