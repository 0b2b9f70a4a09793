//! The knowledge base as CSV, on every backend: the export is RFC 4180 with a byte order mark
//! and a header row; an import with any bad row answers 400 `invalid_import` naming every bad
//! cell and stores nothing; a good one adds and replaces entries in one go, and suggestions
//! use them at once; supervisors only; a file over the limit is refused.

mod routing_support;

use kefu_tests::{TestApp, backends};
use reqwest::{Method, StatusCode};
use routing_support::write_in;
use serde_json::{Value, json};

async fn add(app: &TestApp, body: Value) -> i64 {
    let (s, b) = app
        .admin(Method::POST, "/api/v1/knowledge", Some(body))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    b["id"].as_i64().expect("id")
}

/// `GET /api/v1/knowledge/export` as `token`: status, content type and body.
async fn export(app: &TestApp, token: &str) -> (StatusCode, String, String) {
    let res = app
        .client
        .get(format!("{}/api/v1/knowledge/export", app.base))
        .bearer_auth(token)
        .send()
        .await
        .expect("export");
    let status = res.status();
    let kind = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, kind, res.text().await.expect("body"))
}

/// `POST /api/v1/knowledge/import` with `body` as `token`.
async fn import(app: &TestApp, token: &str, body: impl Into<reqwest::Body>) -> (StatusCode, Value) {
    let res = app
        .client
        .post(format!("{}/api/v1/knowledge/import", app.base))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .expect("import");
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn entries(app: &TestApp) -> Vec<Value> {
    let (s, b) = app
        .admin(Method::GET, "/api/v1/knowledge?limit=200", None)
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    b["items"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn the_knowledge_base_goes_out_and_comes_back_as_csv() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let token = app.admin_token.clone();
        let shipping = add(&app, json!({"question": "运费是多少钱", "alternatives": ["邮费怎么算", "运费, 多少"], "answer": "满 99 元包邮，\n不满收 10 元。", "locale": "zh-CN", "tags": ["物流", "fees"]})).await;
        let returns = add(&app, json!({"question": "How do I return an item?", "answer": "Say \"return\" on the order page.", "enabled": false})).await;

        let (s, kind, text) = export(&app, &token).await;
        assert_eq!(s, StatusCode::OK, "{text}");
        assert_eq!(kind, "text/csv; charset=utf-8");
        assert_eq!(
            text,
            format!(
                "\u{feff}id,question,alternatives,answer,tags,locale,enabled\r\n\
                 {shipping},运费是多少钱,\"邮费怎么算\n运费, 多少\",\"满 99 元包邮，\n不满收 10 元。\",\"物流\nfees\",zh-CN,true\r\n\
                 {returns},How do I return an item?,,\"Say \"\"return\"\" on the order page.\",,,false\r\n"
            )
        );

        // The export imports back unchanged (every row replaces itself).
        let (s, b) = import(&app, &token, text.clone()).await;
        assert_eq!(
            (s, &b),
            (StatusCode::OK, &json!({"created": 0, "updated": 2})),
            "{b}"
        );
        assert_eq!(export(&app, &token).await.2, text);

        // One bad cell anywhere: nothing is stored, and every bad cell is named.
        let bad = format!(
            "id,question,answer,enabled\n\
             {shipping},改过的问题,改过的答案,true\n\
             ,发票怎么开,,\n\
             999999,Q,A,maybe\n\
             ,Invoices?,Ask us.,\n"
        );
        let (s, b) = import(&app, &token, bad).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
        assert_eq!(b["code"], "invalid_import", "{b}");
        let cells: Vec<(i64, String)> = b["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|e| {
                (
                    e["row"].as_i64().unwrap_or(0),
                    e["field"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect();
        assert_eq!(
            cells,
            [(3, "answer".to_owned()), (4, "enabled".to_owned())],
            "{b}"
        );
        assert!(
            b["errors"][0]["reason"]
                .as_str()
                .is_some_and(|r| !r.is_empty()),
            "{b}"
        );
        // An id that names no entry is caught too, after the cells are fine.
        let (s, b) = import(&app, &token, "id,question,answer\n999999,Q,A\n,New,Entry\n").await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
        assert_eq!(
            (
                &b["errors"][0]["row"],
                &b["errors"][0]["field"],
                b["errors"].as_array().map(Vec::len)
            ),
            (&json!(2), &json!("id"), Some(1)),
            "{b}"
        );
        assert_eq!(export(&app, &token).await.2, text, "nothing changed");

        // A good file replaces by id and adds the rest; suggestions use it at once.
        let good = format!(
            "question,id,answer,alternatives\r\n\
             发票怎么开,,在订单页申请电子发票。,\"开发票\r\n要发票\"\r\n\
             运费是多少钱,{shipping},全场包邮。,\r\n"
        );
        let (s, b) = import(&app, &token, good).await;
        assert_eq!(
            (s, &b),
            (StatusCode::OK, &json!({"created": 1, "updated": 1})),
            "{b}"
        );
        let all = entries(&app).await;
        assert_eq!(all.len(), 3, "{all:?}");
        assert_eq!(
            (
                &all[0]["answer"],
                &all[0]["alternatives"],
                &all[0]["tags"],
                &all[0]["enabled"]
            ),
            (&json!("全场包邮。"), &json!([]), &json!([]), &json!(true))
        );
        let invoice = &all[2];
        assert_eq!(
            invoice["alternatives"],
            json!(["开发票", "要发票"]),
            "{invoice}"
        );
        let inbox = app.loopback_inbox(json!({})).await;
        let (s, b) = app
            .admin(
                Method::PUT,
                &format!("/api/v1/inboxes/{inbox}/bot"),
                Some(json!({"mode": "suggest"})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let conv = write_in(&app, inbox, "m1", "u1", "发票怎么开").await;
        let (s, b) = app
            .admin(
                Method::GET,
                &format!("/api/v1/conversations/{conv}/suggestions"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(b["items"][0]["knowledge_id"], invoice["id"], "{b}");
        app.stop().await;
    }
}

#[tokio::test]
async fn only_supervisors_export_and_import_and_files_are_bounded() {
    for backend in backends() {
        // Imports may be four times the body limit: 64 KiB here.
        let app = TestApp::spawn_with(&backend, |c| c.max_body_bytes = 16 * 1024).await;
        let (_, agent) = app.agent("agent@x.io", "agent", json!({})).await;
        assert_eq!(export(&app, &agent).await.0, StatusCode::FORBIDDEN);
        let (s, b) = import(&app, &agent, "question,answer\nQ,A\n").await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{b}");

        let token = app.admin_token.clone();
        let mut big = String::from("question,answer\n");
        while big.len() <= 64 * 1024 {
            big.push_str("How much is shipping to the moon and back?,It depends on the rocket.\n");
        }
        let (s, b) = import(&app, &token, big.clone()).await;
        assert_eq!(
            (s, &b["code"]),
            (StatusCode::PAYLOAD_TOO_LARGE, &json!("payload_too_large")),
            "{b}"
        );
        // Just under the limit is taken.
        big.truncate(60 * 1024);
        big.truncate(big.rfind('\n').expect("lines") + 1);
        let (s, b) = import(&app, &token, big).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert!(b["created"].as_u64().is_some_and(|n| n > 800), "{b}");
        let (s, b) = import(&app, &token, "").await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
        assert_eq!(b["errors"][0]["field"], "file", "{b}");
        app.stop().await;
    }
}
