//! The public widget's abuse limits, per inbox and client address: tabs held open and new
//! conversations per hour are refused past the inbox's `visitor_limits` with a clear `error`
//! frame, while another address (here a different `X-Forwarded-For` behind the loopback proxy)
//! and visitors' existing conversations are unaffected.

use std::time::Duration;

use futures::StreamExt;
use kefu_tests::ws::{Ws, send};
use kefu_tests::{TestApp, backends, eventually};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

/// A widget socket from client address `ip` (as a trusted proxy on loopback reports it).
async fn connect(app: &TestApp, ip: &str) -> Ws {
    kefu_tests::ws::connect_from(&app.base, "/ws/web_chat", ip).await
}

/// The next frame of type `ack`, `welcome` or `error`; panics after 10 s.
async fn next(ws: &mut Ws) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a frame within 10 s")
            .expect("socket open")
            .expect("frame");
        if let Message::Text(t) = msg {
            let v: Value = serde_json::from_str(t.as_str()).expect("JSON");
            if ["ack", "welcome", "error"].contains(&v["type"].as_str().unwrap_or_default()) {
                return v;
            }
        }
    }
}

async fn hello(app: &TestApp, token: &str, ip: &str) -> (Ws, Value) {
    let mut ws = connect(app, ip).await;
    send(&mut ws, json!({"type": "hello", "website_token": token})).await;
    let first = next(&mut ws).await;
    (ws, first)
}

#[tokio::test]
async fn one_address_cannot_flood_an_inbox_with_tabs_or_conversations() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let (s, inbox) = app
            .admin(
                Method::POST,
                "/api/v1/inboxes",
                Some(json!({"name": "Shop", "channel": {"type": "web_chat",
                    "visitor_limits": {"connections_per_ip": 3, "conversations_per_ip_per_hour": 8}}})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{inbox}");
        assert_eq!(inbox["channel"]["visitor_limits"]["connections_per_ip"], 3);
        let token = inbox["website_token"].as_str().expect("token").to_owned();

        // Three tabs from one address; the fourth is refused, another address is not.
        let mut tabs = Vec::new();
        for _ in 0..3 {
            let (ws, first) = hello(&app, &token, "203.0.113.5").await;
            assert_eq!(first["type"], "welcome", "{first}");
            tabs.push(ws);
        }
        let (_, refused) = hello(&app, &token, "203.0.113.5").await;
        assert_eq!(refused["code"], "too_many_connections", "{refused}");
        let (mut other, first) = hello(&app, &token, "198.51.100.9").await;
        assert_eq!(first["type"], "welcome", "{first}");
        // A closed tab frees its place.
        let mut closed = tabs.pop().expect("a tab");
        closed.close(None).await.expect("close");
        // The server notices the close asynchronously: retry until the place is free.
        let reopened = eventually(Duration::from_secs(10), || async {
            let (ws, first) = hello(&app, &token, "203.0.113.5").await;
            (first["type"] == "welcome").then_some(ws)
        })
        .await;

        // New conversations: a burst of 2 (a quarter of 8 an hour) per address.
        for (n, ws) in tabs.iter_mut().enumerate() {
            send(
                ws,
                json!({"type": "message", "client_id": format!("c{n}"), "text": "hi"}),
            )
            .await;
            assert_eq!(next(ws).await["type"], "ack");
        }
        let mut third = reopened.expect("reopened");
        send(
            &mut third,
            json!({"type": "message", "client_id": "c9", "text": "hi"}),
        )
        .await;
        let refused = next(&mut third).await;
        assert_eq!(refused["code"], "too_many_conversations", "{refused}");
        assert_eq!(refused["client_id"], "c9", "{refused}");
        // Existing conversations go on; other addresses are not affected.
        send(
            &mut tabs[0],
            json!({"type": "message", "client_id": "c10", "text": "more"}),
        )
        .await;
        assert_eq!(next(&mut tabs[0]).await["type"], "ack");
        send(
            &mut other,
            json!({"type": "message", "client_id": "o1", "text": "hi"}),
        )
        .await;
        assert_eq!(next(&mut other).await["type"], "ack");

        // Out-of-range limits are refused naming the field.
        let (s, b) = app
            .admin(
                Method::POST,
                "/api/v1/inboxes",
                Some(json!({"name": "Bad", "channel": {"type": "web_chat",
                    "visitor_limits": {"connections_per_ip": 0}}})),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert!(
            b["detail"]
                .as_str()
                .is_some_and(|d| d.contains("visitor_limits.connections_per_ip")),
            "{b}"
        );
        app.stop().await;
    }
}
