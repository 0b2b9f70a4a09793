//! NUL characters (`\u0000`), which PostgreSQL refuses in text: a 400 naming the field, or
//! dropped from message text, never a 500. Runs on PostgreSQL when `KEFU_TEST_DATABASE_URL`
//! is set, where the old code answered 500 on each of these.

use kefu_tests::{TestApp, backends, msg};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Asserts a 400 `invalid_characters` whose detail names `field`.
fn assert_refused(case: &str, (status, body): (StatusCode, Value), field: &str) {
    assert_eq!(status, StatusCode::BAD_REQUEST, "{case}: {body}");
    assert_eq!(body["code"], "invalid_characters", "{case}: {body}");
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains(field),
        "{case}: {detail:?} does not name {field}"
    );
}

#[tokio::test]
async fn nul_characters_are_refused_by_field_or_dropped_from_message_text() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let label = backend.label();

        let login = app
            .call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"email": "admin\u{0}@example.com", "password": "admin-password"})),
            )
            .await;
        assert_refused(&format!("{label} login"), login, "email");

        let agent = app
            .admin(
                Method::POST,
                "/api/v1/agents",
                Some(json!({"email": "nul@example.com", "name": "Nu\u{0}l", "password": "agent-password", "role": "agent"})),
            )
            .await;
        assert_refused(&format!("{label} agent create"), agent, "name");

        let inbox = app
            .admin(
                Method::POST,
                "/api/v1/inboxes",
                Some(json!({"name": "Loopback", "channel": {"type": "loopback", "secret": "s\u{0}"}})),
            )
            .await;
        assert_refused(&format!("{label} inbox create"), inbox, "channel.secret");

        let webhook = app
            .admin(
                Method::POST,
                "/api/v1/webhooks",
                Some(json!({"url": "http://127.0.0.1:9/\u{0}", "events": ["*"]})),
            )
            .await;
        assert_refused(&format!("{label} webhook create"), webhook, "url");

        let query = app
            .admin(Method::GET, "/api/v1/conversations?cursor=%00", None)
            .await;
        assert_refused(&format!("{label} query"), query, "cursor");

        // A reply: NUL in its text is dropped like other control characters; elsewhere refused.
        let inbox = app.loopback_inbox(json!({})).await;
        let (s, b) = app.inbound(inbox, &msg("m1", "nul-user", "hello")).await;
        assert!(s.is_success(), "{label}: {b}");
        let conv = app
            .until_event("the conversation", || async {
                app.conversations(inbox).await.first().cloned()
            })
            .await;
        let conv = conv["id"].as_i64().expect("conversation id");
        let path = format!("/api/v1/conversations/{conv}/messages");
        let refused = app
            .admin(
                Method::POST,
                &path,
                Some(json!({"text": "hi", "client_id": "c\u{0}1"})),
            )
            .await;
        assert_refused(&format!("{label} reply client_id"), refused, "client_id");
        let (status, reply) = app
            .admin(Method::POST, &path, Some(json!({"text": "a\u{0}b\u{0}c"})))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{label}: {reply}");
        assert_eq!(reply["content"]["text"], "abc", "{label}: {reply}");
        let stored = app.messages(conv).await;
        assert!(
            stored.iter().any(|m| m["content"]["text"] == "abc"),
            "{label}: {stored:?}"
        );
        app.stop().await;
    }
}
