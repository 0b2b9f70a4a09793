//! Contacts over HTTP on every backend: custom attribute definitions (create, list, change,
//! delete, and their refusals), `PATCH /contacts/{id}` with typed attribute values, partial
//! updates and clear `{code, detail, field}` errors, `contact.updated` reaching a webhook, and
//! `GET /contacts?q=` finding contacts by any of their fields within what the caller sees.

use std::time::Duration;

use kefu_tests::receiver::Receiver;
use kefu_tests::{TestApp, backends, eventually, msg};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn define(app: &TestApp, body: Value) -> (StatusCode, Value) {
    app.admin(Method::POST, "/api/v1/attribute-definitions", Some(body))
        .await
}

/// Defines one attribute of each kind.
async fn define_all(app: &TestApp) {
    for body in [
        json!({"key": "vip_level", "label": "VIP level", "type": "number"}),
        json!({"key": "plan", "label": "Plan", "type": "list", "options": ["free", "pro"]}),
        json!({"key": "renewal", "label": "Renewal", "type": "date"}),
        json!({"key": "verified", "label": "Verified", "type": "checkbox"}),
        json!({"key": "crm", "label": "CRM record", "type": "link"}),
        json!({"key": "notes", "label": "Notes", "type": "text"}),
    ] {
        let (s, b) = define(app, body).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
    }
}

/// A contact, by a first message from `sender`.
async fn contact(app: &TestApp, inbox: i64, sender: &str) -> i64 {
    let (s, b) = app
        .inbound(inbox, &msg(&format!("m-{sender}"), sender, "Hello"))
        .await;
    assert!(s.is_success(), "{b}");
    app.conversations(inbox)
        .await
        .iter()
        .filter(|c| c["id"] == b["conversation_id"])
        .find_map(|c| c["contact"]["id"].as_i64())
        .expect("the conversation's contact")
}

async fn patch(app: &TestApp, id: i64, body: Value) -> (StatusCode, Value) {
    app.admin(Method::PATCH, &format!("/api/v1/contacts/{id}"), Some(body))
        .await
}

#[tokio::test]
async fn definitions_are_created_listed_changed_and_deleted() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        define_all(&app).await;
        let (s, list) = app
            .admin(Method::GET, "/api/v1/attribute-definitions", None)
            .await;
        assert_eq!(s, StatusCode::OK, "{list}");
        let items = list["items"].as_array().cloned().unwrap_or_default();
        let keys: Vec<&str> = items.iter().filter_map(|d| d["key"].as_str()).collect();
        assert_eq!(
            keys,
            ["vip_level", "plan", "renewal", "verified", "crm", "notes"]
        );
        let plan = &items[1];
        assert_eq!(
            (&plan["type"], &plan["options"]),
            (&json!("list"), &json!(["free", "pro"]))
        );

        let id = plan["id"].as_i64().expect("id");
        let path = format!("/api/v1/attribute-definitions/{id}");
        let (s, b) = app
            .admin(
                Method::PATCH,
                &path,
                Some(json!({"label": "Subscription", "options": ["free", "pro", "enterprise"]})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let (_, b) = app.admin(Method::GET, &path, None).await;
        assert_eq!(
            (&b["label"], &b["options"], &b["key"]),
            (
                &json!("Subscription"),
                &json!(["free", "pro", "enterprise"]),
                &json!("plan")
            )
        );
        // The kind stays: a patch may not carry it.
        let (s, _) = app
            .admin(Method::PATCH, &path, Some(json!({"type": "text"})))
            .await;
        assert!(s.is_client_error());

        let (s, _) = app.admin(Method::DELETE, &path, None).await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        let (s, b) = app.admin(Method::DELETE, &path, None).await;
        assert_eq!(
            (s, b["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("not_found"))
        );
        let (_, list) = app
            .admin(Method::GET, "/api/v1/attribute-definitions", None)
            .await;
        assert_eq!(list["items"].as_array().map(Vec::len), Some(5));

        // Agents read the list but may not change it.
        let (_, token) = app.agent("ada@example.com", "agent", json!({})).await;
        let (s, _) = app
            .call(
                Method::GET,
                "/api/v1/attribute-definitions",
                Some(&token),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let (s, b) = app
            .call(
                Method::POST,
                "/api/v1/attribute-definitions",
                Some(&token),
                Some(json!({"key": "x", "label": "X", "type": "text"})),
            )
            .await;
        assert_eq!(
            (s, b["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("forbidden"))
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn bad_definitions_are_refused_with_the_field_and_a_sentence() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        define_all(&app).await;
        let cases = [
            (
                json!({"key": "VIP", "label": "x", "type": "text"}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "key",
                "snake_case",
            ),
            (
                json!({"key": "a-b", "label": "x", "type": "text"}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "key",
                "snake_case",
            ),
            (
                json!({"key": "ok", "label": " ", "type": "text"}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "label",
                "1 to 100",
            ),
            (
                json!({"key": "ok", "label": "x", "type": "list"}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "options",
                "1 to 100 options",
            ),
            (
                json!({"key": "ok", "label": "x", "type": "list", "options": ["a", "a"]}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "options",
                "twice",
            ),
            (
                json!({"key": "ok", "label": "x", "type": "text", "options": ["a"]}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "options",
                "only a list",
            ),
            (
                json!({"key": "plan", "label": "x", "type": "text"}),
                StatusCode::CONFLICT,
                "key",
                "exists",
            ),
        ];
        for (body, status, field, words) in cases {
            let (s, b) = define(&app, body.clone()).await;
            assert_eq!(s, status, "{body} → {b}");
            assert_eq!(b["field"], field, "{body} → {b}");
            let detail = b["detail"].as_str().unwrap_or_default();
            assert!(detail.contains(words), "{body} → {b}");
        }
        let (s, b) = define(&app, json!({"key": "ok", "label": "x", "type": "colour"})).await;
        assert!(s.is_client_error(), "an unknown kind: {b}");
        app.stop().await;
    }
}

#[tokio::test]
async fn a_contact_is_edited_field_by_field_and_typed_values_are_checked() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        define_all(&app).await;
        let inbox = app.loopback_inbox(json!({})).await;
        let id = contact(&app, inbox, "cust-1").await;

        let (s, b) = patch(
            &app,
            id,
            json!({"name": " Lǐ Wěi ", "email": "Li@Example.com", "phone": "+86 138 0013 8000",
                   "attributes": {"vip_level": 3, "plan": "pro", "renewal": "2027-01-31",
                                  "verified": true, "crm": "https://crm.example.com/c/9", "notes": "prefers email"}}),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(
            (&b["name"], &b["email"], &b["phone"]),
            (
                &json!("Lǐ Wěi"),
                &json!("li@example.com"),
                &json!("+86 138 0013 8000")
            )
        );
        assert_eq!(b["attributes"]["vip_level"], 3);
        assert_eq!(b["attributes"]["verified"], true);

        // A partial update: only what is named changes; `null` removes an attribute.
        let (s, b) = patch(
            &app,
            id,
            json!({"phone": null, "attributes": {"notes": null, "vip_level": 4.5}}),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let (s, got) = app
            .admin(Method::GET, &format!("/api/v1/contacts/{id}"), None)
            .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(got, b, "GET shows what PATCH answered");
        assert_eq!(
            (&got["name"], &got["email"], &got["phone"]),
            (&json!("Lǐ Wěi"), &json!("li@example.com"), &Value::Null)
        );
        assert_eq!(got["attributes"]["vip_level"], 4.5);
        assert_eq!(got["attributes"]["plan"], "pro");
        assert!(got["attributes"].get("notes").is_none(), "{got}");
        assert_eq!(got["identities"][0]["external_id"], "cust-1");

        let cases = [
            (
                json!({"attributes": {"vip_level": "3"}}),
                "invalid_attribute",
                "attributes.vip_level",
                "number",
            ),
            (
                json!({"attributes": {"plan": "gold"}}),
                "invalid_attribute",
                "attributes.plan",
                "one of \"free\", \"pro\"",
            ),
            (
                json!({"attributes": {"renewal": "31/01/2027"}}),
                "invalid_attribute",
                "attributes.renewal",
                "YYYY-MM-DD",
            ),
            (
                json!({"attributes": {"renewal": "2027-02-30"}}),
                "invalid_attribute",
                "attributes.renewal",
                "YYYY-MM-DD",
            ),
            (
                json!({"attributes": {"verified": "yes"}}),
                "invalid_attribute",
                "attributes.verified",
                "true or false",
            ),
            (
                json!({"attributes": {"crm": "ftp://x.example"}}),
                "invalid_attribute",
                "attributes.crm",
                "http or https",
            ),
            (
                json!({"attributes": {"notes": "x".repeat(1_001)}}),
                "invalid_attribute",
                "attributes.notes",
                "1000",
            ),
            (
                json!({"attributes": {"shoe_size": 42}}),
                "unknown_attribute",
                "attributes.shoe_size",
                "not defined",
            ),
            (
                json!({"email": "not-an-address"}),
                "invalid_request",
                "email",
                "not a valid address",
            ),
            (
                json!({"phone": "call me"}),
                "invalid_request",
                "phone",
                "not a phone number",
            ),
            (
                json!({"name": "x".repeat(256)}),
                "invalid_request",
                "name",
                "255",
            ),
        ];
        for (body, code, field, words) in cases {
            let (s, b) = patch(&app, id, body.clone()).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body} → {b}");
            assert_eq!(
                (b["code"].as_str(), b["field"].as_str()),
                (Some(code), Some(field)),
                "{body} → {b}"
            );
            let detail = b["detail"].as_str().unwrap_or_default();
            assert!(detail.contains(words), "{words:?} in {b}");
        }
        // One bad value refuses the whole patch.
        let (s, _) = patch(
            &app,
            id,
            json!({"name": "Changed", "attributes": {"plan": "gold"}}),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let (_, got) = app
            .admin(Method::GET, &format!("/api/v1/contacts/{id}"), None)
            .await;
        assert_eq!(got["name"], "Lǐ Wěi");

        let (s, b) = patch(&app, 999_999, json!({"name": "x"})).await;
        assert_eq!(
            (s, b["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("not_found"))
        );
        let (s, b) = patch(&app, id, json!({"nickname": "x"})).await;
        assert!(s.is_client_error(), "{b}");
        app.stop().await;
    }
}

#[tokio::test]
async fn an_edit_emits_contact_updated_to_webhooks_and_routing_still_reads_attributes() {
    for backend in backends() {
        let app = TestApp::spawn_with(&backend, |c| c.jobs.poll_interval_ms = 50).await;
        define_all(&app).await;
        let rx = Receiver::start().await;
        let (s, ep) = app
            .admin(
                Method::POST,
                "/api/v1/webhooks",
                Some(json!({"url": rx.url, "events": ["contact.updated"]})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{ep}");
        let inbox = app.loopback_inbox(json!({})).await;
        let id = contact(&app, inbox, "cust-1").await;
        let (s, _) = patch(
            &app,
            id,
            json!({"name": "Ada", "attributes": {"vip_level": 5}}),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        // The same values again change nothing and emit nothing.
        let (s, _) = patch(
            &app,
            id,
            json!({"name": "Ada", "attributes": {"vip_level": 5}}),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        let (s, _) = patch(&app, id, json!({"attributes": {"plan": "free"}})).await;
        assert_eq!(s, StatusCode::OK);
        let got = rx
            .wait_until(Duration::from_secs(20), |g| g.len() >= 2)
            .await;
        let mut bodies: Vec<Value> = got.iter().map(|r| r.json()).collect();
        assert_eq!(bodies.len(), 2, "one event per change: {bodies:?}");
        // Webhook deliveries are not ordered: the second change is the one with the plan.
        bodies.sort_by_key(|b| !b["data"]["attributes"]["plan"].is_null());
        assert_eq!(bodies[0]["type"], "contact.updated");
        assert_eq!(bodies[0]["data"]["id"], id);
        assert_eq!(bodies[0]["data"]["name"], "Ada");
        assert_eq!(bodies[1]["data"]["attributes"]["plan"], "free");
        assert_eq!(bodies[1]["data"]["attributes"]["vip_level"], 5);

        // A routing rule reads the attribute the agent set: the contact's next conversation
        // (the old one resolved, the customer writes again) is routed with the VIP priority.
        let routing = json!({"rules": [{"name": "vip", "when": {"attributes":
            [{"name": "vip_level", "op": "gte", "value": 3}]}, "then": {"priority": {"set": 90}}}]});
        let (s, b) = app
            .admin(
                Method::PUT,
                &format!("/api/v1/inboxes/{inbox}/routing"),
                Some(routing),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let conv = app.conversations(inbox).await[0]["id"]
            .as_i64()
            .expect("conversation");
        let (s, b) = app
            .admin(
                Method::POST,
                &format!("/api/v1/conversations/{conv}/resolve"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        app.inbound(inbox, &msg("m-again", "cust-1", "Back again"))
            .await;
        let priority = eventually(Duration::from_secs(20), || async {
            app.conversations(inbox)
                .await
                .into_iter()
                .find(|c| c["contact"]["id"] == id && c["priority"] == 90)
                .map(|c| c["priority"].clone())
        })
        .await;
        assert_eq!(priority, Some(json!(90)), "the VIP rule matched");
        app.stop().await;
    }
}

/// The ids of `GET /contacts?{query}` as `token`, every page followed.
async fn found(app: &TestApp, token: &str, query: &str) -> Vec<i64> {
    let mut ids = Vec::new();
    let mut cursor = String::new();
    loop {
        let path = format!("/api/v1/contacts?{query}{cursor}");
        let (s, page) = app.call(Method::GET, &path, Some(token), None).await;
        assert_eq!(s, StatusCode::OK, "{path}: {page}");
        ids.extend(
            page["items"]
                .as_array()
                .expect("items")
                .iter()
                .filter_map(|c| c["id"].as_i64()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => return ids,
        }
    }
}

#[tokio::test]
async fn contacts_are_found_by_any_field_within_what_the_caller_sees() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let support = app.loopback_inbox(json!({})).await;
        let sales = app.loopback_inbox(json!({})).await;
        let wang = contact(&app, support, "wx-wang").await;
        let li = contact(&app, support, "wx-li").await;
        let other = contact(&app, sales, "wx-zhao").await;
        let (s, b) = patch(
            &app,
            wang,
            json!({"name": "王小明", "email": "Ming.Wang@Example.com", "phone": "+86 138 0013 8000"}),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let (s, b) = patch(&app, li, json!({"name": "Li 100%_off"})).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let admin = app.admin_token.clone();

        // Newest first, across pages.
        assert_eq!(found(&app, &admin, "limit=2").await, [other, li, wang]);
        // Any field, ignoring ASCII case; a Chinese name by part of it.
        for q in [
            "%E5%B0%8F%E6%98%8E",
            "ming.wang",
            "EXAMPLE.COM",
            "0013",
            "wx-wa",
        ] {
            assert_eq!(found(&app, &admin, &format!("q={q}")).await, [wang], "{q}");
        }
        assert!(
            found(&app, &admin, &format!("q={li}")).await.contains(&li),
            "by id"
        );
        // `%` and `_` are literal, not wildcards.
        assert_eq!(found(&app, &admin, "q=100%25_").await, [li]);
        assert!(found(&app, &admin, "q=1%25o").await.is_empty());
        assert!(found(&app, &admin, "q=nobody").await.is_empty());

        // An agent of the support inbox sees its contacts, not the sales inbox's.
        let (agent, token) = app.agent("a@example.com", "agent", json!({})).await;
        app.join(support, agent).await;
        assert_eq!(found(&app, &token, "").await, [li, wang]);
        assert!(found(&app, &token, "q=wx-zhao").await.is_empty());

        // Bad paging says what was wrong.
        for bad in ["?cursor=abc", "?limit=0", "?limit=101", "?sort=name"] {
            let (s, b) = app
                .call(
                    Method::GET,
                    &format!("/api/v1/contacts{bad}"),
                    Some(&admin),
                    None,
                )
                .await;
            assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {b}");
            assert!(b["detail"].as_str().is_some_and(|d| !d.is_empty()), "{b}");
        }
        app.stop().await;
    }
}
