//! Business hours as a web chat visitor meets them, on every backend: the out-of-office reply
//! once per period, and the widget's `welcome` saying when the inbox is away.

use std::time::Duration;

use chrono::{Datelike, Utc};
use futures::{SinkExt, StreamExt};
use kefu_tests::{TestApp, backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

async fn web_chat_inbox(app: &TestApp) -> i64 {
    let (s, list) = app.admin(Method::GET, "/api/v1/inboxes", None).await;
    assert_eq!(s, StatusCode::OK, "{list}");
    list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|i| i["channel"]["type"] == "web_chat")
        .and_then(|i| i["id"].as_i64())
        .expect("the default web chat inbox")
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

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

/// Waits until every outbox event has been relayed, which is when the out-of-office check
/// has seen every customer message so far.
async fn until_relayed(app: &TestApp) {
    use kefu_normalizer::entity::outbox_event;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let db = app.state.db.conn();
    kefu_tests::eventually(Duration::from_secs(10), || async {
        let waiting = outbox_event::Entity::find()
            .filter(outbox_event::Column::RelayedAt.is_null())
            .count(db)
            .await
            .ok()?;
        (waiting == 0).then_some(())
    })
    .await
    .expect("the outbox is relayed");
}

#[tokio::test]
async fn a_visitor_writing_outside_hours_gets_the_reply_once() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let inbox = web_chat_inbox(&app).await;
        // Open only on the weekday after tomorrow (UTC), all day: closed now, and the next
        // opening is that day at 00:00.
        let opens = (Utc::now() + chrono::Duration::days(2)).date_naive();
        let day = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
            [opens.weekday().num_days_from_monday() as usize];
        let (s, schedule) = app
            .admin(
                Method::POST,
                "/api/v1/schedules",
                Some(json!({"name": "Rarely", "time_zone": "UTC", "weekly": {day: [["00:00", "24:00"]]}})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{schedule}");
        let away = json!({"enabled": true, "message": "We are away. We open {{next_open}}.", "repeat_after_hours": 24});
        let (s, changed) = app
            .admin(
                Method::PATCH,
                &format!("/api/v1/inboxes/{inbox}"),
                Some(json!({"schedule_id": schedule["id"], "out_of_office": away})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{changed}");
        let token = changed["website_token"].as_str().expect("token").to_owned();

        let url = format!("{}/ws/web_chat", app.base.replace("http://", "ws://"));
        let (mut tab, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("websocket connects");
        send(&mut tab, json!({"type": "hello", "website_token": token})).await;
        // The widget is told it is outside hours, and when the inbox opens.
        let welcome = next_of(&mut tab, "welcome").await;
        assert_eq!(
            welcome["away"],
            json!({"next_open": format!("{opens}T00:00:00+00:00")})
        );
        send(
            &mut tab,
            json!({"type": "message", "client_id": "c-1", "text": "Anyone there?"}),
        )
        .await;
        let conv = next_of(&mut tab, "ack").await["conversation_id"]
            .as_i64()
            .expect("conversation");
        let reply = loop {
            let f = next_of(&mut tab, "message").await;
            if f["message"]["direction"] == "outbound" {
                break f["message"].clone();
            }
        };
        let want = format!("We are away. We open {opens} 00:00 UTC.");
        assert_eq!(reply["content"]["text"], json!(want));
        assert_eq!(reply["sender"]["type"], "system");
        // An automatic reply is no answer: the list still shows the customer waiting.
        let (_, item) = app
            .admin(Method::GET, &format!("/api/v1/conversations/{conv}"), None)
            .await;
        assert!(item["waiting_since"].is_string(), "{item}");

        // A second message within the period is not answered again.
        send(
            &mut tab,
            json!({"type": "message", "client_id": "c-2", "text": "Hello?"}),
        )
        .await;
        next_of(&mut tab, "ack").await;
        until_relayed(&app).await;
        let texts: Vec<(String, String)> = app
            .messages(conv)
            .await
            .iter()
            .map(|m| {
                (
                    m["sender"]["type"].as_str().unwrap_or_default().to_owned(),
                    m["content"]["text"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        assert_eq!(
            texts,
            vec![
                ("contact".to_owned(), "Anyone there?".to_owned()),
                ("system".to_owned(), want.clone()),
                ("contact".to_owned(), "Hello?".to_owned()),
            ]
        );
        // The reply went out through the channel like any reply.
        let delivered = app
            .wait_delivery(conv, &reply["id"], &["sent", "delivered"])
            .await;
        assert_eq!(delivered["content"]["text"], json!(want));
        app.stop().await;
    }
}

/// The `welcome` a new widget tab gets on the default web chat inbox.
async fn welcome(app: &TestApp, token: &str) -> Value {
    let url = format!("{}/ws/web_chat", app.base.replace("http://", "ws://"));
    let (mut tab, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("websocket connects");
    send(&mut tab, json!({"type": "hello", "website_token": token})).await;
    next_of(&mut tab, "welcome").await
}

#[tokio::test]
async fn the_widget_is_told_nothing_during_hours_or_without_a_schedule() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let inbox = web_chat_inbox(&app).await;
        let path = format!("/api/v1/inboxes/{inbox}");
        let (_, row) = app.admin(Method::GET, &path, None).await;
        let token = row["website_token"].as_str().expect("token").to_owned();
        assert_eq!(welcome(&app, &token).await.get("away"), None);

        let always = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
            .into_iter()
            .map(|d| (d.to_owned(), json!([["00:00", "24:00"]])))
            .collect::<serde_json::Map<String, Value>>();
        let (s, schedule) = app
            .admin(
                Method::POST,
                "/api/v1/schedules",
                Some(json!({"name": "Always", "time_zone": "Asia/Shanghai", "weekly": always})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{schedule}");
        let (s, _) = app
            .admin(
                Method::PATCH,
                &path,
                Some(json!({"schedule_id": schedule["id"]})),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(welcome(&app, &token).await.get("away"), None);

        // A schedule that never opens: away, with no time to come back.
        let (_, never) = app
            .admin(
                Method::POST,
                "/api/v1/schedules",
                Some(json!({"name": "Never", "time_zone": "UTC"})),
            )
            .await;
        app.admin(
            Method::PATCH,
            &path,
            Some(json!({"schedule_id": never["id"]})),
        )
        .await;
        assert_eq!(
            welcome(&app, &token).await["away"],
            json!({"next_open": null})
        );
        app.stop().await;
    }
}
