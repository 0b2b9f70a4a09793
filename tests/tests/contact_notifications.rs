//! `POST /api/v1/contacts/{id}/notifications` end to end: the notification is stored as a
//! system message in the identity's open conversation (or a new queued one) and delivered by
//! the real pipeline to the loopback provider; a repeated `idempotency_key` sends nothing more;
//! `channels` picks the identity; merged contacts are followed; every refusal names its field
//! or says why; agents only reach contacts they see.

use std::time::Duration;

use kefu_tests::ws::{connect, next_where, send};
use kefu_tests::{TestApp, backends, msg};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(20);

fn quick(c: &mut kefu_gateway::Config) {
    c.delivery.base_delay_ms = 50;
    c.jobs.poll_interval_ms = 50;
    c.max_text_bytes = 1024;
}

/// A customer writes through the loopback inbox: `(conversation, contact)`.
async fn customer(app: &TestApp, inbox: i64, sender: &str) -> (i64, i64) {
    let (s, a) = app
        .inbound(inbox, &msg(&format!("in-{sender}"), sender, "Hello"))
        .await;
    assert_eq!(s, StatusCode::OK, "{a}");
    let conv = a["conversation_id"].as_i64().expect("conversation id");
    let (s, c) = app
        .admin(Method::GET, &format!("/api/v1/conversations/{conv}"), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    (conv, c["contact"]["id"].as_i64().expect("contact id"))
}

async fn notify(app: &TestApp, contact: i64, body: Value) -> (StatusCode, Value) {
    app.admin(
        Method::POST,
        &format!("/api/v1/contacts/{contact}/notifications"),
        Some(body),
    )
    .await
}

/// Notifies and expects 202: `(message_id, conversation_id)`.
async fn notified(app: &TestApp, contact: i64, body: Value) -> (i64, i64) {
    let (s, b) = notify(app, contact, body).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    (
        b["message_id"].as_i64().expect("message_id"),
        b["conversation_id"].as_i64().expect("conversation_id"),
    )
}

#[tokio::test]
async fn a_notification_is_delivered_in_the_open_conversation_and_sent_once_per_key() {
    for backend in backends() {
        let app = TestApp::spawn_with(&backend, quick).await;
        let inbox = app.loopback_inbox(json!({})).await;
        let (conv, contact) = customer(&app, inbox, "cust-1").await;

        let body = json!({"text": "Your order has shipped", "idempotency_key": "order-1"});
        let (id, in_conv) = notified(&app, contact, body.clone()).await;
        assert_eq!(in_conv, conv, "{backend:?}: the open conversation is used");

        let sent = app.provider.wait_delivered(1, WAIT).await;
        assert_eq!(sent.len(), 1, "{backend:?}");
        assert_eq!(sent[0].message_id, id);
        assert_eq!(sent[0].recipient.external_id, "cust-1");
        assert_eq!(sent[0].content.text, "Your order has shipped");
        let m = app
            .wait_delivery(conv, &json!(id), &["sent", "delivered"])
            .await;
        assert_eq!(m["sender"]["type"], "system", "{m}");
        assert_eq!(m["direction"], "outbound", "{m}");
        assert_eq!(m["private"], false, "{m}");
        assert_eq!(m["delivery"]["channel"], "loopback", "{m}");

        // The same key again: the first message's ids, nothing stored or sent.
        let again = notified(&app, contact, body).await;
        assert_eq!(again, (id, conv), "{backend:?}");
        // Another key is a new notification; once it is delivered, the provider has seen
        // exactly two, so the repeat sent nothing.
        let (second, _) = notified(
            &app,
            contact,
            json!({"text": "It arrives tomorrow", "idempotency_key": "order-2"}),
        )
        .await;
        assert_ne!(second, id);
        app.wait_delivery(conv, &json!(second), &["sent", "delivered"])
            .await;
        let texts: Vec<String> = app
            .provider
            .delivered()
            .iter()
            .map(|d| d.content.text.clone())
            .collect();
        assert_eq!(
            texts,
            ["Your order has shipped", "It arrives tomorrow"],
            "{backend:?}"
        );
        let system: Vec<Value> = app
            .messages(conv)
            .await
            .into_iter()
            .filter(|m| m["sender"]["type"] == "system")
            .collect();
        assert_eq!(system.len(), 2, "{system:?}");
        app.stop().await;
    }
}

#[tokio::test]
async fn concurrent_requests_with_one_key_store_and_send_one_message() {
    for backend in backends() {
        let app = TestApp::spawn_with(&backend, quick).await;
        let inbox = app.loopback_inbox(json!({})).await;
        let (old, contact) = customer(&app, inbox, "cust-7").await;
        let (s, b) = app
            .admin(
                Method::POST,
                &format!("/api/v1/conversations/{old}/resolve"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        // No open conversation either: the racers also race to open one.
        let body = json!({"text": "Only once", "idempotency_key": "race"});
        let answers =
            futures::future::join_all((0..6).map(|_| notify(&app, contact, body.clone()))).await;
        let ids: Vec<(i64, i64)> = answers
            .iter()
            .map(|(s, b)| {
                assert_eq!(*s, StatusCode::ACCEPTED, "{backend:?}: {b}");
                (
                    b["message_id"].as_i64().expect("message_id"),
                    b["conversation_id"].as_i64().expect("conversation_id"),
                )
            })
            .collect();
        assert!(ids.iter().all(|i| *i == ids[0]), "{backend:?}: {ids:?}");
        let (id, conv) = ids[0];
        app.wait_delivery(conv, &json!(id), &["sent", "delivered"])
            .await;
        let (second, _) = notified(
            &app,
            contact,
            json!({"text": "Then this", "idempotency_key": "after-race"}),
        )
        .await;
        app.wait_delivery(conv, &json!(second), &["sent", "delivered"])
            .await;
        let texts: Vec<String> = app
            .provider
            .delivered()
            .iter()
            .map(|d| d.content.text.clone())
            .collect();
        assert_eq!(texts, ["Only once", "Then this"], "{backend:?}");
        let open: Vec<Value> = app
            .conversations(inbox)
            .await
            .into_iter()
            .filter(|c| c["status"] != "resolved")
            .collect();
        assert_eq!(open.len(), 1, "{backend:?}: {open:?}");
        app.stop().await;
    }
}

#[tokio::test]
async fn without_an_open_conversation_a_queued_one_is_created() {
    for backend in backends() {
        let app = TestApp::spawn_with(&backend, quick).await;
        let inbox = app.loopback_inbox(json!({})).await;
        let (old, contact) = customer(&app, inbox, "cust-2").await;
        let (s, b) = app
            .admin(
                Method::POST,
                &format!("/api/v1/conversations/{old}/resolve"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");

        let (id, conv) = notified(
            &app,
            contact,
            json!({"text": "We miss you", "idempotency_key": "k"}),
        )
        .await;
        assert_ne!(
            conv, old,
            "{backend:?}: a resolved conversation is not reused"
        );
        let (s, c) = app
            .admin(Method::GET, &format!("/api/v1/conversations/{conv}"), None)
            .await;
        assert_eq!(s, StatusCode::OK, "{c}");
        assert_eq!(c["status"], "queued", "{c}");
        assert_eq!(c["contact"]["id"], contact, "{c}");
        assert_eq!(c["inbox_id"], inbox, "{c}");
        let m = app
            .wait_delivery(conv, &json!(id), &["sent", "delivered"])
            .await;
        assert_eq!(m["seq"], 1, "{m}");
        assert_eq!(m["sender"]["type"], "system", "{m}");
        let sent = app.provider.wait_delivered(1, WAIT).await;
        assert_eq!(sent[0].recipient.external_id, "cust-2");
        assert_eq!(sent[0].conversation_id, conv);

        // The customer's answer lands in that conversation.
        let (s, a) = app
            .inbound(inbox, &msg("answer-1", "cust-2", "Thanks!"))
            .await;
        assert_eq!(s, StatusCode::OK, "{a}");
        assert_eq!(a["conversation_id"], conv, "{a}");
        app.stop().await;
    }
}

/// The default web chat inbox's website token.
async fn website_token(app: &TestApp) -> String {
    let (s, list) = app.admin(Method::GET, "/api/v1/inboxes", None).await;
    assert_eq!(s, StatusCode::OK);
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["channel"]["type"] == "web_chat")
        .and_then(|i| i["website_token"].as_str())
        .expect("default web chat inbox")
        .to_owned()
}

#[tokio::test]
async fn channels_pick_the_identity_and_merges_are_followed() {
    for backend in backends() {
        let app = TestApp::spawn_with(&backend, quick).await;
        let inbox = app.loopback_inbox(json!({})).await;
        let (loop_conv, loop_contact) = customer(&app, inbox, "cust-3").await;
        // The same person then writes from the website: the most recent identity.
        let token = website_token(&app).await;
        let mut tab = connect(&app.base, "/ws/web_chat").await;
        send(
            &mut tab,
            json!({"type": "hello", "website_token": token, "name": "Visitor"}),
        )
        .await;
        next_where(&mut tab, "welcome", |v| v["type"] == "welcome").await;
        send(
            &mut tab,
            json!({"type": "message", "client_id": "c-1", "text": "hi from the site"}),
        )
        .await;
        let ack = next_where(&mut tab, "ack", |v| v["type"] == "ack").await;
        let web_conv = ack["conversation_id"].as_i64().expect("conversation");
        let (s, c) = app
            .admin(
                Method::GET,
                &format!("/api/v1/conversations/{web_conv}"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{c}");
        let web_contact = c["contact"]["id"].as_i64().expect("contact");
        let (s, b) = app
            .admin(
                Method::POST,
                &format!("/api/v1/contacts/{web_contact}/merge"),
                Some(json!({"other_id": loop_contact})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");

        // No list: the identity the customer wrote through last.
        let (id, conv) = notified(
            &app,
            web_contact,
            json!({"text": "best", "idempotency_key": "a"}),
        )
        .await;
        assert_eq!(conv, web_conv, "{backend:?}");
        let frame = next_where(&mut tab, "the notification", |v| {
            v["type"] == "message" && v["message"]["id"] == id
        })
        .await;
        assert_eq!(frame["message"]["content"]["text"], "best", "{frame}");

        // A list: its order decides, not recency; types the contact lacks are skipped.
        let (id, conv) = notified(
            &app,
            web_contact,
            json!({"text": "by loopback", "channels": ["wechat", "loopback", "web_chat"], "idempotency_key": "b"}),
        )
        .await;
        assert_eq!(conv, loop_conv, "{backend:?}");
        let sent = app.provider.wait_delivered(1, WAIT).await;
        assert_eq!(
            (sent[0].message_id, sent[0].recipient.external_id.as_str()),
            (id, "cust-3")
        );
        let m = app
            .wait_delivery(conv, &json!(id), &["sent", "delivered"])
            .await;
        assert_eq!(m["delivery"]["channel"], "loopback", "{m}");

        // The merged contact's id leads to the survivor's identities.
        let (_, conv) = notified(
            &app,
            loop_contact,
            json!({"text": "via the old id", "channels": ["web_chat"], "idempotency_key": "c"}),
        )
        .await;
        assert_eq!(conv, web_conv, "{backend:?}");

        let (s, b) = notify(
            &app,
            web_contact,
            json!({"text": "x", "channels": ["wechat", "email"], "idempotency_key": "d"}),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert_eq!(b["code"], "no_reachable_identity", "{b}");
        app.stop().await;
    }
}

#[tokio::test]
async fn refusals_name_the_field_or_the_reason() {
    for backend in backends() {
        let app = TestApp::spawn_with(&backend, quick).await;
        let inbox = app.loopback_inbox(json!({})).await;
        let (_, contact) = customer(&app, inbox, "cust-4").await;
        let long_key = "k".repeat(201);
        let long_text = "字".repeat(400); // 1200 bytes, over the 1024 configured
        let cases = [
            (
                json!({"text": "", "idempotency_key": "k"}),
                "empty_text",
                Some("text"),
            ),
            (
                json!({"text": " \n ", "idempotency_key": "k"}),
                "empty_text",
                Some("text"),
            ),
            (json!({"idempotency_key": "k"}), "empty_text", Some("text")),
            (
                json!({"text": long_text, "idempotency_key": "k"}),
                "text_too_long",
                Some("text"),
            ),
            (
                json!({"text": "hi"}),
                "missing_idempotency_key",
                Some("idempotency_key"),
            ),
            (
                json!({"text": "hi", "idempotency_key": ""}),
                "missing_idempotency_key",
                Some("idempotency_key"),
            ),
            (
                json!({"text": "hi", "idempotency_key": long_key}),
                "invalid_idempotency_key",
                Some("idempotency_key"),
            ),
            (
                json!({"text": "hi", "channels": ["loopback", "fax"], "idempotency_key": "k"}),
                "unknown_channel_type",
                Some("channels[1]"),
            ),
            (
                json!({"text": "hi", "channels": [], "idempotency_key": "k"}),
                "invalid_channels",
                Some("channels"),
            ),
        ];
        for (body, code, field) in cases {
            let (s, b) = notify(&app, contact, body.clone()).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body} → {b}");
            assert_eq!(b["code"], code, "{body} → {b}");
            assert_eq!(b["field"].as_str(), field, "{body} → {b}");
            assert!(b["detail"].as_str().is_some_and(|d| !d.is_empty()), "{b}");
        }
        // A key of exactly 200 characters is fine.
        notified(
            &app,
            contact,
            json!({"text": "hi", "idempotency_key": "k".repeat(200)}),
        )
        .await;

        let (s, b) = notify(&app, 999_999, json!({"text": "hi", "idempotency_key": "k"})).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
        assert_eq!(b["code"], "not_found", "{b}");

        // A contact whose only inbox was deleted cannot be reached.
        let other = app.loopback_inbox(json!({})).await;
        let (_, stranded) = customer(&app, other, "cust-5").await;
        let (s, b) = app
            .admin(Method::DELETE, &format!("/api/v1/inboxes/{other}"), None)
            .await;
        assert!(s.is_success(), "{b}");
        let (s, b) = notify(
            &app,
            stranded,
            json!({"text": "hi", "idempotency_key": "k"}),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert_eq!(b["code"], "no_reachable_identity", "{b}");
        app.stop().await;
    }
}

#[tokio::test]
async fn agents_notify_only_contacts_they_see() {
    for backend in backends() {
        let app = TestApp::spawn_with(&backend, quick).await;
        let inbox = app.loopback_inbox(json!({})).await;
        let (_, contact) = customer(&app, inbox, "cust-6").await;
        let (agent_id, agent) = app.agent("agent@example.com", "agent", json!({})).await;
        let path = format!("/api/v1/contacts/{contact}/notifications");
        let body = json!({"text": "hi", "idempotency_key": "agent-1"});
        let (s, b) = app
            .call(Method::POST, &path, Some(&agent), Some(body.clone()))
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{backend:?}: {b}");
        app.join(inbox, agent_id).await;
        let (s, b) = app
            .call(Method::POST, &path, Some(&agent), Some(body))
            .await;
        assert_eq!(s, StatusCode::ACCEPTED, "{backend:?}: {b}");
        let (s, b) = app.call(Method::POST, &path, None, None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{b}");

        // The customer also writes through an inbox the agent does not work in, most recently:
        // the admin's notification goes there, the agent's through the agent's inbox.
        let (conv_a, _) = customer(&app, inbox, "cust-6").await;
        let other = app.loopback_inbox(json!({})).await;
        let (conv_b, twin) = customer(&app, other, "cust-6-elsewhere").await;
        let (s, b) = app
            .admin(
                Method::POST,
                &format!("/api/v1/contacts/{contact}/merge"),
                Some(json!({"other_id": twin})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let (_, conv) = notified(
            &app,
            contact,
            json!({"text": "a", "idempotency_key": "admin-2"}),
        )
        .await;
        assert_eq!(conv, conv_b, "{backend:?}");
        let (s, b) = app
            .call(
                Method::POST,
                &path,
                Some(&agent),
                Some(json!({"text": "b", "idempotency_key": "agent-2"})),
            )
            .await;
        assert_eq!(s, StatusCode::ACCEPTED, "{backend:?}: {b}");
        assert_eq!(b["conversation_id"], conv_a, "{backend:?}: {b}");
        app.stop().await;
    }
}

#[tokio::test]
async fn the_endpoint_is_in_the_openapi_document() {
    let app = TestApp::spawn(&kefu_tests::Backend::Sqlite).await;
    let (s, doc) = app
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    assert_eq!(s, StatusCode::OK);
    let op = &doc["paths"]["/api/v1/contacts/{id}/notifications"]["post"];
    assert!(
        op.is_object(),
        "POST /contacts/{{id}}/notifications is documented"
    );
    assert!(op["responses"]["202"].is_object(), "{op}");
    assert!(op["requestBody"].is_object(), "{op}");
    let delivery = &doc["components"]["schemas"]["DeliveryView"]["properties"];
    assert!(delivery["channel"].is_object(), "{delivery}");
    app.stop().await;
}
