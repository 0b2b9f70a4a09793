//! Malformed, oversized and odd input: clear `{code, detail}` errors or clean storage, never a
//! panic, never a half-stored message.

use kefu_tests::{TestApp, backends, msg};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn malformed_requests_get_clear_errors() {
    let app = TestApp::spawn_with(&backends()[0], |c| c.max_body_bytes = 64 * 1024).await;
    let url = format!("{}/api/v1/agents", app.base);
    let cases: Vec<(reqwest::RequestBuilder, StatusCode, &str)> = vec![
        (
            app.client
                .post(&url)
                .bearer_auth(&app.admin_token)
                .header("content-type", "application/json")
                .body("{\"email\":"),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            app.client
                .post(&url)
                .bearer_auth(&app.admin_token)
                .body("email=x"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            app.client
                .post(&url)
                .bearer_auth(&app.admin_token)
                .header("content-type", "application/json")
                .body(vec![b'"'; 70 * 1024]),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        (
            app.client
                .post(&url)
                .bearer_auth(&app.admin_token)
                .header("content-type", "application/json")
                .body(b"{\"email\":\"\xff\xfe\"}".to_vec()),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            app.client
                .get(format!("{}/api/v1/conversations/999999", app.base))
                .bearer_auth(&app.admin_token),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            app.client
                .get(format!("{}/api/v1/conversations/abc", app.base))
                .bearer_auth(&app.admin_token),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            app.client.get(format!("{}/api/v1/nothing-here", app.base)),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            app.client
                .post(format!("{}/api/v1/conversations/999999/resolve", app.base))
                .bearer_auth(&app.admin_token),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
    ];
    for (i, (req, status, code)) in cases.into_iter().enumerate() {
        let resp = req.send().await.expect("request");
        assert_eq!(resp.status(), status, "case {i}");
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        assert_eq!(body["code"].as_str(), Some(code), "case {i}: {body}");
        assert!(
            !body["detail"].as_str().unwrap_or_default().is_empty(),
            "case {i}: detail says what was wrong"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn odd_inbound_content_is_stored_cleanly_or_refused() {
    for backend in backends() {
        let app = TestApp::spawn_with(&backend, |c| c.max_text_bytes = 4096).await;
        let inbox = app.loopback_inbox(json!({})).await;
        let huge = "长".repeat(5000);
        let cases = [
            ("empty", String::new(), Some(String::new())),
            (
                "controls",
                "a\u{0}b\u{1b}[31mc\u{7f}d\n".to_owned(),
                Some("ab[31mcd\n".to_owned()),
            ),
            ("emoji", "😀 👍🏽 ﷽".to_owned(), Some("😀 👍🏽 ﷽".to_owned())),
            ("huge", huge, None),
        ];
        for (id, text, want) in cases {
            let (s, a) = app.inbound(inbox, &msg(id, "odd-sender", &text)).await;
            assert_eq!(s, StatusCode::OK, "{id}: {a}");
            let conv = a["conversation_id"].as_i64().expect("conversation");
            let seq = a["seq"].as_i64().expect("seq");
            let (_, page) = app
                .admin(
                    Method::GET,
                    &format!(
                        "/api/v1/conversations/{conv}/messages?after_seq={}",
                        seq - 1
                    ),
                    None,
                )
                .await;
            let stored = page["items"][0]["content"]["text"]
                .as_str()
                .expect("text")
                .to_owned();
            match want {
                Some(w) => assert_eq!(stored, w, "{id}"),
                None => {
                    assert!(
                        stored.len() < 4200 && stored.ends_with("more bytes truncated]"),
                        "{id}: {} bytes",
                        stored.len()
                    );
                    assert!(stored.starts_with("长长长"));
                }
            }
        }
        let refused = [
            msg("x1", "", "no sender"),
            msg("x2", "bad\u{0}id", "control in id"),
            msg("", "u", "empty id"),
        ];
        for m in refused {
            let (s, b) = app.inbound(inbox, &m).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{m:?}: {b}");
        }
        let (_, list) = app.admin(Method::GET, "/api/v1/conversations", None).await;
        assert_eq!(
            list["items"].as_array().map(Vec::len),
            Some(1),
            "refused envelopes stored nothing"
        );
        let r = app
            .client
            .post(format!("{}/channels/loopback/{inbox}/messages", app.base))
            .header("x-loopback-secret", "wrong-secret")
            .json(&msg("x3", "u", "forged"))
            .send()
            .await
            .expect("request");
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        app.stop().await;
    }
}
