//! The knowledge base and agents' suggestions, on every backend: entries are checked on the
//! way in with errors naming the field, edited and deleted by supervisors only, and kept in
//! step with the search index; suggestions rank the entry a customer's latest message asks
//! about first, in Chinese and English, for those who may read the conversation.

mod routing_support;

use kefu_tests::{TestApp, backends};
use reqwest::{Method, StatusCode};
use routing_support::write_in;
use serde_json::{Value, json};

/// Adds an entry as the admin; returns its id.
async fn add(app: &TestApp, body: Value) -> i64 {
    let (s, b) = app
        .admin(Method::POST, "/api/v1/knowledge", Some(body))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    b["id"].as_i64().expect("id")
}

/// The FAQ the tests ask about: shipping, returns (Chinese), and the same in English.
pub async fn faq(app: &TestApp) -> [i64; 4] {
    [
        add(app, json!({"question": "运费是多少钱", "alternatives": ["邮费怎么算"], "answer": "满 99 元包邮，不满收 10 元运费。", "locale": "zh-CN", "tags": ["物流"]})).await,
        add(app, json!({"question": "退货流程是什么", "alternatives": ["怎么退货"], "answer": "在订单页点“申请退货”，寄回后 3 天内退款。", "locale": "zh-CN"})).await,
        add(app, json!({"question": "How much is shipping?", "alternatives": ["shipping cost"], "answer": "Shipping is free over $50.", "locale": "en"})).await,
        add(app, json!({"question": "How do I return an item?", "alternatives": ["return policy"], "answer": "Returns are accepted within 30 days.", "locale": "en"})).await,
    ]
}

async fn suggestions(app: &TestApp, conv: i64, token: Option<&str>) -> (StatusCode, Value) {
    let path = format!("/api/v1/conversations/{conv}/suggestions");
    match token {
        Some(t) => app.call(Method::GET, &path, Some(t), None).await,
        None => app.admin(Method::GET, &path, None).await,
    }
}

async fn set_mode(app: &TestApp, inbox: i64, mode: &str) {
    let (s, b) = app
        .admin(
            Method::PUT,
            &format!("/api/v1/inboxes/{inbox}/bot"),
            Some(json!({"mode": mode})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["mode"], mode);
}

#[tokio::test]
async fn entries_are_checked_edited_and_deleted() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let id = add(
            &app,
            json!({"question": "  运费是多少钱 ", "alternatives": ["运费多少", "", "运费多少"], "answer": "满 99 元包邮。", "tags": ["物流", "物流"]}),
        )
        .await;
        let (s, e) = app
            .admin(Method::GET, &format!("/api/v1/knowledge/{id}"), None)
            .await;
        assert_eq!(s, StatusCode::OK, "{e}");
        assert_eq!(e["question"], "运费是多少钱");
        assert_eq!(e["alternatives"], json!(["运费多少"]));
        assert_eq!(e["tags"], json!(["物流"]));
        assert_eq!(
            (e["enabled"].as_bool(), &e["locale"]),
            (Some(true), &Value::Null)
        );

        // Bad input: the field is named.
        for (body, field) in [
            (json!({"question": " ", "answer": "a"}), "question"),
            (json!({"question": "q", "answer": ""}), "answer"),
            (
                json!({"question": "q", "answer": "a", "locale": "zh CN"}),
                "locale",
            ),
            (
                json!({"question": "q".repeat(501), "answer": "a"}),
                "question",
            ),
        ] {
            let (s, b) = app
                .admin(Method::POST, "/api/v1/knowledge", Some(body))
                .await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
            assert_eq!(
                (b["code"].as_str(), b["field"].as_str()),
                (Some("invalid_request"), Some(field)),
                "{b}"
            );
        }
        let (s, b) = app
            .admin(
                Method::POST,
                "/api/v1/knowledge",
                Some(json!({"question": "q", "answer": "a", "colour": 1})),
            )
            .await;
        assert!(s.is_client_error(), "{s} {b}");
        assert!(b["code"].is_string(), "{b}");

        // Agents read; only supervisors write.
        let (_, agent) = app.agent("agent@x.io", "agent", json!({})).await;
        let (s, list) = app
            .call(Method::GET, "/api/v1/knowledge", Some(&agent), None)
            .await;
        assert_eq!(s, StatusCode::OK, "{list}");
        assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
        let (s, b) = app
            .call(
                Method::POST,
                "/api/v1/knowledge",
                Some(&agent),
                Some(json!({"question": "q", "answer": "a"})),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{b}");

        // An edit replaces the entry, and the index follows it.
        let inbox = app.loopback_inbox(json!({})).await;
        set_mode(&app, inbox, "suggest").await;
        let conv = write_in(&app, inbox, "m1", "u1", "发票怎么开").await;
        let (_, before) = suggestions(&app, conv, None).await;
        assert_eq!(before["items"], json!([]), "{before}");
        let (s, e) = app
            .admin(
                Method::PUT,
                &format!("/api/v1/knowledge/{id}"),
                Some(json!({"question": "发票怎么开", "answer": "在订单页申请电子发票。"})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{e}");
        assert_eq!(e["alternatives"], json!([]));
        let (_, after) = suggestions(&app, conv, None).await;
        assert_eq!(after["items"][0]["knowledge_id"], id, "{after}");
        assert_eq!(after["items"][0]["answer"], "在订单页申请电子发票。");
        assert_eq!(after["items"][0]["score"], 1.0);

        let (s, _) = app
            .admin(Method::DELETE, &format!("/api/v1/knowledge/{id}"), None)
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        let (_, gone) = suggestions(&app, conv, None).await;
        assert_eq!(gone["items"], json!([]), "{gone}");
        for m in [Method::GET, Method::DELETE] {
            let (s, b) = app.admin(m, &format!("/api/v1/knowledge/{id}"), None).await;
            assert_eq!(
                (s, b["code"].as_str()),
                (StatusCode::NOT_FOUND, Some("not_found")),
                "{b}"
            );
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn suggestions_rank_the_asked_entry_first() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let [shipping, returns, shipping_en, returns_en] = faq(&app).await;
        let inbox = app.loopback_inbox(json!({})).await;

        // Off: no suggestions.
        let conv = write_in(&app, inbox, "m1", "u1", "运费多少").await;
        let (s, b) = suggestions(&app, conv, None).await;
        assert_eq!((s, &b["items"]), (StatusCode::OK, &json!([])), "{b}");

        set_mode(&app, inbox, "suggest").await;
        let (_, b) = suggestions(&app, conv, None).await;
        let items = b["items"].as_array().cloned().unwrap_or_default();
        assert_eq!(items[0]["knowledge_id"], shipping, "{b}");
        assert_eq!(items[0]["answer"], "满 99 元包邮，不满收 10 元运费。");
        assert_eq!(items[0]["score"].as_f64(), Some(0.786), "{b}");
        assert!(items.len() <= 3);

        // The latest customer message counts.
        write_in(&app, inbox, "m2", "u1", "退货流程").await;
        let (_, b) = suggestions(&app, conv, None).await;
        assert_eq!(b["items"][0]["knowledge_id"], returns, "{b}");

        let en = write_in(&app, inbox, "m3", "u2", "What does shipping cost?").await;
        let (_, b) = suggestions(&app, en, None).await;
        assert_eq!(b["items"][0]["knowledge_id"], shipping_en, "{b}");
        write_in(&app, inbox, "m4", "u2", "I want to return an item").await;
        let (_, b) = suggestions(&app, en, None).await;
        assert_eq!(b["items"][0]["knowledge_id"], returns_en, "{b}");

        // Access as for the conversation itself: an agent outside the inbox sees nothing.
        let other = app.loopback_inbox(json!({})).await;
        let (agent_id, agent) = app.agent("agent@x.io", "agent", json!({})).await;
        app.join(other, agent_id).await;
        let (s, b) = suggestions(&app, conv, Some(&agent)).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
        let (s, b) = suggestions(&app, 999_999, None).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
        app.stop().await;
    }
}

/// Uploads a small text file as `token`; returns its id.
async fn upload(app: &TestApp, token: &str, name: &str) -> i64 {
    let part = reqwest::multipart::Part::bytes(format!("contents of {name}").into_bytes())
        .file_name(name.to_owned())
        .mime_str("text/plain")
        .expect("mime");
    let resp = app
        .client
        .post(format!("{}/api/v1/attachments", app.base))
        .bearer_auth(token)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .expect("upload request");
    assert_eq!(resp.status(), StatusCode::CREATED);
    let body: Value = resp.json().await.expect("JSON");
    body["id"].as_i64().expect("file id")
}

fn names(files: &Value) -> Vec<&str> {
    files
        .as_array()
        .map(|a| a.iter().filter_map(|f| f["name"].as_str()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn an_answers_files_go_out_with_the_bot_and_with_the_suggestion() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let admin = app.admin_token.clone();
        let chart = upload(&app, &admin, "size-chart.txt").await;
        let form = upload(&app, &admin, "returns-form.txt").await;
        let body = |files: Value| json!({"question": "尺码怎么选", "alternatives": ["尺码表"], "answer": "请看附件里的尺码表。", "attachment_ids": files});
        let (s, b) = app
            .admin(
                Method::POST,
                "/api/v1/knowledge",
                Some(body(json!([chart]))),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        assert_eq!(names(&b["attachments"]), ["size-chart.txt"], "{b}");
        assert!(
            b["attachments"][0]["url"]
                .as_str()
                .is_some_and(|u| u.starts_with(&format!("/files/{chart}/"))),
            "{b}"
        );
        let entry = b["id"].as_i64().expect("id");
        let path = format!("/api/v1/knowledge/{entry}");

        // Someone else's upload, or a file listed twice, is refused on `attachment_ids`.
        // Bob, a supervisor, did not upload the entry's files.
        let (bob, bob_token) = app.agent("bob@example.com", "supervisor", json!({})).await;
        let bobs = upload(&app, &bob_token, "bob.txt").await;
        for files in [json!([chart, bobs]), json!([chart, chart])] {
            let (s, b) = app.admin(Method::PUT, &path, Some(body(files))).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
            assert_eq!(b["field"], "attachment_ids", "{b}");
        }
        // An edit without `attachment_ids` keeps the files; with them, they are replaced in order.
        let mut plain = body(json!([]));
        plain.as_object_mut().map(|o| o.remove("attachment_ids"));
        let (s, b) = app.admin(Method::PUT, &path, Some(plain)).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(names(&b["attachments"]), ["size-chart.txt"], "{b}");
        let (s, b) = app
            .admin(Method::PUT, &path, Some(body(json!([form, chart]))))
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let both = ["returns-form.txt", "size-chart.txt"];
        assert_eq!(names(&b["attachments"]), both, "{b}");
        let (_, list) = app.admin(Method::GET, "/api/v1/knowledge", None).await;
        assert_eq!(names(&list["items"][0]["attachments"]), both, "{list}");

        // The bot answers with the entry's files.
        let inbox = app.loopback_inbox(json!({})).await;
        app.join(inbox, bob).await;
        let (s, b) = app
            .admin(
                Method::PUT,
                &format!("/api/v1/inboxes/{inbox}/bot"),
                Some(json!({"mode": "auto"})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let conv = write_in(&app, inbox, "m1", "u1", "尺码表").await;
        let answer = kefu_tests::eventually(std::time::Duration::from_secs(10), || async {
            app.messages(conv)
                .await
                .into_iter()
                .find(|m| m["sender"]["type"] == "bot")
        })
        .await
        .expect("the bot answers");
        assert_eq!(
            answer["content"]["text"], "请看附件里的尺码表。",
            "{answer}"
        );
        assert_eq!(names(&answer["content"]["attachments"]), both, "{answer}");

        // Agents get the files with the suggestion, and any agent may send them.
        let (s, b) = app
            .call(
                Method::GET,
                &format!("/api/v1/conversations/{conv}/suggestions"),
                Some(&bob_token),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(b["items"][0]["knowledge_id"], entry, "{b}");
        assert_eq!(names(&b["items"][0]["attachments"]), both, "{b}");
        let (s, b) = app
            .call(
                Method::POST,
                &format!("/api/v1/conversations/{conv}/messages"),
                Some(&bob_token),
                Some(json!({"text": "尺码表见附件", "attachments": [chart]})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        assert_eq!(
            names(&b["content"]["attachments"]),
            ["size-chart.txt"],
            "{b}"
        );
        app.stop().await;
    }
}
