//! Provider addresses set by admins follow the webhooks' private-address policy: an inbox whose
//! `api_base` or IMAP/SMTP host is loopback, private or link-local is refused with 422 naming
//! the field and the setting that allows it.

use kefu_tests::{TestApp, backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn wechat(api_base: &str) -> Value {
    json!({"name": "WeChat", "channel": {"type": "wechat", "app_id": "wx1", "app_secret": "s",
        "token": "tok123", "api_base": api_base}})
}

fn email(imap_host: &str, smtp_host: &str) -> Value {
    json!({"name": "Mail", "channel": {"type": "email", "address": "help@example.com",
        "imap": {"host": imap_host, "port": 993, "tls": "tls", "username": "u", "password": "p", "mailbox": "INBOX"},
        "smtp": {"host": smtp_host, "port": 465, "tls": "tls", "username": "u", "password": "p"}}})
}

#[tokio::test]
async fn private_provider_addresses_are_refused_unless_allowed() {
    let app = TestApp::spawn_with(&backends()[0], |c| {
        c.channels.allow_private_targets = false;
    })
    .await;
    let cases = [
        (
            wechat("http://169.254.169.254/latest/meta-data"),
            "channel.api_base",
        ),
        (wechat("http://localhost:8080"), "channel.api_base"),
        (email("127.0.0.1", "smtp.example.com"), "channel.imap.host"),
        (email("imap.example.com", "10.0.0.5"), "channel.smtp.host"),
    ];
    for (body, field) in cases {
        let (status, err) = app.admin(Method::POST, "/api/v1/inboxes", Some(body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {err}");
        assert_eq!(err["code"], "private_target_refused", "{err}");
        let detail = err["detail"].as_str().unwrap_or_default();
        assert!(detail.starts_with(field), "{detail}");
        assert!(
            detail.contains("channels.allow_private_targets")
                && detail.contains("KEFU_CHANNELS__ALLOW_PRIVATE_TARGETS"),
            "{detail}"
        );
    }

    // Public addresses pass; an update to a private one is refused the same way.
    let (status, inbox) = app
        .admin(
            Method::POST,
            "/api/v1/inboxes",
            Some(wechat("https://api.weixin.qq.com")),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{inbox}");
    let id = inbox["id"].as_i64().expect("id");
    let (status, err) = app
        .admin(
            Method::PATCH,
            &format!("/api/v1/inboxes/{id}"),
            Some(json!({"channel": {"api_base": "http://[::1]:9/"}})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(err["code"], "private_target_refused", "{err}");
    app.stop().await;

    // With the switch (as in TestApp's default), the stand-ins on loopback are fine.
    let app = TestApp::spawn(&backends()[0]).await;
    let (status, body) = app
        .admin(
            Method::POST,
            "/api/v1/inboxes",
            Some(wechat("http://127.0.0.1:9")),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    app.stop().await;
}
