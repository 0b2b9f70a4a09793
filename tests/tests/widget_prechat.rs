//! A web chat inbox's pre-chat form: set in the inbox's settings (and checked there), sent in
//! the `welcome` of a visitor who has not written yet, required before the first message, and
//! its answers land on the contact (name, email, the other fields in `attributes`, each defined
//! as a text attribute when the form is saved).

use kefu_tests::ws::{connect, next_where, send};
use kefu_tests::{TestApp, backends};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn pre_chat_answers_land_on_the_contact() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        // A bad form is refused with the field named.
        let (s, e) = app
            .admin(
                Method::POST,
                "/api/v1/inboxes",
                Some(
                    json!({"name": "Shop", "channel": {"type": "web_chat", "pre_chat": {
                    "enabled": true, "fields": [{"key": "Order No", "label": "Order"}]}}}),
                ),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert!(
            e["detail"]
                .as_str()
                .expect("detail")
                .contains("pre_chat.fields[0].key"),
            "{e}"
        );

        let form = json!({"enabled": true, "name": "required", "email": "optional",
            "fields": [{"key": "order_number", "label": "Order number", "required": true}]});
        let (s, inbox) = app
            .admin(
                Method::POST,
                "/api/v1/inboxes",
                Some(json!({"name": "Shop", "channel": {"type": "web_chat", "pre_chat": form}})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{inbox}");
        assert_eq!(inbox["channel"]["pre_chat"], form, "kept as set");
        let token = inbox["website_token"].as_str().expect("token");

        let mut ws = connect(&app.base, "/ws/web_chat").await;
        send(&mut ws, json!({"type": "hello", "website_token": token})).await;
        let welcome = next_where(&mut ws, "welcome", |v| v["type"] == "welcome").await;
        assert_eq!(welcome["pre_chat"], form, "{welcome}");

        // Not before the form is answered, and not with a required field missing.
        send(
            &mut ws,
            json!({"type": "message", "client_id": "m1", "text": "hi"}),
        )
        .await;
        let e = next_where(&mut ws, "error", |v| v["type"] == "error").await;
        assert_eq!(e["code"], "pre_chat_required", "{e}");
        send(
            &mut ws,
            json!({"type": "pre_chat", "name": "Li Lei", "fields": {"order_number": " "}}),
        )
        .await;
        let e = next_where(&mut ws, "error", |v| v["type"] == "error").await;
        assert_eq!(
            (e["code"].as_str(), e["field"].as_str()),
            (Some("invalid_pre_chat"), Some("order_number")),
            "{e}"
        );
        send(
            &mut ws,
            json!({"type": "pre_chat", "name": "Li Lei", "email": "not-an-address", "fields": {"order_number": "A-1"}}),
        )
        .await;
        let e = next_where(&mut ws, "error", |v| v["type"] == "error").await;
        assert_eq!(e["field"], "email", "{e}");

        send(
            &mut ws,
            json!({"type": "pre_chat", "name": " Li Lei ", "email": "li@example.com", "fields": {"order_number": "A-1"}}),
        )
        .await;
        next_where(&mut ws, "pre_chat_ok", |v| v["type"] == "pre_chat_ok").await;
        send(
            &mut ws,
            json!({"type": "message", "client_id": "m1", "text": "hi"}),
        )
        .await;
        let ack = next_where(&mut ws, "ack", |v| {
            v["type"] == "ack" || v["type"] == "error"
        })
        .await;
        assert_eq!(ack["type"], "ack", "{ack}");

        let conversation = ack["conversation_id"].as_i64().expect("conversation");
        let (_, c) = app
            .admin(
                Method::GET,
                &format!("/api/v1/conversations/{conversation}"),
                None,
            )
            .await;
        let contact = c["contact"]["id"].as_i64().expect("contact");
        let (s, contact) = app
            .admin(Method::GET, &format!("/api/v1/contacts/{contact}"), None)
            .await;
        assert_eq!(s, StatusCode::OK, "{contact}");
        assert_eq!(contact["name"], "Li Lei", "{contact}");
        assert_eq!(contact["email"], "li@example.com", "{contact}");
        assert_eq!(contact["attributes"]["order_number"], "A-1", "{contact}");
        // The form's field is a text attribute, so the contact panel shows the answer.
        let (_, defs) = app
            .admin(Method::GET, "/api/v1/attribute-definitions", None)
            .await;
        let defs: Vec<(&str, &str, &str)> = defs["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|d| {
                let s = |k: &str| d[k].as_str().unwrap_or_default();
                (s("key"), s("label"), s("type"))
            })
            .collect();
        assert_eq!(defs, [("order_number", "Order number", "text")]);

        // A returning visitor with a conversation is not asked again.
        let session = welcome["session"].as_str().expect("session");
        let mut again = connect(&app.base, "/ws/web_chat").await;
        send(
            &mut again,
            json!({"type": "hello", "website_token": token, "session": session}),
        )
        .await;
        let welcome = next_where(&mut again, "welcome", |v| v["type"] == "welcome").await;
        assert!(welcome.get("pre_chat").is_none(), "{welcome}");
        app.stop().await;
    }
}
