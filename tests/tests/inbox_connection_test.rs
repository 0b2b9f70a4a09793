//! "Test connection" (`POST /api/v1/inboxes/{id}/test`) through the whole server, against the
//! same stand-ins the channel tests use: a local server speaking WeChat's and WeCom's token
//! API, a real Dovecot and a real SMTP server requiring a login, and the fake FCM. Each channel
//! shows a green result with the right credentials and a red one, in the provider's or
//! server's own words, with a wrong one, and never echoes a secret.

mod connection_support;
#[path = "../../channels/push/tests/push/support/fcm.rs"]
#[allow(dead_code)]
mod fcm;
#[path = "../../channels/email/tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use connection_support::SmtpAuth;
use kefu_tests::{TestApp, backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Dovecot, PASSWORD, USER};

const APP_ID: &str = "wx5823bf96d3bd56c7";
const CORP_ID: &str = "ww1436e0e65a779aee";
const SECRET: &str = "the-right-secret";
const WRONG: &str = "a-wrong-secret-value";
const AES_KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";

/// WeChat's `cgi-bin/token` and WeCom's `cgi-bin/gettoken`, as documented: a token for the
/// right secret, `{"errcode": 40125, "errmsg": "invalid appsecret"}` otherwise.
async fn start_token_api() -> (String, Arc<AtomicUsize>) {
    async fn token(State(n): State<Arc<AtomicUsize>>, Query(q): Query<Value>) -> Json<Value> {
        // Only the Official Account's fetches are counted: a running WeCom channel fetches
        // tokens of its own to pull messages.
        if q["appid"] == APP_ID {
            n.fetch_add(1, Ordering::SeqCst);
        }
        let id_ok = q["appid"] == APP_ID || q["corpid"] == CORP_ID;
        let secret_ok = q["secret"] == SECRET || q["corpsecret"] == SECRET;
        if id_ok && secret_ok {
            Json(json!({"access_token": "ACCESS_TOKEN", "expires_in": 7200}))
        } else {
            Json(json!({"errcode": 40125, "errmsg": "invalid appsecret, rid: 6571e2b0-1"}))
        }
    }
    let fetches = Arc::new(AtomicUsize::new(0));
    let app = Router::new()
        .route("/cgi-bin/token", get(token))
        .route("/cgi-bin/gettoken", get(token))
        .with_state(fetches.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, fetches)
}

async fn create(app: &TestApp, channel: Value) -> i64 {
    let (s, b) = app
        .admin(
            Method::POST,
            "/api/v1/inboxes",
            Some(json!({"name": "Tested", "channel": channel})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    b["id"].as_i64().expect("id")
}

async fn test(app: &TestApp, inbox: i64, body: Option<Value>) -> Value {
    let (s, b) = app
        .admin(Method::POST, &format!("/api/v1/inboxes/{inbox}/test"), body)
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    b
}

async fn patch(app: &TestApp, inbox: i64, channel: Value) {
    let (s, b) = app
        .admin(
            Method::PATCH,
            &format!("/api/v1/inboxes/{inbox}"),
            Some(json!({"channel": channel})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
}

fn check<'a>(result: &'a Value, name: &str) -> &'a Value {
    result["checks"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no {name} check in {result}"))
}

#[tokio::test]
async fn wechat_and_wecom_credentials_are_tested_with_a_fresh_access_token() {
    for backend in backends() {
        let (api, fetches) = start_token_api().await;
        let app = TestApp::spawn(&backend).await;
        let official = create(
            &app,
            json!({"type": "wechat", "app_id": APP_ID, "app_secret": SECRET, "token": "QDG6eK",
                "api_base": api}),
        )
        .await;
        let wecom = create(
            &app,
            json!({"type": "wecom_kf", "corp_id": CORP_ID, "secret": SECRET, "token": "QDG6eK",
                "encoding_aes_key": AES_KEY, "open_kfid": "wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw",
                "api_base": api}),
        )
        .await;
        for (inbox, secret_field) in [(official, "app_secret"), (wecom, "secret")] {
            let before = fetches.load(Ordering::SeqCst);
            let green = test(&app, inbox, None).await;
            assert_eq!(green["ok"], true, "{green}");
            assert_eq!(check(&green, "access_token")["ok"], true, "{green}");
            if inbox == official {
                assert_eq!(
                    fetches.load(Ordering::SeqCst),
                    before + 1,
                    "WeChat was asked"
                );
                // Asked again, not answered from a cache.
                test(&app, inbox, None).await;
                assert_eq!(fetches.load(Ordering::SeqCst), before + 2);
            }

            patch(&app, inbox, json!({secret_field: WRONG})).await;
            let red = test(&app, inbox, Some(json!({}))).await;
            assert_eq!(red["ok"], false, "{red}");
            let detail = check(&red, "access_token")["detail"]
                .as_str()
                .unwrap_or_default();
            assert!(
                detail.contains("40125") && detail.contains("invalid appsecret"),
                "WeChat's own answer: {red}"
            );
            assert!(!red.to_string().contains(WRONG), "no secret: {red}");
        }
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_logs_in_to_imap_and_smtp_and_shows_what_the_servers_said() {
    let (Some(dovecot), Some(smtp)) = (Dovecot::start(), SmtpAuth::start(USER, PASSWORD)) else {
        return;
    };
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let mut settings = dovecot.settings("INBOX", smtp.port);
        settings["type"] = json!("email");
        settings["smtp"]["username"] = json!(USER);
        settings["smtp"]["password"] = json!(PASSWORD);
        let inbox = create(&app, settings).await;

        let green = test(&app, inbox, None).await;
        assert_eq!(green["ok"], true, "{green}");
        let imap = check(&green, "imap");
        let said = imap["detail"].as_str().unwrap_or_default();
        assert!(
            said.contains("ready") && said.contains(&format!("logged in as {USER}")),
            "Dovecot's greeting and the login: {green}"
        );
        let smtp_ok = check(&green, "smtp");
        assert_eq!(smtp_ok["ok"], true, "{green}");
        assert!(
            smtp_ok["detail"]
                .as_str()
                .is_some_and(|d| d.contains(&smtp.port.to_string()) && d.contains(USER)),
            "{green}"
        );

        patch(
            &app,
            inbox,
            json!({"imap": {"password": WRONG}, "smtp": {"password": WRONG}}),
        )
        .await;
        let red = test(&app, inbox, None).await;
        assert_eq!(red["ok"], false, "{red}");
        let imap = check(&red, "imap");
        assert_eq!(imap["ok"], false, "{red}");
        assert!(
            imap["detail"]
                .as_str()
                .is_some_and(|d| d.contains("Authentication failed")),
            "Dovecot's words: {red}"
        );
        let smtp_red = check(&red, "smtp");
        assert_eq!(smtp_red["ok"], false, "{red}");
        assert!(
            smtp_red["detail"]
                .as_str()
                .is_some_and(|d| d.contains("535") && d.contains("credentials invalid")),
            "the SMTP server's words: {red}"
        );
        assert!(!red.to_string().contains(WRONG), "no secret: {red}");
        app.stop().await;
    }
}

#[tokio::test]
async fn a_test_push_reaches_the_device_or_shows_fcms_answer() {
    const SERVICE_ACCOUNT: &str =
        include_str!("../../channels/push/fixtures/TEST-ONLY-service-account.json");
    for backend in backends() {
        let fcm = fcm::FakeFcm::start().await;
        let app = TestApp::spawn(&backend).await;
        let mut sa: Value = serde_json::from_str(SERVICE_ACCOUNT).expect("fixture");
        sa["token_uri"] = json!(fcm.token_uri);
        let inbox = create(
            &app,
            json!({"type": "app_push", "app_secret": "app-secret-for-tests-0123456789",
                "fcm": {"project_id": fcm::PROJECT, "service_account_json": sa.to_string(),
                        "api_base": fcm.base}}),
        )
        .await;
        let good = format!("fcm1:APA91bH-{}", "x".repeat(140));
        let green = test(
            &app,
            inbox,
            Some(json!({"device_token": good, "platform": "fcm"})),
        )
        .await;
        assert_eq!(green["ok"], true, "{green}");
        let sent = fcm.sent();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].token, good);

        let stale = format!("fcm2:APA91bH-{}", "y".repeat(140));
        fcm.script_for(&stale, fcm::Reply::unregistered());
        let red = test(&app, inbox, Some(json!({"device_token": stale}))).await;
        assert_eq!(red["ok"], false, "{red}");
        assert!(
            check(&red, "push")["detail"]
                .as_str()
                .is_some_and(|d| d.contains("UNREGISTERED")),
            "FCM's answer: {red}"
        );

        let none = test(&app, inbox, None).await;
        assert_eq!(none["ok"], false, "{none}");
        let (s, b) = app
            .admin(
                Method::POST,
                &format!("/api/v1/inboxes/{inbox}/test"),
                Some(json!({"device_token": good, "platform": "huawei"})),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert_eq!(b["field"], "platform");
        app.stop().await;
    }
}

#[tokio::test]
async fn web_chat_has_nothing_to_test_and_agents_may_not_test() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let inbox = create(&app, json!({"type": "web_chat"})).await;
        let (s, b) = app
            .admin(Method::POST, &format!("/api/v1/inboxes/{inbox}/test"), None)
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert_eq!(b["code"], "test_not_supported");

        let (_, agent) = app.agent("agent@example.com", "agent", json!({})).await;
        let (s, b) = app
            .call(
                Method::POST,
                &format!("/api/v1/inboxes/{inbox}/test"),
                Some(&agent),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
        let (s, _) = app
            .admin(Method::POST, "/api/v1/inboxes/999999/test", None)
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        app.stop().await;
    }
}
