//! Every error under `/api/v1`, `/channels` and `/files` is `{code, detail}` JSON, whatever
//! produced it (a handler, axum's routing, a body limit, a channel's own refusal); the OpenAPI
//! document declares every path parameter it uses.

use std::collections::BTreeSet;

use kefu_tests::{LOOPBACK_SECRET, TestApp, backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Sends `req`, asserts `status` and a `{code, detail}` body with `code`; returns the response
/// headers and the detail.
async fn expect_error(
    case: &str,
    req: reqwest::RequestBuilder,
    status: StatusCode,
    code: &str,
) -> (reqwest::header::HeaderMap, String) {
    let resp = req.send().await.expect("request");
    assert_eq!(resp.status(), status, "{case}");
    let headers = resp.headers().clone();
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = resp.text().await.unwrap_or_default();
    assert!(
        ct.starts_with("application/json"),
        "{case}: content-type {ct:?}, body {text:?}"
    );
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    assert_eq!(body["code"].as_str(), Some(code), "{case}: {text}");
    let detail = body["detail"].as_str().unwrap_or_default().to_owned();
    assert!(!detail.is_empty(), "{case}: no detail in {text}");
    (headers, detail)
}

#[tokio::test]
async fn errors_from_routing_limits_and_channels_are_code_and_detail() {
    let app = TestApp::spawn_with(&backends()[0], |c| c.max_body_bytes = 64 * 1024).await;
    let inbox = app.loopback_inbox(json!({})).await;
    let base = &app.base;

    let (headers, detail) = expect_error(
        "405 on the login",
        app.client.delete(format!("{base}/api/v1/auth/login")),
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    )
    .await;
    assert!(headers.get("allow").is_some(), "the Allow header is kept");
    assert!(detail.contains("DELETE"), "{detail}");

    expect_error(
        "405 on a channel route",
        app.client
            .get(format!("{base}/channels/loopback/{inbox}/messages")),
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    )
    .await;

    for path in ["/api/v1/no-such-thing", "/channels/nope", "/files/1"] {
        expect_error(
            path,
            app.client.get(format!("{base}{path}")),
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }

    let (_, detail) = expect_error(
        "a channel's plain-text refusal",
        app.client
            .post(format!("{base}/channels/loopback/{inbox}/messages"))
            .header("x-loopback-secret", "wrong")
            .json(&json!({"id": "1", "sender": "u", "text": "x"})),
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    assert!(
        detail.contains("x-loopback-secret"),
        "the channel's words are kept: {detail}"
    );

    expect_error(
        "413 at a channel's JSON body",
        app.client
            .post(format!("{base}/channels/loopback/{inbox}/messages"))
            .header("x-loopback-secret", LOOPBACK_SECRET)
            .header("content-type", "application/json")
            .body(format!(
                "{{\"id\":\"1\",\"sender\":\"u\",\"text\":\"{}\"}}",
                "x".repeat(100 * 1024)
            )),
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    )
    .await;

    expect_error(
        "malformed JSON at a channel",
        app.client
            .post(format!("{base}/channels/loopback/{inbox}/messages"))
            .header("x-loopback-secret", LOOPBACK_SECRET)
            .header("content-type", "application/json")
            .body("{\"id\":"),
        StatusCode::BAD_REQUEST,
        "bad_request",
    )
    .await;

    expect_error(
        "413 at an upload",
        app.client
            .post(format!("{base}/api/v1/attachments"))
            .bearer_auth(&app.admin_token)
            .header("content-type", "multipart/form-data; boundary=x")
            .body(vec![b'a'; 26 * 1024 * 1024 + 128 * 1024]),
        StatusCode::PAYLOAD_TOO_LARGE,
        "file_too_large",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn a_refused_private_webhook_target_names_the_setting() {
    let app = TestApp::spawn_with(&backends()[0], |c| {
        c.webhooks.allow_private_targets = false;
    })
    .await;
    let (status, body) = app
        .admin(
            Method::POST,
            "/api/v1/webhooks",
            Some(json!({"url": "http://127.0.0.1:9/hook", "events": ["*"]})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let detail = body["detail"].as_str().unwrap_or_default();
    for name in [
        "webhooks.allow_private_targets",
        "KEFU_WEBHOOKS__ALLOW_PRIVATE_TARGETS",
    ] {
        assert!(detail.contains(name), "{detail:?} does not name {name}");
    }
    app.stop().await;
}

#[tokio::test]
async fn openapi_declares_every_path_parameter() {
    let app = TestApp::spawn(&backends()[0]).await;
    let (status, doc) = app
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let paths = doc["paths"].as_object().expect("paths");
    let mut missing = Vec::new();
    let mut checked = 0;
    for (path, item) in paths {
        let wanted: BTreeSet<&str> = path
            .split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
            .collect();
        let on_item = declared(&item["parameters"]);
        for (method, op) in item.as_object().expect("path item") {
            if ![
                "get", "put", "post", "delete", "patch", "head", "options", "trace",
            ]
            .contains(&method.as_str())
            {
                continue;
            }
            checked += 1;
            let have: BTreeSet<&str> = declared(&op["parameters"])
                .union(&on_item)
                .copied()
                .collect();
            for name in &wanted {
                if !have.contains(name) {
                    missing.push(format!("{method} {path}: {{{name}}}"));
                }
            }
        }
    }
    assert!(checked > 30, "only {checked} operations in the document");
    assert!(
        missing.is_empty(),
        "undeclared path parameters:\n{}",
        missing.join("\n")
    );
    app.stop().await;
}

/// The names of the `in: path` parameters in a `parameters` list.
fn declared(params: &Value) -> BTreeSet<&str> {
    params
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["in"] == "path")
        .filter_map(|p| p["name"].as_str())
        .collect()
}
