//! Labels over HTTP on every backend: the label list (create, rename, recolour, delete, and
//! the `{code, detail, field}` refusals), labels on conversations and contacts, and the
//! `conversation.labels_changed` event reaching a webhook receiver.

use std::time::Duration;

use kefu_tests::receiver::Receiver;
use kefu_tests::{TestApp, backends, msg};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn create(app: &TestApp, body: Value) -> (StatusCode, Value) {
    app.admin(Method::POST, "/api/v1/labels", Some(body)).await
}

async fn names(app: &TestApp) -> Vec<String> {
    let (s, b) = app.admin(Method::GET, "/api/v1/labels", None).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    b["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| l["name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn labels_are_created_listed_changed_and_deleted() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let (s, vip) = create(&app, json!({"name": " VIP ", "color": "#FF8800"})).await;
        assert_eq!(s, StatusCode::CREATED, "{vip}");
        assert_eq!(
            (vip["name"].as_str(), vip["color"].as_str()),
            (Some("VIP"), Some("#ff8800"))
        );
        let (s, refund) = create(&app, json!({"name": "退款"})).await;
        assert_eq!(s, StatusCode::CREATED, "{refund}");
        assert_eq!(refund["color"], "#64748b", "a default colour");
        assert_eq!(names(&app).await, ["VIP", "退款"]);

        let id = vip["id"].as_i64().expect("id");
        let (s, changed) = app
            .admin(
                Method::PATCH,
                &format!("/api/v1/labels/{id}"),
                Some(json!({"name": "vip-gold", "color": "#1f883d"})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{changed}");
        assert_eq!(changed["name"], "vip-gold");
        let (s, one) = app
            .admin(Method::GET, &format!("/api/v1/labels/{id}"), None)
            .await;
        assert_eq!(
            (s, one["color"].as_str()),
            (StatusCode::OK, Some("#1f883d"))
        );

        let (s, _) = app
            .admin(Method::DELETE, &format!("/api/v1/labels/{id}"), None)
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        assert_eq!(names(&app).await, ["退款"]);
        let (s, b) = app
            .admin(Method::DELETE, &format!("/api/v1/labels/{id}"), None)
            .await;
        assert_eq!(
            (s, b["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("not_found"))
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn bad_labels_are_refused_with_the_field_and_a_sentence() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        assert_eq!(
            create(&app, json!({"name": "vip"})).await.0,
            StatusCode::CREATED
        );
        let cases = [
            (
                json!({"name": ""}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "name",
                "1 to 50",
            ),
            (
                json!({"name": "x".repeat(51)}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "name",
                "1 to 50",
            ),
            (
                json!({"name": "a,b"}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "name",
                "commas",
            ),
            (
                json!({"name": "ok", "color": "red"}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "color",
                "hex colour",
            ),
            (
                json!({"name": "vip"}),
                StatusCode::CONFLICT,
                "name",
                "exists",
            ),
        ];
        for (body, status, field, words) in cases {
            let (s, b) = create(&app, body.clone()).await;
            assert_eq!(s, status, "{body} → {b}");
            assert_eq!(b["field"], field, "{body} → {b}");
            let detail = b["detail"].as_str().unwrap_or_default();
            assert!(detail.contains(words), "{body} → {detail}");
            assert!(b["code"].is_string());
        }
        // An agent may read labels but not define them.
        let (_, token) = app.agent("ann@example.com", "agent", json!({})).await;
        let (s, b) = app
            .call(
                Method::POST,
                "/api/v1/labels",
                Some(&token),
                Some(json!({"name": "x"})),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
        let (s, _) = app
            .call(Method::GET, "/api/v1/labels", Some(&token), None)
            .await;
        assert_eq!(s, StatusCode::OK);
        app.stop().await;
    }
}

#[tokio::test]
async fn conversation_labels_change_and_the_event_reaches_a_webhook() {
    for backend in backends() {
        let app = TestApp::spawn_with(&backend, |c| c.jobs.poll_interval_ms = 50).await;
        let rx = Receiver::start().await;
        let (s, ep) = app
            .admin(
                Method::POST,
                "/api/v1/webhooks",
                Some(json!({"url": rx.url, "events": ["conversation.labels_changed"]})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{ep}");
        for name in ["vip", "refund", "spam"] {
            assert_eq!(
                create(&app, json!({"name": name})).await.0,
                StatusCode::CREATED
            );
        }
        let inbox = app.loopback_inbox(json!({})).await;
        let (_, a) = app.inbound(inbox, &msg("p-1", "cust-1", "Hello")).await;
        let conv = a["conversation_id"].as_i64().expect("conversation");
        let path = format!("/api/v1/conversations/{conv}/labels");

        let (s, set) = app
            .admin(Method::PUT, &path, Some(json!({"labels": ["vip", "spam"]})))
            .await;
        assert_eq!(s, StatusCode::OK, "{set}");
        assert_eq!(set["labels"], json!(["spam", "vip"]));
        let (s, set) = app
            .admin(
                Method::PUT,
                &path,
                Some(json!({"labels": ["vip", "refund"]})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{set}");
        assert_eq!(
            (&set["labels"], &set["added"], &set["removed"]),
            (
                &json!(["refund", "vip"]),
                &json!(["refund"]),
                &json!(["spam"])
            )
        );
        // The same set again changes nothing and emits nothing.
        let (s, _) = app
            .admin(
                Method::PUT,
                &path,
                Some(json!({"labels": ["refund", "vip"]})),
            )
            .await;
        assert_eq!(s, StatusCode::OK);

        let (s, c) = app
            .admin(Method::GET, &format!("/api/v1/conversations/{conv}"), None)
            .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(c["labels"], json!(["refund", "vip"]));

        let got = rx
            .wait_until(Duration::from_secs(20), |g| g.len() >= 2)
            .await;
        let bodies: Vec<Value> = got.iter().map(|r| r.json()).collect();
        assert_eq!(bodies.len(), 2, "one event per change: {bodies:?}");
        assert_eq!(bodies[0]["type"], "conversation.labels_changed");
        assert_eq!(bodies[1]["data"]["conversation_id"], conv);
        assert_eq!(bodies[1]["data"]["removed"], json!(["spam"]));

        // Unknown labels and bad shapes are refused; nothing changes.
        let (s, b) = app
            .admin(Method::PUT, &path, Some(json!({"labels": ["nope"]})))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert_eq!(b["field"], "labels");
        assert!(
            b["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("\"nope\""),
            "{b}"
        );
        let (s, b) = app
            .admin(Method::PUT, &path, Some(json!({"labels": "vip"})))
            .await;
        assert!(s.is_client_error(), "{b}");
        let (s, b) = app
            .admin(
                Method::PUT,
                "/api/v1/conversations/999999/labels",
                Some(json!({"labels": []})),
            )
            .await;
        assert_eq!(
            (s, b["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("not_found"))
        );

        // Deleting a label takes it off the conversation.
        let (_, all) = app.admin(Method::GET, "/api/v1/labels", None).await;
        let refund = all["items"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|l| l["name"] == "refund")
            .and_then(|l| l["id"].as_i64())
            .expect("refund exists");
        app.admin(Method::DELETE, &format!("/api/v1/labels/{refund}"), None)
            .await;
        let (_, c) = app
            .admin(Method::GET, &format!("/api/v1/conversations/{conv}"), None)
            .await;
        assert_eq!(c["labels"], json!(["vip"]));
        app.stop().await;
    }
}

#[tokio::test]
async fn contacts_carry_labels_too() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        assert_eq!(
            create(&app, json!({"name": "vip"})).await.0,
            StatusCode::CREATED
        );
        let inbox = app.loopback_inbox(json!({})).await;
        app.inbound(inbox, &msg("p-1", "cust-1", "Hello")).await;
        let contact = app.conversations(inbox).await[0]["contact"]["id"]
            .as_i64()
            .expect("contact");
        let path = format!("/api/v1/contacts/{contact}/labels");
        let (s, b) = app
            .admin(Method::PUT, &path, Some(json!({"labels": ["vip"]})))
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(
            (&b["contact_id"], &b["added"]),
            (&json!(contact), &json!(["vip"]))
        );
        let (s, b) = app.admin(Method::GET, &path, None).await;
        assert_eq!((s, &b["labels"]), (StatusCode::OK, &json!(["vip"])));
        let (s, b) = app
            .admin(Method::PUT, &path, Some(json!({"labels": ["missing"]})))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        let (s, _) = app
            .admin(Method::GET, "/api/v1/contacts/999999/labels", None)
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);

        // A merge carries the other contact's labels over, each once.
        for name in ["refund", "late"] {
            assert_eq!(
                create(&app, json!({"name": name})).await.0,
                StatusCode::CREATED
            );
        }
        app.inbound(inbox, &msg("p-2", "cust-2", "Hi")).await;
        let other = app
            .conversations(inbox)
            .await
            .iter()
            .filter_map(|c| c["contact"]["id"].as_i64())
            .find(|id| *id != contact)
            .expect("a second contact");
        let (s, _) = app
            .admin(
                Method::PUT,
                &format!("/api/v1/contacts/{other}/labels"),
                Some(json!({"labels": ["vip", "refund"]})),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let (s, b) = app
            .admin(
                Method::POST,
                &format!("/api/v1/contacts/{contact}/merge"),
                Some(json!({"other_id": other})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let (_, b) = app.admin(Method::GET, &path, None).await;
        assert_eq!(b["labels"], json!(["refund", "vip"]));
        let (_, b) = app
            .admin(
                Method::GET,
                &format!("/api/v1/contacts/{other}/labels"),
                None,
            )
            .await;
        assert_eq!(b["labels"], json!([]));
        app.stop().await;
    }
}
