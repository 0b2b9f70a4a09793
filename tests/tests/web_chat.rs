//! The web chat channel end to end with a real WebSocket client: hello/welcome, ack after
//! commit, resend dedupe, live agent replies, reconnect replay, typing, identity verification and
//! bad input.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use hmac::{Hmac, Mac};
use kefu_tests::{TestApp, backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(app: &TestApp, path: &str) -> Ws {
    let url = format!("{}{path}", app.base.replace("http://", "ws://"));
    tokio_tungstenite::connect_async(url)
        .await
        .expect("websocket connects")
        .0
}

async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::Text(v.to_string().into()))
        .await
        .expect("send");
}

/// The next frame of type `kind`, skipping others; panics after 10 s.
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
            if v["type"] == kind {
                return v;
            }
        }
    }
}

async fn website_token(app: &TestApp) -> (i64, String) {
    let (s, list) = app.admin(Method::GET, "/api/v1/inboxes", None).await;
    assert_eq!(s, StatusCode::OK);
    let inbox = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["channel"]["type"] == "web_chat")
        .expect("default web chat inbox")
        .clone();
    (
        inbox["id"].as_i64().expect("id"),
        inbox["website_token"]
            .as_str()
            .expect("website_token")
            .to_owned(),
    )
}

#[tokio::test]
async fn visitor_chats_with_an_agent_and_catches_up_after_reconnecting() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let (_, token) = website_token(&app).await;
        let mut agent = connect(&app, &format!("/ws/agent?token={}", app.admin_token)).await;

        let mut tab = connect(&app, "/ws/web_chat").await;
        send(
            &mut tab,
            json!({"type": "hello", "website_token": token, "name": "Visitor Wang"}),
        )
        .await;
        let welcome = next_of(&mut tab, "welcome").await;
        assert_eq!(
            welcome["conversation_id"],
            Value::Null,
            "no conversation before the first message"
        );
        assert_eq!(welcome["messages"], json!([]));
        let session = welcome["session"].as_str().expect("session").to_owned();

        send(
            &mut tab,
            json!({"type": "message", "client_id": "c-1", "text": "你好, is anyone there?"}),
        )
        .await;
        let ack = next_of(&mut tab, "ack").await;
        assert_eq!(
            (ack["client_id"].as_str(), ack["seq"].as_i64()),
            (Some("c-1"), Some(1))
        );
        let conv = ack["conversation_id"].as_i64().expect("conversation");
        // A resend (the widget reconnected before seeing the ack) is acknowledged, not stored twice.
        send(
            &mut tab,
            json!({"type": "message", "client_id": "c-1", "text": "你好, is anyone there?"}),
        )
        .await;
        let again = next_of(&mut tab, "ack").await;
        assert_eq!(again["id"], ack["id"]);

        // The agent console hears about it.
        let ev = loop {
            let f = next_of(&mut agent, "event").await;
            if f["event"]["type"] == "message.created" {
                break f;
            }
        };
        assert_eq!(
            ev["event"]["data"]["content"]["text"],
            "你好, is anyone there?"
        );
        send(&mut tab, json!({"type": "typing", "on": true})).await;
        let typing = next_of(&mut agent, "typing").await;
        assert_eq!(
            (typing["conversation_id"].as_i64(), typing["on"].as_bool()),
            (Some(conv), Some(true))
        );
        send(
            &mut agent,
            json!({"type": "typing", "conversation_id": conv, "on": true}),
        )
        .await;
        let typing = next_of(&mut tab, "typing").await;
        assert_eq!(typing["name"], "Admin");

        // An agent reply reaches the open tab live.
        let (s, _) = app
            .admin(
                Method::POST,
                &format!("/api/v1/conversations/{conv}/messages"),
                Some(json!({"text": "Hi! How can I help?"})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        let live = loop {
            let f = next_of(&mut tab, "message").await;
            if f["message"]["direction"] == "outbound" {
                break f;
            }
        };
        assert_eq!(live["message"]["content"]["text"], "Hi! How can I help?");
        assert_eq!(live["message"]["seq"], 2);
        // Private notes never reach the visitor.
        app.admin(
            Method::POST,
            &format!("/api/v1/conversations/{conv}/messages"),
            Some(json!({"text": "internal", "private": true})),
        )
        .await;
        tab.close(None).await.expect("close");

        // While the visitor is away, the agent answers twice.
        for text in ["Are you still there?", "I have updated your order."] {
            app.admin(
                Method::POST,
                &format!("/api/v1/conversations/{conv}/messages"),
                Some(json!({"text": text})),
            )
            .await;
        }
        let mut back = connect(&app, "/ws/web_chat").await;
        send(
            &mut back,
            json!({"type": "hello", "website_token": token, "session": session, "after_seq": 2}),
        )
        .await;
        let welcome = next_of(&mut back, "welcome").await;
        assert_eq!(
            welcome["conversation_id"], conv,
            "the session keeps the visitor's conversation"
        );
        let replay: Vec<(i64, String)> = welcome["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .map(|m| {
                (
                    m["seq"].as_i64().unwrap_or(-1),
                    m["content"]["text"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        assert_eq!(
            replay,
            vec![
                (4, "Are you still there?".into()),
                (5, "I have updated your order.".into())
            ],
            "exactly the missed, non-private messages"
        );
        // A read receipt marks the replies up to that seq delivered, live for the agents too.
        let mut agent_events = app.state.bus.subscribe();
        send(&mut back, json!({"type": "read", "seq": 5})).await;
        loop {
            let f = next_of(&mut back, "message").await;
            if f["message"]["seq"] == 5 && f["message"]["delivery"]["status"] == "delivered" {
                break;
            }
        }
        let ev = loop {
            let ev = tokio::time::timeout(Duration::from_secs(10), agent_events.recv())
                .await
                .expect("an event")
                .expect("bus");
            if let kefu_normalizer::EventData::MessageUpdated(m) = &ev.data
                && m.seq == 4
                && m.delivery
                    .as_ref()
                    .is_some_and(|d| d.status == kefu_normalizer::DeliveryStatus::Delivered)
            {
                break ev;
            }
        };
        assert_eq!(ev.conversation_id, Some(conv));
        send(&mut back, json!({"type": "ping"})).await;
        next_of(&mut back, "pong").await;
        app.stop().await;
    }
}

#[tokio::test]
async fn bad_frames_forged_sessions_and_identity_verification() {
    let app = TestApp::spawn(&backends()[0]).await;
    let (inbox, token) = website_token(&app).await;

    let mut ws = connect(&app, "/ws/web_chat").await;
    send(
        &mut ws,
        json!({"type": "hello", "website_token": "not-a-token"}),
    )
    .await;
    assert_eq!(next_of(&mut ws, "error").await["code"], "unknown_website");

    let mut ws = connect(&app, "/ws/web_chat").await;
    send(
        &mut ws,
        json!({"type": "message", "client_id": "x", "text": "before hello"}),
    )
    .await;
    assert_eq!(next_of(&mut ws, "error").await["code"], "bad_frame");

    let mut ws = connect(&app, "/ws/web_chat").await;
    send(
        &mut ws,
        json!({"type": "hello", "website_token": token, "session": "1.dmlzaXRvcjpmb3JnZWQ.AAAA"}),
    )
    .await;
    let welcome = next_of(&mut ws, "welcome").await;
    assert_ne!(
        welcome["session"], "1.dmlzaXRvcjpmb3JnZWQ.AAAA",
        "a forged session is replaced by a new visitor"
    );
    ws.send(Message::Text("{not json".into()))
        .await
        .expect("send");
    let e = next_of(&mut ws, "error").await;
    assert_eq!(e["code"], "bad_frame");
    send(&mut ws, json!({"type": "shout"})).await;
    assert!(
        next_of(&mut ws, "error").await["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("unknown variant")
    );
    send(
        &mut ws,
        json!({"type": "message", "client_id": "e", "text": "   "}),
    )
    .await;
    let e = next_of(&mut ws, "error").await;
    assert_eq!(
        (e["code"].as_str(), e["client_id"].as_str()),
        (Some("invalid_message"), Some("e"))
    );
    send(&mut ws, json!({"type": "ping"})).await;
    next_of(&mut ws, "pong").await;
    // An oversized frame closes the connection instead of being buffered.
    let _ = ws.send(Message::Text("x".repeat(64 * 1024).into())).await;
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match ws.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break true,
                Some(Ok(_)) => continue,
            }
        }
    })
    .await;
    assert_eq!(closed, Ok(true), "oversized frames close the connection");
    let (_, convs) = app.admin(Method::GET, "/api/v1/conversations", None).await;
    assert_eq!(convs["items"], json!([]), "no bad frame stored anything");

    // With an hmac_secret, identities must be verified.
    let secret = "identity-secret-0123456789";
    let (s, b) = app
        .admin(
            Method::PATCH,
            &format!("/api/v1/inboxes/{inbox}"),
            Some(json!({"channel": {"hmac_secret": secret}})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let mut ws = connect(&app, "/ws/web_chat").await;
    send(&mut ws, json!({"type": "hello", "website_token": token, "identity": {"user_id": "u-42", "user_hash": "00ff"}})).await;
    assert_eq!(
        next_of(&mut ws, "error").await["code"],
        "identity_unverified"
    );
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(b"u-42");
    let hash = hex::encode(mac.finalize().into_bytes());
    let mut ws = connect(&app, "/ws/web_chat").await;
    send(&mut ws, json!({"type": "hello", "website_token": token, "identity": {"user_id": "u-42", "user_hash": hash}})).await;
    next_of(&mut ws, "welcome").await;
    send(
        &mut ws,
        json!({"type": "message", "client_id": "v-1", "text": "verified"}),
    )
    .await;
    let ack = next_of(&mut ws, "ack").await;
    let (_, c) = app
        .admin(
            Method::GET,
            &format!("/api/v1/conversations/{}", ack["conversation_id"]),
            None,
        )
        .await;
    let (_, contact) = app
        .admin(
            Method::GET,
            &format!("/api/v1/contacts/{}", c["contact"]["id"]),
            None,
        )
        .await;
    assert_eq!(contact["identities"][0]["external_id"], "user:u-42");
    app.stop().await;
}

/// With nobody online, a visitor's first message puts the conversation in the queue and the
/// widget is told its place; a later visitor is behind it, and a reconnect says so again.
#[tokio::test]
async fn visitors_learn_their_place_in_the_queue() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let (_, token) = website_token(&app).await;
        let mut places = Vec::new();
        let mut sessions = Vec::new();
        for (i, name) in ["First", "Second"].into_iter().enumerate() {
            let mut tab = connect(&app, "/ws/web_chat").await;
            send(
                &mut tab,
                json!({"type": "hello", "website_token": token, "name": name}),
            )
            .await;
            let welcome = next_of(&mut tab, "welcome").await;
            sessions.push(welcome["session"].as_str().expect("session").to_owned());
            send(
                &mut tab,
                json!({"type": "message", "client_id": format!("c-{i}"), "text": "Hello?"}),
            )
            .await;
            let status = next_of(&mut tab, "status").await;
            assert_eq!(status["conversation_status"], "queued", "{status}");
            places.push(status["queue_position"].as_i64());
        }
        assert_eq!(places, [Some(1), Some(2)], "{backend:?}");
        let mut back = connect(&app, "/ws/web_chat").await;
        send(
            &mut back,
            json!({"type": "hello", "website_token": token, "session": sessions[1]}),
        )
        .await;
        next_of(&mut back, "welcome").await;
        let status = next_of(&mut back, "status").await;
        assert_eq!(status["queue_position"], 2, "{status}");
        assert_eq!(status["queue_length"], 2, "{status}");
        app.stop().await;
    }
}
