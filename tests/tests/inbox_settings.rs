//! Inbox settings as the console sees them: which secrets are set, the callback URL and the
//! `public_url` warning for channels the provider calls back, the web chat snippet, and
//! settings errors that name their field.

use kefu_tests::{TestApp, backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const WECHAT: &str = r#"{"type": "wechat", "app_id": "wx5823bf96d3bd56c7", "app_secret": "the-app-secret", "token": "QDG6eK"}"#;

fn wechat() -> Value {
    serde_json::from_str(WECHAT).expect("wechat settings")
}

fn without_type(mut v: Value) -> Value {
    v.as_object_mut().map(|o| o.remove("type"));
    v
}

async fn create(app: &TestApp, name: &str, channel: Value) -> Value {
    let (s, b) = app
        .admin(
            Method::POST,
            "/api/v1/inboxes",
            Some(json!({"name": name, "channel": channel})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    b
}

#[tokio::test]
async fn secrets_set_lists_only_the_secrets_that_have_a_value() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        // No encoding_aes_key (plain-text mode): it must not be reported as set.
        let inbox = create(&app, "Official Account", wechat()).await;
        assert_eq!(
            inbox["secrets_set"],
            json!(["app_secret", "token"]),
            "{inbox}"
        );

        // A web chat inbox without an identity secret has no secret set.
        let chat = create(&app, "Website", json!({"type": "web_chat"})).await;
        assert_eq!(chat["secrets_set"], json!([]), "{chat}");

        // Setting one later shows it; leaving it out of a PATCH keeps it.
        let id = chat["id"].as_i64().expect("id");
        let (s, b) = app
            .admin(
                Method::PATCH,
                &format!("/api/v1/inboxes/{id}"),
                Some(json!({"channel": {"hmac_secret": "0123456789abcdef0123"}})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(b["secrets_set"], json!(["hmac_secret"]), "{b}");
        let (_, b) = app
            .admin(
                Method::PATCH,
                &format!("/api/v1/inboxes/{id}"),
                Some(json!({"name": "Site"})),
            )
            .await;
        assert_eq!(b["secrets_set"], json!(["hmac_secret"]), "{b}");
        app.stop().await;
    }
}

#[tokio::test]
async fn a_private_public_url_warns_channels_the_provider_calls_back() {
    const LAN: &str = "http://192.168.1.20:8080";
    for backend in backends() {
        let app = TestApp::spawn_with(&backend, |c| c.public_url = Some(LAN.into())).await;
        let inbox = create(&app, "Official Account", wechat()).await;
        let id = inbox["id"].as_i64().expect("id");
        assert_eq!(
            inbox["callback_url"],
            json!(format!("{LAN}/channels/wechat/{id}")),
            "{inbox}"
        );
        let warnings = inbox["warnings"].as_array().expect("warnings");
        assert_eq!(warnings.len(), 1, "{inbox}");
        assert_eq!(warnings[0]["code"], "public_url_not_public");
        assert!(
            warnings[0]["detail"]
                .as_str()
                .is_some_and(|d| d.contains(LAN) && d.contains("private network")),
            "{inbox}"
        );
        // The list and a single read show the same.
        let (_, list) = app.admin(Method::GET, "/api/v1/inboxes", None).await;
        let listed = list["items"]
            .as_array()
            .and_then(|items| items.iter().find(|i| i["id"] == id))
            .expect("listed");
        assert_eq!(listed["warnings"], inbox["warnings"]);
        let (_, one) = app
            .admin(Method::GET, &format!("/api/v1/inboxes/{id}"), None)
            .await;
        assert_eq!(one["warnings"], inbox["warnings"]);

        // Web chat needs no callback: no warning, but a snippet to paste.
        let chat = create(&app, "Website", json!({"type": "web_chat"})).await;
        assert_eq!(chat["warnings"], json!([]), "{chat}");
        assert!(chat.get("callback_url").is_none(), "{chat}");
        let token = chat["website_token"].as_str().expect("website_token");
        assert_eq!(
            chat["widget_snippet"],
            json!(format!(
                r#"<script src="{LAN}/widget.js" data-website-token="{token}"></script>"#
            ))
        );
        assert!(inbox.get("widget_snippet").is_none(), "{inbox}");
        app.stop().await;

        // With a public address there is nothing to warn about.
        let app = TestApp::spawn_with(&backend, |c| {
            c.public_url = Some("https://kefu.example.com".into());
        })
        .await;
        let inbox = create(&app, "Official Account", wechat()).await;
        assert_eq!(inbox["warnings"], json!([]), "{inbox}");
        assert_eq!(
            inbox["callback_url"],
            json!(format!(
                "https://kefu.example.com/channels/wechat/{}",
                inbox["id"]
            ))
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn settings_errors_name_the_field() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let (_, before) = app.admin(Method::GET, "/api/v1/inboxes", None).await;
        let mut bad_token = wechat();
        bad_token["token"] = json!("a b");
        let mut missing = wechat();
        missing.as_object_mut().map(|o| o.remove("app_id"));
        let email = json!({"type": "email", "address": "support@example.com",
            "imap": {"host": "127.0.0.1", "port": 0, "tls": "none", "username": "u", "password": "p"},
            "smtp": {"host": "127.0.0.1", "port": 25, "tls": "none"}});
        for (channel, field) in [
            (bad_token, "channel.token"),
            (missing, "channel.app_id"),
            (email, "channel.imap.port"),
            (
                json!({"type": "web_chat", "hmac_secret": "short"}),
                "channel.hmac_secret",
            ),
        ] {
            let (s, b) = app
                .admin(
                    Method::POST,
                    "/api/v1/inboxes",
                    Some(json!({"name": "Bad", "channel": channel})),
                )
                .await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
            assert_eq!(b["field"], json!(field), "{b}");
            assert!(b["detail"].as_str().is_some_and(|d| !d.is_empty()), "{b}");
        }
        let (_, list) = app.admin(Method::GET, "/api/v1/inboxes", None).await;
        assert_eq!(list, before, "nothing half-done is stored");
        app.stop().await;
    }
}

/// Settings the channel tests use, one per type, each with a field its schema requires.
fn samples() -> Vec<(&'static str, Value, &'static str)> {
    let sa = include_str!("../../channels/push/fixtures/TEST-ONLY-service-account.json");
    vec![
        ("wechat", without_type(wechat()), "app_secret"),
        (
            "wecom_kf",
            json!({"corp_id": "ww1436e0e65a779aee", "secret": "the-kf-secret",
                "token": "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo",
                "encoding_aes_key": "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt",
                "open_kfid": "wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw", "api_base": "http://127.0.0.1:9"}),
            "open_kfid",
        ),
        (
            "email",
            json!({"address": "support@kefu.test",
                "imap": {"host": "127.0.0.1", "port": 1143, "tls": "none",
                         "username": "support@kefu.test", "password": "kefu-test-secret", "mailbox": "INBOX"},
                "smtp": {"host": "127.0.0.1", "port": 2525, "tls": "none"},
                "plus_addressing": true}),
            "imap",
        ),
        (
            "app_push",
            json!({"app_secret": "app-secret-for-tests-0123456789",
                "fcm": {"project_id": "kefu-test", "service_account_json": sa,
                        "api_base": "http://127.0.0.1:9"}}),
            "app_secret",
        ),
        (
            "web_chat",
            json!({"hmac_secret": "0123456789abcdef", "allowed_origins": ["https://shop.example.com"]}),
            "",
        ),
    ]
}

#[tokio::test]
async fn every_channel_type_publishes_a_schema_its_real_settings_validate_against() {
    let backend = backends().remove(0);
    let app = TestApp::spawn(&backend).await;
    let (s, types) = app.admin(Method::GET, "/api/v1/channel-types", None).await;
    assert_eq!(s, StatusCode::OK, "{types}");
    let items = types["items"].as_array().expect("items");
    let find = |kind: &str| {
        items
            .iter()
            .find(|t| t["type"] == kind)
            .unwrap_or_else(|| panic!("{kind} is listed: {types}"))
    };
    for (kind, settings, required) in samples() {
        let t = find(kind);
        let schema = &t["schema"];
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        let validator = jsonschema::validator_for(schema).expect("a valid JSON Schema");
        let errors: Vec<String> = validator
            .iter_errors(&settings)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{kind}: {errors:?}");
        // The API accepts the same settings.
        let mut channel = settings.clone();
        channel["type"] = json!(kind);
        create(&app, kind, channel).await;
        if !required.is_empty() {
            let mut missing = settings.clone();
            missing.as_object_mut().map(|o| o.remove(required));
            assert!(!validator.is_valid(&missing), "{kind} without {required}");
        }
        let mut unknown = settings.clone();
        unknown["colour"] = json!("blue");
        assert!(
            !validator.is_valid(&unknown),
            "{kind}: unknown fields are refused"
        );
        // Every property a form shows has a title, a description and a zh-CN translation.
        for (name, p) in schema["properties"].as_object().expect("properties") {
            assert!(
                p["title"].is_string() && p["description"].is_string(),
                "{kind}.{name}: {p}"
            );
            assert!(
                p["x-i18n"]["zh-CN"]["title"].is_string(),
                "{kind}.{name} has a zh-CN title: {p}"
            );
        }
    }
    let wechat = find("wechat");
    assert_eq!(wechat["callback"], true);
    assert_eq!(
        wechat["secrets"],
        json!(["app_secret", "token", "encoding_aes_key"])
    );
    assert_eq!(
        wechat["schema"]["properties"]["app_secret"]["writeOnly"],
        true
    );
    assert_eq!(find("wecom_kf")["callback"], true);
    let email = find("email");
    assert_eq!(email["callback"], false);
    assert_eq!(email["secrets"], json!(["imap.password", "smtp.password"]));
    assert_eq!(
        email["schema"]["properties"]["imap"]["properties"]["password"]["writeOnly"],
        true
    );
    assert_eq!(find("web_chat")["callback"], false);
    assert_eq!(find("app_push")["callback"], false);
    app.stop().await;
}
