//! Helpers shared by the routing end-to-end tests: agents that come online, customers that
//! write in, and bounded polling of what the API shows.

#![allow(dead_code)]

use std::future::Future;
use std::time::{Duration, Instant};

use kefu_tests::{TestApp, msg};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Creates an agent with `skills` and `max_concurrent`, sets them online; returns `(id, token)`.
pub async fn online_agent(app: &TestApp, email: &str, skills: Value, max: i64) -> (i64, String) {
    let (id, token) = app.agent(email, "agent", skills).await;
    let (s, b) = app
        .admin(
            Method::PATCH,
            &format!("/api/v1/agents/{id}"),
            Some(json!({"max_concurrent": max})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    set_status(app, id, "online").await;
    (id, token)
}

/// Sets an agent's presence as the admin.
pub async fn set_status(app: &TestApp, id: i64, status: &str) {
    let (s, b) = app
        .admin(
            Method::PUT,
            &format!("/api/v1/agents/{id}/status"),
            Some(json!({"status": status})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
}

/// A customer writes `text` into `inbox`; returns the conversation id.
pub async fn write_in(app: &TestApp, inbox: i64, id: &str, sender: &str, text: &str) -> i64 {
    let (s, a) = app.inbound(inbox, &msg(id, sender, text)).await;
    assert_eq!(s, StatusCode::OK, "{a}");
    a["conversation_id"].as_i64().expect("conversation id")
}

/// Replaces an inbox's routing configuration, expecting success.
pub async fn put_routing(app: &TestApp, inbox: i64, routing: Value) {
    let (s, b) = app
        .admin(
            Method::PUT,
            &format!("/api/v1/inboxes/{inbox}/routing"),
            Some(routing),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
}

/// `GET /api/v1/conversations/{id}`.
pub async fn conversation(app: &TestApp, id: i64) -> Value {
    let (s, b) = app
        .admin(Method::GET, &format!("/api/v1/conversations/{id}"), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    b
}

/// `GET /api/v1/conversations/{id}/routing`.
pub async fn routing(app: &TestApp, id: i64) -> Value {
    let (s, b) = app
        .admin(
            Method::GET,
            &format!("/api/v1/conversations/{id}/routing"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    b
}

/// Polls `check` until it returns `Some`, failing with `what` after `limit`.
pub async fn eventually<T, F, Fut>(limit: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until the conversation is assigned; returns the assignee.
pub async fn assigned(app: &TestApp, id: i64) -> i64 {
    eventually(
        Duration::from_secs(10),
        &format!("conversation {id} assigned"),
        || async {
            let c = conversation(app, id).await;
            (c["status"] == "assigned")
                .then(|| c["assignee_id"].as_i64())
                .flatten()
        },
    )
    .await
}

/// Waits until the conversation is assigned to `agent`.
pub async fn assigned_to(app: &TestApp, id: i64, agent: i64) {
    eventually(
        Duration::from_secs(10),
        &format!("conversation {id} assigned to agent {agent}"),
        || async {
            let c = conversation(app, id).await;
            (c["status"] == "assigned" && c["assignee_id"] == agent).then_some(())
        },
    )
    .await
}

/// Conversations in `status`, as ids.
pub async fn with_status(app: &TestApp, status: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor = String::new();
    loop {
        let (s, b) = app
            .admin(
                Method::GET,
                &format!("/api/v1/conversations?status={status}&limit=100{cursor}"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        out.extend(b["items"].as_array().cloned().unwrap_or_default());
        match b["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => return out,
        }
    }
}
