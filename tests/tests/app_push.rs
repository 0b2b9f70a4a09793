//! The app channel through the whole server: an app user registers a device and writes through
//! the app API, an agent's reply is pushed through the delivery pipeline to a local server
//! speaking FCM HTTP v1 (OAuth2 JWT-bearer verified with the service account's public key),
//! the app syncs exactly the missed messages, and a stale device is removed.

#[path = "../../channels/push/tests/push/support/fcm.rs"]
#[allow(dead_code)]
mod fcm;

use kefu_channel_push::user_hash;
use kefu_tests::{TestApp, backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const SECRET: &str = "app-secret-for-tests-0123456789";
const SERVICE_ACCOUNT: &str =
    include_str!("../../channels/push/fixtures/TEST-ONLY-service-account.json");

fn token(i: u32) -> String {
    format!("fcm{i}:APA91bH-{}", "x".repeat(140))
}

async fn app_call(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = app
        .client
        .request(method, format!("{}/channels/app{path}", app.base));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("app request");
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn reply_and_wait(app: &TestApp, conv: i64, text: &str) -> Value {
    let id = app.reply(conv, text).await["id"].clone();
    app.wait_delivery(conv, &id, &["sent", "delivered", "failed"])
        .await
}

#[tokio::test]
async fn replies_are_pushed_to_the_app_users_devices_and_synced() {
    for backend in backends() {
        let fcm = fcm::FakeFcm::start().await;
        let app = TestApp::spawn_with(&backend, |c| {
            c.delivery.base_delay_ms = 50;
            c.jobs.poll_interval_ms = 50;
        })
        .await;
        let mut sa: Value = serde_json::from_str(SERVICE_ACCOUNT).expect("fixture");
        sa["token_uri"] = json!(fcm.token_uri);
        let (s, inbox) = app
            .admin(
                Method::POST,
                "/api/v1/inboxes",
                Some(json!({"name": "Mobile app", "channel": {"type": "app_push", "app_secret": SECRET,
                    "fcm": {"project_id": fcm::PROJECT, "service_account_json": sa.to_string(), "api_base": fcm.base}}})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{inbox}");
        assert!(
            inbox["secrets_set"]
                .as_array()
                .is_some_and(|s| !s.is_empty()),
            "{inbox}"
        );
        let inbox = inbox["id"].as_i64().expect("id");
        let who = "user-42";
        let hash = user_hash(SECRET, who);

        // A forged user_hash registers nothing.
        let (s, b) = app_call(&app, Method::POST, &format!("/{inbox}/devices"),
            Some(json!({"external_id": who, "user_hash": user_hash("wrong", who), "platform": "fcm", "token": token(1)}))).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{b}");
        let (s, b) = app_call(&app, Method::POST, &format!("/{inbox}/devices"),
            Some(json!({"external_id": who, "user_hash": hash, "platform": "fcm", "token": token(1)}))).await;
        assert!(s.is_success(), "{b}");

        let (s, a) = app_call(&app, Method::POST, &format!("/{inbox}/messages"),
            Some(json!({"external_id": who, "user_hash": hash, "client_id": "c-1", "text": "My order is late"}))).await;
        assert!(s.is_success(), "{backend:?} {a}");
        let conv = a["conversation_id"].as_i64().expect("conversation id");

        let m = reply_and_wait(&app, conv, "It ships today.").await;
        assert_eq!(m["delivery"]["status"], "sent", "{m}");
        assert!(
            m["delivery"]["details"].is_array() || m["delivery"]["details"].is_object(),
            "per-device results: {m}"
        );
        let sent = fcm.wait_sent(1).await;
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].token, token(1));
        assert_eq!(fcm.bad_assertions(), 0, "the OAuth2 assertion verified");
        let data = &sent[0].message["data"];
        assert_eq!(data["conversation_id"], conv.to_string(), "{data}");

        // The app syncs exactly what it missed (after its own message, seq 1).
        let (s, page) = app_call(
            &app,
            Method::GET,
            &format!("/{inbox}/messages?external_id={who}&user_hash={hash}&after_seq=1"),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{page}");
        let texts: Vec<&str> = page["messages"]
            .as_array()
            .map(|m| m.iter().filter_map(|x| x["text"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(texts, ["It ships today."], "{page}");

        // FCM says the token is gone: the device is removed, and with no device left the next
        // reply fails with a reason instead of retrying forever.
        fcm.script(fcm::Reply::unregistered());
        let m = reply_and_wait(&app, conv, "Anything else?").await;
        assert_eq!(m["delivery"]["status"], "failed", "{m}");
        let m = reply_and_wait(&app, conv, "Hello?").await;
        assert_eq!(m["delivery"]["status"], "failed", "{m}");
        assert!(
            m["delivery"]["error"]
                .as_str()
                .is_some_and(|e| e.starts_with("no_devices")),
            "{m}"
        );
        app.stop().await;
    }
}
