//! Canned responses over HTTP on every backend: create, list (with `q`), change and delete;
//! who sees and manages which scope (global, team, personal) by role and team; unknown
//! variables refused on save with the field and the variable named; placeholders filled for a
//! conversation with its values or the fallbacks.

use kefu_tests::{TestApp, backends, msg};
use reqwest::{Method, StatusCode, multipart};
use serde_json::{Value, json};

const PATH: &str = "/api/v1/canned-responses";

/// Calls as `token` (the admin when `None`).
async fn call(
    app: &TestApp,
    token: Option<&str>,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    app.call(method, path, Some(token.unwrap_or(&app.admin_token)), body)
        .await
}

/// Creates a canned response as `token`; panics unless it is created.
async fn create(app: &TestApp, token: Option<&str>, body: Value) -> Value {
    let (s, b) = call(app, token, Method::POST, PATH, Some(body.clone())).await;
    assert_eq!(s, StatusCode::CREATED, "{body} → {b}");
    b
}

/// `(shortcut, scope)` of every response `token` lists.
async fn listed(app: &TestApp, token: Option<&str>) -> Vec<(String, String)> {
    let (s, b) = call(app, token, Method::GET, PATH, None).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    b["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            (
                r["shortcut"].as_str().unwrap_or_default().to_owned(),
                r["scope"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

fn id(v: &Value) -> i64 {
    v["id"].as_i64().expect("id")
}

async fn team(app: &TestApp, name: &str, members: &[i64]) -> i64 {
    let (s, b) = app
        .admin(
            Method::POST,
            "/api/v1/teams",
            Some(json!({"name": name, "agent_ids": members})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    id(&b)
}

#[tokio::test]
async fn canned_responses_are_created_listed_changed_and_deleted() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let hello = create(
            &app,
            None,
            json!({"shortcut": " /Hello ", "content": "Hello {{contact.name | there}}!", "scope": "global"}),
        )
        .await;
        assert_eq!(
            (&hello["shortcut"], &hello["scope"], &hello["editable"]),
            (&json!("hello"), &json!("global"), &json!(true)),
            "the shortcut is stored without its slash, in lower case: {hello}"
        );
        // Without a scope, a response is the caller's own.
        let mine = create(
            &app,
            None,
            json!({"shortcut": "退款", "content": "退款会在 3 个工作日内到账。\n"}),
        )
        .await;
        assert_eq!(mine["scope"], "personal");
        assert_eq!(mine["content"], "退款会在 3 个工作日内到账。");
        assert!(mine["owner_id"].is_i64(), "{mine}");
        assert_eq!(
            listed(&app, None).await,
            pairs(&[("hello", "global"), ("退款", "personal")])
        );

        // `q` matches the shortcut or the content, ignoring case and a leading slash.
        for (q, want) in [
            ("HEL", vec!["hello"]),
            ("/退", vec!["退款"]),
            ("工作日", vec!["退款"]),
            ("nothing", vec![]),
        ] {
            let (s, b) = call(&app, None, Method::GET, &format!("{PATH}?q={q}"), None).await;
            assert_eq!(s, StatusCode::OK, "{b}");
            let got: Vec<&str> = b["items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r["shortcut"].as_str())
                .collect();
            assert_eq!(got, want, "q={q}");
        }

        let path = format!("{PATH}/{}", id(&hello));
        let (s, changed) = call(
            &app,
            None,
            Method::PATCH,
            &path,
            Some(json!({"shortcut": "hi", "content": "Hi {{contact.name}}"})),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{changed}");
        assert_eq!(
            (&changed["shortcut"], &changed["content"]),
            (&json!("hi"), &json!("Hi {{contact.name}}"))
        );
        let (s, one) = call(&app, None, Method::GET, &path, None).await;
        assert_eq!((s, &one["shortcut"]), (StatusCode::OK, &json!("hi")));

        let (s, _) = call(&app, None, Method::DELETE, &path, None).await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        assert_eq!(listed(&app, None).await, pairs(&[("退款", "personal")]));
        for method in [Method::GET, Method::DELETE] {
            let (s, b) = call(&app, None, method, &path, None).await;
            assert_eq!(
                (s, b["code"].as_str()),
                (StatusCode::NOT_FOUND, Some("not_found"))
            );
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn bad_canned_responses_are_refused_with_the_field_and_a_sentence() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let sales = team(&app, "Sales", &[]).await;
        create(
            &app,
            None,
            json!({"shortcut": "hello", "content": "Hi", "scope": "global"}),
        )
        .await;
        let cases = [
            (
                json!({"shortcut": "", "content": "x"}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
                "shortcut",
                "1 to 50",
            ),
            (
                json!({"shortcut": "two words", "content": "x"}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
                "shortcut",
                "no spaces",
            ),
            (
                json!({"shortcut": "x".repeat(51), "content": "x"}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
                "shortcut",
                "1 to 50",
            ),
            (
                json!({"shortcut": "ok", "content": "  "}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
                "content",
                "1 to 10000",
            ),
            (
                json!({"shortcut": "ok", "content": "Hi {{contact.nmae | there}}"}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_variable",
                "content",
                "{{contact.nmae}}",
            ),
            (
                json!({"shortcut": "ok", "content": "Hi {{contact.name"}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
                "content",
                "closing }}",
            ),
            (
                json!({"shortcut": "ok", "content": "x", "scope": "team"}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
                "team_id",
                "needs a team_id",
            ),
            (
                json!({"shortcut": "ok", "content": "x", "scope": "team", "team_id": 999_999}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
                "team_id",
                "no team",
            ),
            (
                json!({"shortcut": "ok", "content": "x", "team_id": sales}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
                "team_id",
                "only for",
            ),
            (
                json!({"shortcut": "Hello", "content": "x", "scope": "global"}),
                StatusCode::CONFLICT,
                "conflict",
                "shortcut",
                "/hello exists",
            ),
        ];
        for (body, status, code, field, words) in cases {
            let (s, b) = call(&app, None, Method::POST, PATH, Some(body.clone())).await;
            assert_eq!(
                (s, b["code"].as_str()),
                (status, Some(code)),
                "{body} → {b}"
            );
            assert_eq!(b["field"], field, "{body} → {b}");
            let detail = b["detail"].as_str().unwrap_or_default();
            assert!(detail.contains(words), "{body} → {detail}");
        }
        let (s, b) = call(
            &app,
            None,
            Method::POST,
            PATH,
            Some(json!({"shortcut": "ok", "content": "x", "scope": "everyone"})),
        )
        .await;
        assert!(s.is_client_error(), "an unknown scope is refused: {b}");
        assert_eq!(
            listed(&app, None).await,
            pairs(&[("hello", "global")]),
            "nothing else was stored"
        );

        // The same shortcut in another scope is fine; a change is checked like a creation.
        let mine = create(&app, None, json!({"shortcut": "hello", "content": "Hey"})).await;
        let (s, b) = call(
            &app,
            None,
            Method::PATCH,
            &format!("{PATH}/{}", id(&mine)),
            Some(json!({"content": "Hey {{agent.nick}}"})),
        )
        .await;
        assert_eq!(
            (s, b["code"].as_str(), b["field"].as_str()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                Some("unknown_variable"),
                Some("content")
            ),
            "{b}"
        );
        assert!(
            b["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("{{agent.nick}}"),
            "{b}"
        );
        let (s, b) = call(
            &app,
            None,
            Method::PATCH,
            &format!("{PATH}/{}", id(&mine)),
            Some(json!({"scope": "global"})),
        )
        .await;
        assert_eq!(
            (s, b["field"].as_str()),
            (StatusCode::CONFLICT, Some("shortcut")),
            "{b}"
        );
        let (_, one) = call(
            &app,
            None,
            Method::GET,
            &format!("{PATH}/{}", id(&mine)),
            None,
        )
        .await;
        assert_eq!(
            (&one["content"], &one["scope"]),
            (&json!("Hey"), &json!("personal")),
            "unchanged: {one}"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn scopes_decide_who_sees_and_manages_a_response() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let (sam, sam_t) = app.agent("sam@example.com", "supervisor", json!({})).await;
        let (_tia, tia_t) = app.agent("tia@example.com", "supervisor", json!({})).await;
        let (xavi, xavi_t) = app.agent("xavi@example.com", "agent", json!({})).await;
        let (yan, yan_t) = app.agent("yan@example.com", "agent", json!({})).await;
        let support = team(&app, "Support", &[sam, xavi]).await;
        let billing = team(&app, "Billing", &[yan]).await;
        let (sam_t, tia_t, xavi_t, yan_t) = (
            Some(sam_t.as_str()),
            Some(tia_t.as_str()),
            Some(xavi_t.as_str()),
            Some(yan_t.as_str()),
        );

        let hello = create(
            &app,
            None,
            json!({"shortcut": "hello", "content": "Hello!", "scope": "global"}),
        )
        .await;
        let refund = create(&app, sam_t, json!({"shortcut": "refund", "content": "Refunds take 3 days.", "scope": "team", "team_id": support})).await;
        let invoice = create(&app, None, json!({"shortcut": "invoice", "content": "Invoices are monthly.", "scope": "team", "team_id": billing})).await;
        let xavi_own = create(
            &app,
            xavi_t,
            json!({"shortcut": "mine", "content": "Xavi's", "scope": "personal"}),
        )
        .await;
        create(&app, yan_t, json!({"shortcut": "mine", "content": "Yan's"})).await;

        // Who may create where.
        let refusals = [
            (
                xavi_t,
                json!({"shortcut": "g", "content": "x", "scope": "global"}),
                "only admins",
            ),
            (
                sam_t,
                json!({"shortcut": "g", "content": "x", "scope": "global"}),
                "only admins",
            ),
            (
                xavi_t,
                json!({"shortcut": "t", "content": "x", "scope": "team", "team_id": support}),
                "supervisors of team",
            ),
            (
                tia_t,
                json!({"shortcut": "t", "content": "x", "scope": "team", "team_id": support}),
                "supervisors of team",
            ),
            (
                sam_t,
                json!({"shortcut": "t", "content": "x", "scope": "team", "team_id": billing}),
                "supervisors of team",
            ),
        ];
        for (token, body, words) in refusals {
            let (s, b) = call(&app, token, Method::POST, PATH, Some(body.clone())).await;
            assert_eq!(
                (s, b["code"].as_str()),
                (StatusCode::FORBIDDEN, Some("forbidden")),
                "{body} → {b}"
            );
            assert!(
                b["detail"].as_str().unwrap_or_default().contains(words),
                "{b}"
            );
        }

        // Each lists the global ones, their teams' and their own; admins every team's.
        let cases = [
            (
                xavi_t,
                vec![
                    ("hello", "global"),
                    ("mine", "personal"),
                    ("refund", "team"),
                ],
            ),
            (
                yan_t,
                vec![
                    ("hello", "global"),
                    ("invoice", "team"),
                    ("mine", "personal"),
                ],
            ),
            (sam_t, vec![("hello", "global"), ("refund", "team")]),
            (tia_t, vec![("hello", "global")]),
            (
                None,
                vec![("hello", "global"), ("invoice", "team"), ("refund", "team")],
            ),
        ];
        for (i, (token, want)) in cases.into_iter().enumerate() {
            assert_eq!(listed(&app, token).await, pairs(&want), "viewer {i}");
        }
        let (_, b) = call(&app, xavi_t, Method::GET, PATH, None).await;
        let editable: Vec<(&str, bool)> = b["items"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                (
                    r["shortcut"].as_str().unwrap_or_default(),
                    r["editable"].as_bool().unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(
            editable,
            [("hello", false), ("mine", true), ("refund", false)]
        );

        // Seen but not theirs to manage: 403; not seen: 404, as if it did not exist.
        let at = |v: &Value| format!("{PATH}/{}", id(v));
        let attempts = [
            (xavi_t, Method::PATCH, at(&refund), StatusCode::FORBIDDEN),
            (xavi_t, Method::DELETE, at(&hello), StatusCode::FORBIDDEN),
            (sam_t, Method::DELETE, at(&hello), StatusCode::FORBIDDEN),
            (yan_t, Method::PATCH, at(&refund), StatusCode::NOT_FOUND),
            (yan_t, Method::GET, at(&xavi_own), StatusCode::NOT_FOUND),
            (None, Method::DELETE, at(&xavi_own), StatusCode::NOT_FOUND),
            (tia_t, Method::GET, at(&invoice), StatusCode::NOT_FOUND),
        ];
        for (token, method, path, status) in attempts {
            let body = (method == Method::PATCH).then(|| json!({"content": "changed"}));
            let (s, b) = call(&app, token, method.clone(), &path, body).await;
            assert_eq!(s, status, "{method} {path} → {b}");
        }
        let (_, one) = call(&app, None, Method::GET, &at(&refund), None).await;
        assert_eq!(one["content"], "Refunds take 3 days.", "nothing changed");

        // The team's supervisor changes it, but cannot make it global; the admin can.
        let (s, b) = call(
            &app,
            sam_t,
            Method::PATCH,
            &at(&refund),
            Some(json!({"content": "Refunds take 2 days."})),
        )
        .await;
        assert_eq!(
            (s, &b["content"]),
            (StatusCode::OK, &json!("Refunds take 2 days.")),
            "{b}"
        );
        let (s, b) = call(
            &app,
            sam_t,
            Method::PATCH,
            &at(&refund),
            Some(json!({"scope": "global"})),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
        let (s, b) = call(
            &app,
            None,
            Method::PATCH,
            &at(&refund),
            Some(json!({"scope": "global"})),
        )
        .await;
        assert_eq!(
            (s, &b["scope"], &b["team_id"]),
            (StatusCode::OK, &json!("global"), &Value::Null),
            "{b}"
        );
        assert!(
            listed(&app, yan_t)
                .await
                .contains(&("refund".to_owned(), "global".to_owned()))
        );

        // An owner deletes their own; deleting a team deletes its responses.
        let (s, _) = call(&app, xavi_t, Method::DELETE, &at(&xavi_own), None).await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        assert_eq!(
            listed(&app, xavi_t).await,
            pairs(&[("hello", "global"), ("refund", "global")])
        );
        let (s, b) = app
            .admin(Method::DELETE, &format!("/api/v1/teams/{billing}"), None)
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT, "{b}");
        assert_eq!(
            listed(&app, None).await,
            pairs(&[("hello", "global"), ("refund", "global")])
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn placeholders_are_filled_for_a_conversation() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let inbox = app.loopback_inbox(json!({})).await;
        let mut named = msg("p-1", "cust-1", "Hello");
        named.name = Some("Alice".into());
        let (_, a) = app.inbound(inbox, &named).await;
        let alice = a["conversation_id"].as_i64().expect("conversation");
        let (_, b) = app.inbound(inbox, &msg("p-2", "cust-2", "Hi")).await;
        let nameless = b["conversation_id"].as_i64().expect("conversation");
        let (_, me) = app.admin(Method::GET, "/api/v1/profile", None).await;
        let agent = me["name"].as_str().unwrap_or_default().to_owned();
        assert!(!agent.is_empty(), "{me}");

        let hello = create(&app, None, json!({"shortcut": "hello",
            "content": "Hi {{ contact.name | there }}, I am {{agent.name}} (#{{conversation.id}}){{contact.email}}.",
            "scope": "global"})).await;
        let render = |conv: i64| json!({"conversation_id": conv});
        let path = format!("{PATH}/{}/render", id(&hello));
        let (s, r) = call(&app, None, Method::POST, &path, Some(render(alice))).await;
        assert_eq!(s, StatusCode::OK, "{r}");
        assert_eq!(r["text"], format!("Hi Alice, I am {agent} (#{alice})."));
        let (s, r) = call(&app, None, Method::POST, &path, Some(render(nameless))).await;
        assert_eq!(s, StatusCode::OK, "{r}");
        assert_eq!(r["text"], format!("Hi there, I am {agent} (#{nameless})."));

        // A reply posted with the response's id is the response filled in; it is the whole
        // text, and it must be one the agent sees.
        let messages = format!("/api/v1/conversations/{alice}/messages");
        let (s, m) = call(
            &app,
            None,
            Method::POST,
            &messages,
            Some(json!({"canned_response_id": id(&hello), "client_id": "c-1"})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{m}");
        assert_eq!(
            m["content"]["text"],
            format!("Hi Alice, I am {agent} (#{alice}).")
        );
        let (s, b) = call(
            &app,
            None,
            Method::POST,
            &messages,
            Some(json!({"canned_response_id": id(&hello), "text": "Hello"})),
        )
        .await;
        assert_eq!(
            (s, b["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("text")),
            "{b}"
        );
        let (s, b) = call(
            &app,
            None,
            Method::POST,
            &messages,
            Some(json!({"canned_response_id": 999_999})),
        )
        .await;
        assert_eq!(
            (s, b["field"].as_str()),
            (StatusCode::NOT_FOUND, Some("canned_response_id")),
            "{b}"
        );
        let texts: Vec<Value> = app
            .messages(alice)
            .await
            .into_iter()
            .filter(|m| m["direction"] == "outbound")
            .map(|m| m["content"]["text"].clone())
            .collect();
        assert_eq!(
            texts,
            [json!(format!("Hi Alice, I am {agent} (#{alice})."))],
            "one reply was stored"
        );

        // An agent outside the inbox sees the response but not the conversation; another's
        // personal response is not there at all.
        let (_, ann_t) = app.agent("ann@example.com", "agent", json!({})).await;
        let (s, r) = call(&app, Some(&ann_t), Method::POST, &path, Some(render(alice))).await;
        assert_eq!(
            (s, r["field"].as_str()),
            (StatusCode::NOT_FOUND, Some("conversation_id")),
            "{r}"
        );
        let mine = create(
            &app,
            None,
            json!({"shortcut": "sig", "content": "{{agent.email}}"}),
        )
        .await;
        let (s, r) = call(
            &app,
            None,
            Method::POST,
            &format!("{PATH}/{}/render", id(&mine)),
            Some(render(alice)),
        )
        .await;
        assert_eq!(
            (s, &r["text"]),
            (StatusCode::OK, &json!("admin@example.com")),
            "{r}"
        );
        let (s, _) = call(
            &app,
            Some(&ann_t),
            Method::POST,
            &format!("{PATH}/{}/render", id(&mine)),
            Some(render(alice)),
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        app.stop().await;
    }
}

#[tokio::test]
async fn the_canned_response_endpoints_are_in_the_openapi_document() {
    let app = TestApp::spawn(&backends()[0]).await;
    let (s, doc) = app
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    assert_eq!(s, StatusCode::OK);
    for (path, methods) in [
        ("/api/v1/canned-responses", &["get", "post"][..]),
        (
            "/api/v1/canned-responses/{id}",
            &["get", "patch", "delete"][..],
        ),
        ("/api/v1/canned-responses/{id}/render", &["post"][..]),
    ] {
        for m in methods {
            assert!(
                doc["paths"][path][m].is_object(),
                "{m} {path} is documented"
            );
        }
    }
    app.stop().await;
}

/// Uploads a small text file as `token`; returns its id.
async fn upload(app: &TestApp, token: &str, name: &str) -> i64 {
    let part = multipart::Part::bytes(format!("contents of {name}").into_bytes())
        .file_name(name.to_owned())
        .mime_str("text/plain")
        .expect("mime");
    let resp = app
        .client
        .post(format!("{}/api/v1/attachments", app.base))
        .bearer_auth(token)
        .multipart(multipart::Form::new().part("file", part))
        .send()
        .await
        .expect("upload request");
    assert_eq!(resp.status(), StatusCode::CREATED);
    let body: Value = resp.json().await.expect("JSON");
    body["id"].as_i64().expect("file id")
}

fn file_names(v: &Value) -> Vec<String> {
    v["attachments"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|f| f["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn files_go_out_with_a_canned_response_to_whoever_sees_it() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let inbox = app.loopback_inbox(json!({})).await;
        let (_, c) = app.inbound(inbox, &msg("f-1", "cust-1", "Prices?")).await;
        let conv = c["conversation_id"].as_i64().expect("conversation");
        let (bob, bob_token) = app.agent("bob@example.com", "agent", json!({})).await;
        app.join(inbox, bob).await;
        let (_, carol_token) = app.agent("carol@example.com", "agent", json!({})).await;

        let prices = upload(&app, &app.admin_token, "prices.txt").await;
        let terms = upload(&app, &app.admin_token, "terms.txt").await;
        let bobs = upload(&app, &bob_token, "bob.txt").await;
        let global = create(
            &app,
            None,
            json!({"shortcut": "prices", "content": "Our prices are attached.",
            "scope": "global", "attachment_ids": [prices, terms]}),
        )
        .await;
        assert_eq!(file_names(&global), ["prices.txt", "terms.txt"]);

        // Everyone who sees the response sees its files, in order, when listing and rendering.
        let (s, list) = call(&app, Some(&bob_token), Method::GET, PATH, None).await;
        assert_eq!(s, StatusCode::OK, "{list}");
        assert_eq!(file_names(&list["items"][0]), ["prices.txt", "terms.txt"]);
        let render = format!("{PATH}/{}/render", id(&global));
        let (s, r) = call(
            &app,
            Some(&bob_token),
            Method::POST,
            &render,
            Some(json!({"conversation_id": conv})),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{r}");
        assert_eq!(file_names(&r), ["prices.txt", "terms.txt"]);

        // Bob's reply with the response carries its files after his own; one naming them
        // (what the composer sends) may too, though the admin uploaded them.
        let messages = format!("/api/v1/conversations/{conv}/messages");
        let (s, m) = call(&app, Some(&bob_token), Method::POST, &messages,
            Some(json!({"canned_response_id": id(&global), "attachments": [bobs], "client_id": "b-1"}))).await;
        assert_eq!(s, StatusCode::CREATED, "{m}");
        assert_eq!(m["content"]["text"], "Our prices are attached.");
        let sent: Vec<&str> = m["content"]["attachments"]
            .as_array()
            .expect("attachments")
            .iter()
            .filter_map(|a| a["name"].as_str())
            .collect();
        assert_eq!(sent, ["bob.txt", "prices.txt", "terms.txt"]);
        let (s, m) = call(
            &app,
            Some(&bob_token),
            Method::POST,
            &messages,
            Some(json!({"text": "Again", "attachments": [terms], "client_id": "b-2"})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{m}");

        // A personal response's file stays its owner's: Bob may not send it.
        let secret = upload(&app, &app.admin_token, "secret.txt").await;
        let mine = create(
            &app,
            None,
            json!({"shortcut": "mine", "content": "Mine",
            "attachment_ids": [secret]}),
        )
        .await;
        let (s, e) = call(
            &app,
            Some(&bob_token),
            Method::POST,
            &messages,
            Some(json!({"text": "Leak", "attachments": [secret], "client_id": "b-3"})),
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{e}");

        // Saving another agent's upload is refused, naming the field; so are too many files
        // and a file listed twice. Carol cannot use Bob's upload for her own response.
        for body in [
            json!({"shortcut": "x", "content": "x", "attachment_ids": [bobs]}),
            json!({"shortcut": "x", "content": "x", "attachment_ids": [prices, prices]}),
            json!({"shortcut": "x", "content": "x", "attachment_ids": (1..=11).collect::<Vec<i64>>()}),
        ] {
            let (s, e) = call(&app, None, Method::POST, PATH, Some(body.clone())).await;
            assert_eq!(
                (s, e["field"].as_str()),
                (StatusCode::UNPROCESSABLE_ENTITY, Some("attachment_ids")),
                "{body}: {e}"
            );
        }
        let (s, e) = call(
            &app,
            Some(&carol_token),
            Method::POST,
            PATH,
            Some(json!({"shortcut": "c", "content": "c", "attachment_ids": [bobs]})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");

        // An edit keeps files it already sends, drops the others, and `[]` sends none.
        let path = format!("{PATH}/{}", id(&global));
        let (s, g) = call(
            &app,
            None,
            Method::PATCH,
            &path,
            Some(json!({"attachment_ids": [terms]})),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{g}");
        assert_eq!(file_names(&g), ["terms.txt"]);
        let (s, g) = call(
            &app,
            None,
            Method::PATCH,
            &path,
            Some(json!({"content": "No files"})),
        )
        .await;
        assert_eq!(
            (s, file_names(&g)),
            (StatusCode::OK, vec!["terms.txt".to_owned()]),
            "{g}"
        );
        let (s, g) = call(
            &app,
            None,
            Method::PATCH,
            &path,
            Some(json!({"attachment_ids": []})),
        )
        .await;
        assert_eq!(
            (s, file_names(&g)),
            (StatusCode::OK, Vec::<String>::new()),
            "{g}"
        );
        // Deleting a response leaves the files its replies sent.
        let (s, _) = call(
            &app,
            None,
            Method::DELETE,
            &format!("{PATH}/{}", id(&mine)),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        app.stop().await;
    }
}
