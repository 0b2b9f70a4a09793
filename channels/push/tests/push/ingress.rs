//! The app API: registration, messages, sync, and every kind of bad input.

use std::sync::Arc;

use axum::http::StatusCode;
use kefu_channel::SendError;
use kefu_channel_push::user_hash;
use serde_json::{Value, json};

use crate::support::{INBOX, MemoryKefu, Options, SECRET, TestApp, apns_token, fcm_token};

async fn app() -> (TestApp, Arc<MemoryKefu>) {
    let kefu = Arc::new(MemoryKefu::default());
    (TestApp::start(Options::with_kefu(kefu.clone())).await, kefu)
}

fn device(who: &str, hash: &str, platform: &str, token: &str) -> Option<Value> {
    Some(json!({"external_id": who, "user_hash": hash, "platform": platform, "token": token}))
}

/// Sends a reply to `who` and returns the error: with no device stored, it is `no_devices`.
async fn assert_no_devices(app: &TestApp, kefu: &MemoryKefu, who: &str) {
    let err = app
        .channel
        .send(&kefu.reply(who, "hi", false))
        .await
        .expect_err("no device");
    assert!(
        matches!(&err, SendError::Permanent { code, .. } if code == "no_devices"),
        "{err:?}"
    );
}

#[tokio::test]
async fn registers_and_removes_devices() {
    let (app, kefu) = app().await;
    let path = format!("/{INBOX}/devices");
    let hash = user_hash(SECRET, "u1");
    let (s, body) = app
        .call(
            "POST",
            &path,
            device("u1", &hash, "apns", &apns_token(1).to_uppercase()),
        )
        .await;
    assert_eq!(
        (s, body),
        (
            StatusCode::CREATED,
            json!({"registered": true, "devices": 1})
        )
    );
    let (s, _) = app
        .call("POST", &path, device("u1", &hash, "apns", &apns_token(1)))
        .await;
    assert_eq!(
        s,
        StatusCode::OK,
        "the same token again (any hex case) is not a new device"
    );
    let (s, body) = app
        .call("POST", &path, device("u1", &hash, "fcm", &fcm_token(1)))
        .await;
    assert_eq!(
        (s, body["devices"].clone()),
        (StatusCode::CREATED, json!(2))
    );

    let (s, body) = app
        .call("DELETE", &path, device("u1", &hash, "fcm", &fcm_token(1)))
        .await;
    assert_eq!((s, body), (StatusCode::OK, json!({"removed": true})));
    let (s, body) = app
        .call("DELETE", &path, device("u1", &hash, "fcm", &fcm_token(1)))
        .await;
    assert_eq!((s, body), (StatusCode::OK, json!({"removed": false})));

    // The APNs device is still there and gets the reply.
    let r = app
        .channel
        .send(&kefu.reply("u1", "hello", false))
        .await
        .expect("pushed");
    assert_eq!(
        r.details.expect("details")["devices"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert_eq!(app.apns.sent().len(), 1);
    assert!(app.fcm.sent().is_empty());
}

#[tokio::test]
async fn a_token_registered_by_another_user_moves_to_them() {
    let (app, kefu) = app().await;
    app.register("alice", "fcm", &fcm_token(7)).await;
    app.register("bob", "fcm", &fcm_token(7)).await;
    assert_no_devices(&app, &kefu, "alice").await;
    app.channel
        .send(&kefu.reply("bob", "for bob", false))
        .await
        .expect("bob's phone");
    assert_eq!(app.fcm.sent().len(), 1);
}

#[tokio::test]
async fn refuses_bad_device_registrations_and_stores_nothing() {
    let (app, kefu) = app().await;
    let hash = user_hash(SECRET, "u1");
    let path = format!("/{INBOX}/devices");
    let cases: Vec<(String, Option<Value>, StatusCode, &str)> = vec![
        (
            path.clone(),
            device("u1", &user_hash("wrong-secret", "u1"), "fcm", &fcm_token(1)),
            StatusCode::UNAUTHORIZED,
            "invalid_user_hash",
        ),
        (
            path.clone(),
            device("u1", &user_hash(SECRET, "u2"), "fcm", &fcm_token(1)),
            StatusCode::UNAUTHORIZED,
            "invalid_user_hash",
        ),
        (
            path.clone(),
            device("u1", "", "fcm", &fcm_token(1)),
            StatusCode::UNAUTHORIZED,
            "invalid_user_hash",
        ),
        (
            "/999/devices".into(),
            device("u1", &hash, "fcm", &fcm_token(1)),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "/not-a-number/devices".into(),
            device("u1", &hash, "fcm", &fcm_token(1)),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            path.clone(),
            device("u1", &hash, "apns", "not-hex-at-all"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_token",
        ),
        (
            path.clone(),
            device("u1", &hash, "apns", &apns_token(1)[..40]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_token",
        ),
        (
            path.clone(),
            device("u1", &hash, "fcm", "short"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_token",
        ),
        (
            path.clone(),
            device(
                "u1",
                &hash,
                "fcm",
                &format!("{} {}", fcm_token(1), "<script>"),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_token",
        ),
        (
            path.clone(),
            device("u1", &hash, "fcm", &"a".repeat(5000)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_token",
        ),
        (
            path.clone(),
            device("u1", &hash, "sms", &fcm_token(1)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_platform",
        ),
        (
            path.clone(),
            Some(json!({"external_id": "u1", "user_hash": hash})),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            path.clone(),
            None,
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
    ];
    for (uri, body, status, code) in cases {
        let (s, got) = app.call("POST", &uri, body.clone()).await;
        assert_eq!(
            (s, got["code"].as_str()),
            (status, Some(code)),
            "{uri} {body:?}: {got}"
        );
        assert!(
            got["detail"].as_str().is_some_and(|d| d.len() > 10),
            "{got}"
        );
    }
    let (s, got) = app.call_raw("POST", &path, "{not json").await;
    assert_eq!(
        (s, got["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("malformed_json"))
    );
    let huge = json!({"external_id": "u1", "user_hash": hash, "platform": "fcm", "token": "a".repeat(70_000)});
    let (s, got) = app.call("POST", &path, Some(huge)).await;
    assert_eq!(
        (s, got["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large"))
    );

    assert_no_devices(&app, &kefu, "u1").await;
    assert_eq!(
        app.fcm.attempts() + app.apns.attempts(),
        0,
        "no provider was called"
    );
}

#[tokio::test]
async fn a_platform_the_inbox_lacks_is_refused() {
    let kefu = Arc::new(MemoryKefu::default());
    let app = TestApp::start(Options {
        tweak: Box::new(|s| {
            s.as_object_mut().expect("object").remove("apns");
        }),
        ..Options::with_kefu(kefu)
    })
    .await;
    let hash = user_hash(SECRET, "u1");
    let (s, got) = app
        .call(
            "POST",
            &format!("/{INBOX}/devices"),
            device("u1", &hash, "apns", &apns_token(1)),
        )
        .await;
    assert_eq!(
        (s, got["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("platform_not_configured")
        )
    );
}

#[tokio::test]
async fn customer_messages_are_stored_once_per_client_id() {
    let (app, kefu) = app().await;
    let (s, first) = app.post_message("u1", "c-1", "Where is my order?").await;
    assert_eq!(s, StatusCode::CREATED, "{first}");
    assert_eq!(
        (first["seq"].clone(), first["duplicate"].clone()),
        (json!(1), json!(false))
    );
    let (s, again) = app.post_message("u1", "c-1", "Where is my order?").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (again["id"].clone(), again["duplicate"].clone()),
        (first["id"].clone(), json!(true))
    );
    // Another user may pick the same client_id.
    let (s, other) = app.post_message("u2", "c-1", "Hello").await;
    assert_eq!(
        (s, other["duplicate"].clone()),
        (StatusCode::CREATED, json!(false))
    );
    assert_eq!(kefu.stored(), 2);

    // Storage down: not acknowledged, and the app's retry stores it.
    kefu.fail_next();
    let (s, body) = app.post_message("u1", "c-2", "second").await;
    assert_eq!(
        (s, body["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("unavailable"))
    );
    assert_eq!(kefu.stored(), 2);
    let (s, _) = app.post_message("u1", "c-2", "second").await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(kefu.stored(), 3);
}

#[tokio::test]
async fn refuses_bad_messages_and_stores_nothing() {
    let (app, kefu) = app().await;
    let path = format!("/{INBOX}/messages");
    let msg = |hash: String, client_id: &str, text: String| {
        Some(json!({"external_id": "u1", "user_hash": hash, "client_id": client_id, "text": text}))
    };
    let ok = || user_hash(SECRET, "u1");
    let cases: Vec<(String, Option<Value>, StatusCode, &str)> = vec![
        (
            path.clone(),
            msg(user_hash("forged", "u1"), "c1", "hi".into()),
            StatusCode::UNAUTHORIZED,
            "invalid_user_hash",
        ),
        (
            format!("/{}/messages", INBOX + 1),
            msg(ok(), "c1", "hi".into()),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            path.clone(),
            msg(ok(), "", "hi".into()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_client_id",
        ),
        (
            path.clone(),
            msg(ok(), "has space", "hi".into()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_client_id",
        ),
        (
            path.clone(),
            msg(ok(), "c1", "   ".into()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "empty_text",
        ),
        (
            path.clone(),
            msg(ok(), "c1", "长".repeat(10_001)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "text_too_long",
        ),
        (
            path.clone(),
            msg(ok(), "c1", "x".repeat(70_000)),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        (
            path.clone(),
            Some(
                json!({"external_id": "", "user_hash": user_hash(SECRET, ""), "client_id": "c", "text": "t"}),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_external_id",
        ),
    ];
    for (uri, body, status, code) in cases {
        let (s, got) = app.call("POST", &uri, body).await;
        assert_eq!(
            (s, got["code"].as_str()),
            (status, Some(code)),
            "{uri}: {got}"
        );
    }
    assert_eq!(kefu.stored(), 0, "nothing was stored");
}

#[tokio::test]
async fn sync_is_authenticated_and_checks_its_parameters() {
    let (app, _kefu) = app().await;
    let (s, body) = app.sync("nobody-yet", 0).await;
    assert_eq!(
        (s, body),
        (
            StatusCode::OK,
            json!({"conversation_id": null, "messages": [], "has_more": false})
        )
    );
    let forged = format!(
        "/{INBOX}/messages?external_id=u1&user_hash={}",
        user_hash(SECRET, "u2")
    );
    let (s, body) = app.call("GET", &forged, None).await;
    assert_eq!(
        (s, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_user_hash"))
    );
    let (s, body) = app.call("GET", &format!("/{INBOX}/messages"), None).await;
    assert_eq!(
        (s, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_user_hash"))
    );
    let hash = user_hash(SECRET, "u1");
    for (q, code) in [
        ("after_seq=-1", "invalid_after_seq"),
        ("after_seq=x", "invalid_after_seq"),
        ("limit=0", "invalid_limit"),
        ("limit=201", "invalid_limit"),
    ] {
        let uri = format!("/{INBOX}/messages?external_id=u1&user_hash={hash}&{q}");
        let (s, body) = app.call("GET", &uri, None).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(code)),
            "{q}"
        );
    }
}

#[tokio::test]
async fn sync_without_history_says_so() {
    let kefu = Arc::new(MemoryKefu::default());
    let app = TestApp::start(Options {
        history: None,
        ..Options::with_kefu(kefu)
    })
    .await;
    let (s, body) = app.sync("u1", 0).await;
    assert_eq!(
        (s, body["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("history_unavailable"))
    );
}
