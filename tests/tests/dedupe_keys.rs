//! Dedupe keys keep senders apart: two verified users whose ids and `client_id`s join to the
//! same text (user `acme` with `42:msg-1`, user `acme:42` with `msg-1`) each get their message
//! stored in their own conversation, over the widget WebSocket of a web chat inbox and of an
//! app inbox.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use hmac::{Hmac, Mac};
use kefu_tests::{TestApp, backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const SECRET: &str = "identity-secret-0123456789";

fn user_hash(user_id: &str) -> String {
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(SECRET.as_bytes()).expect("key");
    mac.update(user_id.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The next frame of type `kind`, skipping others; panics on an `error` frame or after 10 s.
async fn next_of(ws: &mut Ws, kind: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .unwrap_or_else(|_| panic!("no {kind} frame within 10 s"))
            .expect("socket open")
            .expect("frame");
        if let Message::Text(t) = msg {
            let v: Value = serde_json::from_str(t.as_str()).expect("server frames are JSON");
            assert_ne!(v["type"], "error", "waiting for {kind}: {v}");
            if v["type"] == kind {
                return v;
            }
        }
    }
}

/// A verified user's socket, past `welcome`.
async fn join(app: &TestApp, token: &str, user_id: &str) -> Ws {
    let url = format!("{}/ws/web_chat", app.base.replace("http://", "ws://"));
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("websocket connects");
    let hello = json!({"type": "hello", "website_token": token,
        "identity": {"user_id": user_id, "user_hash": user_hash(user_id)}});
    ws.send(Message::Text(hello.to_string().into()))
        .await
        .expect("send hello");
    next_of(&mut ws, "welcome").await;
    ws
}

/// Sends a message and returns its `ack`.
async fn say(ws: &mut Ws, client_id: &str, text: &str) -> Value {
    let frame = json!({"type": "message", "client_id": client_id, "text": text});
    ws.send(Message::Text(frame.to_string().into()))
        .await
        .expect("send message");
    let ack = next_of(ws, "ack").await;
    assert_eq!(ack["client_id"], client_id, "{ack}");
    ack
}

/// The texts of a conversation and the external id of its contact's identity.
async fn seen(app: &TestApp, conv: &Value) -> (Vec<String>, Value) {
    let texts = app
        .messages(conv.as_i64().expect("conversation id"))
        .await
        .iter()
        .map(|m| m["content"]["text"].as_str().unwrap_or_default().to_owned())
        .collect();
    let (s, c) = app
        .admin(Method::GET, &format!("/api/v1/conversations/{conv}"), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    let (s, contact) = app
        .admin(
            Method::GET,
            &format!("/api/v1/contacts/{}", c["contact"]["id"]),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{contact}");
    (texts, contact["identities"][0]["external_id"].clone())
}

/// The collision of issue 17 on one inbox: `prefix` is how the inbox names verified users.
async fn users_whose_keys_used_to_meet_stay_apart(app: &TestApp, token: &str, prefix: &str) {
    let mut attacker = join(app, token, "acme").await;
    let mut victim = join(app, token, "acme:42").await;
    let a = say(&mut attacker, "42:msg-1", "from acme").await;
    let v = say(&mut victim, "msg-1", "from acme:42").await;
    assert_ne!(a["id"], v["id"], "the victim's message was not stored");
    assert_ne!(a["conversation_id"], v["conversation_id"]);
    // The victim's next message stays in the victim's conversation.
    let v2 = say(&mut victim, "msg-2", "still acme:42").await;
    assert_eq!(v2["conversation_id"], v["conversation_id"], "{v2}");
    // A resend is still acknowledged with the stored message.
    let again = say(&mut victim, "msg-1", "from acme:42").await;
    assert_eq!(again["id"], v["id"], "resends stay deduplicated");

    let (texts, who) = seen(app, &a["conversation_id"]).await;
    assert_eq!(texts, ["from acme"]);
    assert_eq!(who, format!("{prefix}acme"));
    let (texts, who) = seen(app, &v["conversation_id"]).await;
    assert_eq!(texts, ["from acme:42", "still acme:42"]);
    assert_eq!(who, format!("{prefix}acme:42"));
}

#[tokio::test]
async fn verified_web_chat_users_cannot_take_each_others_messages() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let (s, list) = app.admin(Method::GET, "/api/v1/inboxes", None).await;
        assert_eq!(s, StatusCode::OK, "{list}");
        let inbox = list["items"]
            .as_array()
            .and_then(|l| l.iter().find(|i| i["channel"]["type"] == "web_chat"))
            .cloned()
            .expect("default web chat inbox");
        let (s, b) = app
            .admin(
                Method::PATCH,
                &format!("/api/v1/inboxes/{}", inbox["id"]),
                Some(json!({"channel": {"hmac_secret": SECRET}})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let token = inbox["website_token"].as_str().expect("website_token");
        users_whose_keys_used_to_meet_stay_apart(&app, token, "user:").await;
        app.stop().await;
    }
}

#[tokio::test]
async fn verified_app_users_cannot_take_each_others_messages() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let (s, inbox) = app
            .admin(
                Method::POST,
                "/api/v1/inboxes",
                Some(json!({"name": "Mobile app", "channel": {"type": "app_push", "app_secret": SECRET}})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{inbox}");
        let token = inbox["website_token"].as_str().expect("website_token");
        users_whose_keys_used_to_meet_stay_apart(&app, token, "").await;
        app.stop().await;
    }
}
