//! The app channel through the whole server: an app user registers a device and writes through
//! the app API, an agent's reply is pushed through the delivery pipeline to a local server
//! speaking FCM HTTP v1 (OAuth2 JWT-bearer verified with the service account's public key) or
//! the APNs provider API (HTTP/2 over TLS trusted through `tls.extra_root_certs`, ES256
//! provider token), the app syncs exactly the missed messages (and its unread count follows
//! what it synced), and a stale device is removed.
//! An app user chatting live over `/ws/web_chat` shares the conversation with the app API and
//! gets replies there instead of as pushes.

#[path = "../../channels/push/tests/push/support/apns.rs"]
#[allow(dead_code)]
mod apns;
#[path = "../../channels/push/tests/push/support/fcm.rs"]
#[allow(dead_code)]
mod fcm;

use std::time::Duration;

use kefu_channel::LivePresence;
use kefu_channel_push::user_hash;
use kefu_tests::ws::{self, Ws, next_where, send};
use kefu_tests::{TestApp, backends, eventually};
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

        // The badge counts the reply the app has not synced; a forged hash learns nothing.
        let unread_path = format!("/{inbox}/unread?external_id={who}&user_hash={hash}");
        let (s, u) = app_call(&app, Method::GET, &unread_path, None).await;
        assert_eq!(
            (s, &u["unread"], &u["conversation_id"]),
            (StatusCode::OK, &json!(1), &json!(conv)),
            "{u}"
        );
        let (s, u) = app_call(
            &app,
            Method::GET,
            &format!(
                "/{inbox}/unread?external_id={who}&user_hash={}",
                user_hash("wrong", who)
            ),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{u}");

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
        // Synced, the badge is clear; `after_seq` still asks about any point.
        let (_, u) = app_call(&app, Method::GET, &unread_path, None).await;
        assert_eq!(
            (&u["unread"], &u["synced_seq"]),
            (&json!(0), &json!(2)),
            "{u}"
        );
        let (_, u) = app_call(
            &app,
            Method::GET,
            &format!("{unread_path}&after_seq=0"),
            None,
        )
        .await;
        assert_eq!(u["unread"], 1, "{u}");

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
        // Two replies since the sync: the badge says 2.
        let (_, u) = app_call(&app, Method::GET, &unread_path, None).await;
        assert_eq!(u["unread"], 2, "{u}");
        app.stop().await;
    }
}

async fn connect(app: &TestApp) -> Ws {
    ws::connect(&app.base, "/ws/web_chat").await
}

/// Creates an app inbox with FCM settings pointing at `fcm`; returns the inbox as the API shows it.
async fn fcm_inbox(app: &TestApp, fcm: &fcm::FakeFcm) -> Value {
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
    inbox
}

#[tokio::test]
async fn an_app_user_chats_live_on_the_web_chat_socket_and_is_pushed_only_when_away() {
    for backend in backends() {
        let fcm = fcm::FakeFcm::start().await;
        let app = TestApp::spawn_with(&backend, |c| {
            c.delivery.base_delay_ms = 50;
            c.jobs.poll_interval_ms = 50;
        })
        .await;
        let inbox = fcm_inbox(&app, &fcm).await;
        let public_token = inbox["website_token"]
            .as_str()
            .unwrap_or_else(|| panic!("app inboxes show their public token: {inbox}"))
            .to_owned();
        let inbox = inbox["id"].as_i64().expect("id");
        let who = "user-7";
        let hash = user_hash(SECRET, who);

        // No anonymous app users, and no one else's identity.
        for (identity, code) in [
            (json!(null), "identity_required"),
            (json!({"user_id": who}), "identity_required"),
            (
                json!({"user_id": who, "user_hash": user_hash("wrong-secret-0123456789", who)}),
                "identity_unverified",
            ),
            (
                json!({"user_id": "someone-else", "user_hash": hash}),
                "identity_unverified",
            ),
        ] {
            let mut ws = connect(&app).await;
            send(
                &mut ws,
                json!({"type": "hello", "website_token": public_token, "identity": identity}),
            )
            .await;
            let e = next_where(&mut ws, "error", |v| v["type"] == "error").await;
            assert_eq!(e["code"], code, "{identity}: {e}");
        }
        assert_eq!(
            app.conversations(inbox).await,
            Vec::<Value>::new(),
            "refused hellos store nothing"
        );

        let (s, b) = app_call(&app, Method::POST, &format!("/{inbox}/devices"),
            Some(json!({"external_id": who, "user_hash": hash, "platform": "fcm", "token": token(3)}))).await;
        assert!(s.is_success(), "{b}");

        // The app opens the socket before the user has a conversation...
        let mut ws = connect(&app).await;
        send(
            &mut ws,
            json!({"type": "hello", "website_token": public_token,
            "identity": {"user_id": who, "user_hash": hash.to_uppercase()}}),
        )
        .await;
        let welcome = next_where(&mut ws, "welcome", |v| v["type"] == "welcome").await;
        assert_eq!(welcome["conversation_id"], Value::Null, "{welcome}");

        // ...then the user writes through the app API: the socket follows that conversation.
        let (s, a) = app_call(&app, Method::POST, &format!("/{inbox}/messages"),
            Some(json!({"external_id": who, "user_hash": hash, "client_id": "c-1", "text": "Where is my parcel?"}))).await;
        assert_eq!(s, StatusCode::CREATED, "{a}");
        let conv = a["conversation_id"].as_i64().expect("conversation id");
        let status = next_where(&mut ws, "status", |v| v["type"] == "status").await;
        assert_eq!(status["conversation_id"], conv, "{status}");

        // A message over the socket lands in the same conversation; resending its client_id
        // through the app API stores nothing new.
        send(
            &mut ws,
            json!({"type": "message", "client_id": "c-2", "text": "It was due Monday"}),
        )
        .await;
        let ack = next_where(&mut ws, "ack", |v| v["type"] == "ack").await;
        assert_eq!(ack["conversation_id"], conv, "{ack}");
        assert_eq!(ack["seq"], 2, "{ack}");
        let (s, again) = app_call(&app, Method::POST, &format!("/{inbox}/messages"),
            Some(json!({"external_id": who, "user_hash": hash, "client_id": "c-2", "text": "It was due Monday"}))).await;
        assert_eq!(s, StatusCode::OK, "{again}");
        assert_eq!(
            (again["id"].clone(), again["duplicate"].clone()),
            (ack["id"].clone(), json!(true))
        );
        let texts: Vec<Value> = app
            .messages(conv)
            .await
            .iter()
            .map(|m| m["content"]["text"].clone())
            .collect();
        assert_eq!(
            texts,
            [json!("Where is my parcel?"), json!("It was due Monday")]
        );

        // The user is live: the reply arrives on the socket and is not pushed.
        let reply = app.reply(conv, "It left the depot this morning.").await;
        let live = next_where(&mut ws, "reply", |v| {
            v["type"] == "message" && v["message"]["id"] == reply["id"]
        })
        .await;
        assert_eq!(
            live["message"]["content"]["text"],
            "It left the depot this morning."
        );
        let m = app
            .wait_delivery(conv, &reply["id"], &["sent", "delivered", "failed"])
            .await;
        assert_eq!(m["delivery"]["status"], "sent", "{m}");
        assert_eq!(m["delivery"]["details"], json!({"via": "live"}), "{m}");
        assert_eq!(fcm.attempts(), 0, "a live user gets no push");
        // The app's read receipt makes it delivered.
        send(&mut ws, json!({"type": "read", "seq": m["seq"]})).await;
        app.wait_delivery(conv, &reply["id"], &["delivered"]).await;

        // Once the app closes the socket, the next reply is pushed to the device.
        ws.close(None).await.expect("close");
        let hub = app.state.hub.clone();
        assert!(
            eventually(Duration::from_secs(10), || {
                let hub = hub.clone();
                async move { (!hub.is_live(inbox, conv).await).then_some(()) }
            })
            .await
            .is_some(),
            "the server notices the closed socket"
        );
        let reply = app.reply(conv, "Anything else?").await;
        let m = app
            .wait_delivery(conv, &reply["id"], &["sent", "delivered", "failed"])
            .await;
        assert_eq!(m["delivery"]["status"], "sent", "{m}");
        assert!(
            m["delivery"]["details"]["devices"].is_array(),
            "per-device results: {m}"
        );
        let sent = fcm.wait_sent(1).await;
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].token, token(3));
        assert_eq!(
            sent[0].message["data"]["message_id"],
            reply["id"].to_string()
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn replies_are_pushed_through_apns_and_a_gone_device_is_removed() {
    for backend in backends() {
        let apns = apns::FakeApns::start().await;
        let ca = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(ca.path(), &apns.ca_pem).expect("write the CA");
        let ca_path = ca.path().to_path_buf();
        let app = TestApp::spawn_with(&backend, |c| {
            c.delivery.base_delay_ms = 50;
            c.jobs.poll_interval_ms = 50;
            c.tls.extra_root_certs = Some(ca_path);
        })
        .await;
        let (s, inbox) = app
            .admin(
                Method::POST,
                "/api/v1/inboxes",
                Some(json!({"name": "iOS app", "channel": {"type": "app_push", "app_secret": SECRET,
                    "apns": {"team_id": apns::TEAM_ID, "key_id": apns::KEY_ID, "private_key_pem": apns.p8,
                        "topic": apns::TOPIC, "api_base": apns.base}}})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{inbox}");
        let inbox = inbox["id"].as_i64().expect("id");
        let who = "ios-user-1";
        let hash = user_hash(SECRET, who);
        let device = "a1b2c3d4".repeat(8);

        // An FCM token cannot be registered to an inbox without FCM settings.
        let (s, b) = app_call(&app, Method::POST, &format!("/{inbox}/devices"),
            Some(json!({"external_id": who, "user_hash": hash, "platform": "fcm", "token": token(1)}))).await;
        assert_eq!(
            (s, b["code"].clone()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!("platform_not_configured")
            ),
            "{b}"
        );
        let (s, b) = app_call(&app, Method::POST, &format!("/{inbox}/devices"),
            Some(json!({"external_id": who, "user_hash": hash, "platform": "apns", "token": device.to_uppercase()}))).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let (s, a) = app_call(&app, Method::POST, &format!("/{inbox}/messages"),
            Some(json!({"external_id": who, "user_hash": hash, "client_id": "c-1", "text": "Hi from iOS"}))).await;
        assert_eq!(s, StatusCode::CREATED, "{a}");
        let conv = a["conversation_id"].as_i64().expect("conversation id");

        let reply = app.reply(conv, "Hello, iPhone.").await;
        let m = app
            .wait_delivery(conv, &reply["id"], &["sent", "delivered", "failed"])
            .await;
        assert_eq!(m["delivery"]["status"], "sent", "{m}");
        let details = m["delivery"]["details"].to_string();
        assert!(details.contains("apns"), "per-device results: {m}");
        let sent = apns.sent();
        assert_eq!(sent.len(), 1, "one push");
        assert_eq!(apns.bad_jwts(), 0, "the ES256 provider token verified");
        assert_eq!(sent[0].token, device, "the normalized (lowercase) token");
        assert_eq!(
            sent[0].headers.get("apns-topic").map(String::as_str),
            Some(apns::TOPIC)
        );
        assert_eq!(
            sent[0].headers.get("apns-push-type").map(String::as_str),
            Some("alert")
        );
        assert_eq!(
            sent[0].payload["aps"]["alert"]["body"], "Hello, iPhone.",
            "{}",
            sent[0].payload
        );
        assert_eq!(
            sent[0].payload["kefu"]["conversation_id"], conv,
            "{}",
            sent[0].payload
        );

        // Apple says the device is gone (410 Unregistered): it is removed, so the reply fails
        // for good, and the next finds no device at all.
        apns.script(apns::Reply::new(410, "Unregistered"));
        let reply = app.reply(conv, "Still there?").await;
        let m = app
            .wait_delivery(conv, &reply["id"], &["sent", "delivered", "failed"])
            .await;
        assert_eq!(m["delivery"]["status"], "failed", "{m}");
        let reply = app.reply(conv, "Hello?").await;
        let m = app
            .wait_delivery(conv, &reply["id"], &["sent", "delivered", "failed"])
            .await;
        assert!(
            m["delivery"]["error"]
                .as_str()
                .is_some_and(|e| e.starts_with("no_devices")),
            "{m}"
        );
        assert_eq!(
            apns.attempts(),
            2,
            "nothing was pushed to the removed device"
        );
        app.stop().await;
    }
}

/// Issue 18: replies beyond a device's push limit in Kefu (a burst of 5, then 10 a minute)
/// used to spend attempts and end `failed` with "rate limited by the provider" under load.
/// Pacing is not failure: they wait for the limit and go out on their first attempt.
#[tokio::test]
async fn replies_beyond_a_devices_push_limit_wait_without_spending_attempts() {
    for backend in backends() {
        let fcm = fcm::FakeFcm::start().await;
        let app = TestApp::spawn_with(&backend, |c| {
            c.delivery.base_delay_ms = 50;
            c.jobs.poll_interval_ms = 50;
        })
        .await;
        let inbox = fcm_inbox(&app, &fcm).await["id"].as_i64().expect("id");
        let who = "user-busy";
        let hash = user_hash(SECRET, who);
        let (s, b) = app_call(&app, Method::POST, &format!("/{inbox}/devices"),
            Some(json!({"external_id": who, "user_hash": hash, "platform": "fcm", "token": token(7)}))).await;
        assert!(s.is_success(), "{b}");
        let (s, a) = app_call(&app, Method::POST, &format!("/{inbox}/messages"),
            Some(json!({"external_id": who, "user_hash": hash, "client_id": "c-1", "text": "Hello?"}))).await;
        assert!(s.is_success(), "{a}");
        let conv = a["conversation_id"].as_i64().expect("conversation id");

        // One more than the device's burst.
        let mut ids = Vec::new();
        for i in 0..6 {
            ids.push(app.reply(conv, &format!("Reply {i}")).await["id"].clone());
        }
        for id in &ids {
            let m = app.wait_delivery(conv, id, &["sent", "failed"]).await;
            assert_eq!(m["delivery"]["status"], "sent", "{backend:?} {m}");
            assert_eq!(
                m["delivery"]["attempts"], 1,
                "waiting for Kefu's own limit is not an attempt: {m}"
            );
        }
        assert_eq!(fcm.sent().len(), 6, "each reply pushed once");
        app.stop().await;
    }
}

#[tokio::test]
async fn an_app_user_is_pushed_the_rating_question_and_rates_with_a_menu_tap() {
    for backend in backends() {
        let fcm = fcm::FakeFcm::start().await;
        let app = TestApp::spawn_with(&backend, |c| {
            c.delivery.base_delay_ms = 50;
            c.jobs.poll_interval_ms = 50;
        })
        .await;
        let inbox = fcm_inbox(&app, &fcm).await["id"].as_i64().expect("id");
        let (s, b) = app
            .admin(
                Method::PATCH,
                &format!("/api/v1/inboxes/{inbox}"),
                Some(json!({"csat": {"enabled": true, "message": ""}})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let who = "user-7";
        let hash = user_hash(SECRET, who);
        let (s, b) = app_call(&app, Method::POST, &format!("/{inbox}/devices"),
            Some(json!({"external_id": who, "user_hash": hash, "platform": "fcm", "token": token(7)}))).await;
        assert!(s.is_success(), "{b}");
        let (s, a) = app_call(&app, Method::POST, &format!("/{inbox}/messages"),
            Some(json!({"external_id": who, "user_hash": hash, "client_id": "c-1", "text": "Card declined"}))).await;
        assert!(s.is_success(), "{a}");
        let conv = a["conversation_id"].as_i64().expect("conversation");
        let (s, b) = app
            .admin(
                Method::POST,
                &format!("/api/v1/conversations/{conv}/resolve"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");

        // The question is pushed, and the app's sync carries the menu to draw.
        fcm.wait_sent(1).await;
        let sync = format!("/{inbox}/messages?external_id={who}&user_hash={hash}&after_seq=1");
        let question = eventually(Duration::from_secs(10), || async {
            let (_, page) = app_call(&app, Method::GET, &sync, None).await;
            page["messages"]
                .as_array()?
                .iter()
                .find(|m| m["menu"].is_object())
                .cloned()
        })
        .await
        .expect("the question with its menu");
        assert_eq!(
            question["text"],
            "How would you rate the help you received?"
        );
        let items = question["menu"]["items"]
            .as_array()
            .cloned()
            .expect("items");
        assert_eq!(items.len(), 5);
        let best = items[0]["id"].as_str().expect("id");

        // A malformed menu id is refused; the tap is the rating and stores no message.
        let (s, b) = app_call(&app, Method::POST, &format!("/{inbox}/messages"),
            Some(json!({"external_id": who, "user_hash": hash, "client_id": "c-2", "text": "x", "menu_id": "9".repeat(65)}))).await;
        assert_eq!(
            (s, &b["code"]),
            (StatusCode::UNPROCESSABLE_ENTITY, &json!("invalid_menu_id")),
            "{b}"
        );
        let (s, b) = app_call(&app, Method::POST, &format!("/{inbox}/messages"),
            Some(json!({"external_id": who, "user_hash": hash, "client_id": "c-3", "text": items[0]["text"], "menu_id": best}))).await;
        assert_eq!((s, &b["duplicate"]), (StatusCode::OK, &json!(true)), "{b}");
        let (s, surveys) = app
            .admin(
                Method::GET,
                &format!("/api/v1/conversations/{conv}/csat"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(
            (
                &surveys["items"][0]["rating"],
                &surveys["items"][0]["channel"]
            ),
            (&json!(5), &json!("app_push")),
            "{surveys}"
        );
        let (_, c) = app
            .admin(Method::GET, &format!("/api/v1/conversations/{conv}"), None)
            .await;
        assert_eq!(c["status"], "resolved", "the tap did not reopen it");
    }
}
