//! Conversation summaries on every backend: resolving a conversation writes one (facts and
//! sentences, without private notes), which the `conversation.resolved` webhook, the resolve's
//! answer, the timeline line and `GET .../summaries` all carry; a transfer writes one too, on
//! `conversation.transferred`; the summaries are read under the same rules as the
//! conversation.

mod routing_support;

use std::time::Duration;

use kefu_tests::receiver::{Received, Receiver};
use kefu_tests::{TestApp, backends};
use reqwest::{Method, StatusCode};
use routing_support::*;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(20);

fn fast(c: &mut kefu_gateway::Config) {
    c.webhooks.retry_schedule_secs = Some(vec![0.0, 0.05, 0.05]);
    c.jobs.poll_interval_ms = 50;
}

async fn subscribe(app: &TestApp, url: &str, events: Value) {
    let (s, b) = app
        .admin(
            Method::POST,
            "/api/v1/webhooks",
            Some(json!({"url": url, "events": events})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
}

/// Posts as the admin, expecting `200 OK` or `201 Created`; returns the body.
async fn post(app: &TestApp, path: &str, body: Value) -> Value {
    let (s, b) = app.admin(Method::POST, path, Some(body)).await;
    assert!(s.is_success(), "{path}: {s} {b}");
    b
}

/// The first delivered event of type `kind`.
async fn delivered(rx: &Receiver, kind: &str) -> Value {
    let is = |r: &Received| r.json()["type"] == kind;
    let got = rx.wait_until(WAIT, |g| g.iter().any(is)).await;
    got.iter()
        .find(|r| is(r))
        .map(Received::json)
        .unwrap_or_else(|| panic!("no {kind} delivered"))
}

fn texts(summary: &Value) -> Vec<&str> {
    summary["sentences"]
        .as_array()
        .map(|s| s.iter().filter_map(|s| s["text"].as_str()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_resolved_conversation_is_summarized_for_the_webhook_the_api_and_the_timeline() {
    for backend in backends() {
        let app = TestApp::spawn_with(&backend, fast).await;
        let rx = Receiver::start().await;
        subscribe(&app, &rx.url, json!(["conversation.resolved"])).await;
        let inbox = app.loopback_inbox(json!({})).await;
        let conv = write_in(
            &app,
            inbox,
            "m1",
            "u1",
            "My order A1234 has not arrived. The tracking page has not changed for a week.",
        )
        .await;
        let path = |what: &str| format!("/api/v1/conversations/{conv}/{what}");
        post(
            &app,
            &path("messages"),
            json!({"text": "Internal: the warehouse lost order A1234.", "private": true}),
        )
        .await;
        post(
            &app,
            &path("messages"),
            json!({"text": "Sorry about that. Order A1234 is delayed at the warehouse; it ships on Friday."}),
        )
        .await;
        write_in(
            &app,
            inbox,
            "m2",
            "u1",
            "Thanks. Can I get a refund if order A1234 is not shipped on Friday?",
        )
        .await;
        post(&app, "/api/v1/labels", json!({"name": "shipping"})).await;
        let (s, b) = app
            .admin(
                Method::PUT,
                &path("labels"),
                Some(json!({"labels": ["shipping"]})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");

        let resolved = post(&app, &path("resolve"), json!(null)).await;
        let summary = &resolved["summary"];
        assert_eq!(summary["occasion"], "resolved", "{resolved}");
        assert_eq!(summary["source"], "extractive");
        let facts = &summary["facts"];
        assert_eq!(facts["channel"], "loopback", "{facts}");
        assert_eq!(facts["labels"], json!(["shipping"]));
        assert_eq!(facts["intent"], Value::Null);
        assert_eq!(
            facts["open_question"],
            "Can I get a refund if order A1234 is not shipped on Friday?"
        );
        assert!(
            facts["duration_secs"].as_i64().is_some_and(|d| d >= 0),
            "{facts}"
        );
        let said = texts(summary);
        assert!(!said.is_empty() && said.len() <= 3, "{summary}");
        assert!(said.iter().all(|s| !s.contains("Internal")), "{said:?}");
        assert!(said.iter().any(|s| s.contains("A1234")), "{said:?}");

        // The webhook carries the same summary.
        let hook = delivered(&rx, "conversation.resolved").await;
        assert_eq!(hook["data"]["id"], conv, "{hook}");
        assert_eq!(hook["data"]["status"], "resolved");
        assert_eq!(&hook["data"]["summary"], summary, "{backend:?}");

        // The timeline's line shows it, and so does the list of summaries.
        let (s, b) = app.admin(Method::GET, &path("activities"), None).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let line = b["items"]
            .as_array()
            .and_then(|l| l.iter().find(|l| l["kind"] == "resolved"))
            .cloned()
            .unwrap_or_default();
        assert_eq!(&line["summary"], summary, "{b}");
        assert_eq!(line["details"]["summary_id"], summary["id"]);
        let (s, b) = app.admin(Method::GET, &path("summaries"), None).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(b["items"], json!([summary]));
        app.stop().await;
    }
}

#[tokio::test]
async fn a_transfer_is_summarized_and_summaries_are_read_like_the_conversation() {
    for backend in backends() {
        let app = TestApp::spawn_with(&backend, fast).await;
        let rx = Receiver::start().await;
        subscribe(&app, &rx.url, json!(["conversation.transferred"])).await;
        let inbox = app.loopback_inbox(json!({})).await;
        let (li, li_token) = app.agent("li@x.io", "agent", json!({})).await;
        let (_, outsider) = app.agent("out@x.io", "agent", json!({})).await;
        app.join(inbox, li).await;
        let team = post(&app, "/api/v1/teams", json!({"name": "Tier 2"})).await;
        let conv = write_in(&app, inbox, "m1", "u1", "发票抬头开错了，怎么重新开？").await;
        let path = |what: &str| format!("/api/v1/conversations/{conv}/{what}");
        post(&app, &path("assign"), json!({"agent_id": li})).await;
        post(&app, &path("transfer"), json!({"team_id": team["id"]})).await;

        let hook = delivered(&rx, "conversation.transferred").await;
        let summary = &hook["data"]["summary"];
        assert_eq!(summary["occasion"], "transferred", "{hook}");
        assert_eq!(texts(summary), ["发票抬头开错了，怎么重新开？"]);
        assert_eq!(
            summary["facts"]["open_question"],
            "发票抬头开错了，怎么重新开？"
        );

        for (who, token, want) in [
            ("a member of the inbox", li_token.as_str(), StatusCode::OK),
            (
                "an agent outside it",
                outsider.as_str(),
                StatusCode::NOT_FOUND,
            ),
        ] {
            let (s, b) = app
                .call(Method::GET, &path("summaries"), Some(token), None)
                .await;
            assert_eq!(s, want, "{who}: {b}");
            if s == StatusCode::OK {
                assert_eq!(b["items"], json!([summary]), "{who}");
            }
        }
        let (s, _) = app.call(Method::GET, &path("summaries"), None, None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        app.stop().await;
    }
}
