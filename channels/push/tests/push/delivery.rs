//! Agent replies pushed through FCM and APNs: payloads, auth, stale tokens, retries, sync.

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use kefu_channel::{ChannelFactory, SendError};
use serde_json::json;

use crate::support::{MemoryKefu, Options, TestApp, apns, apns_token, fcm, fcm_token};

async fn app() -> (TestApp, Arc<MemoryKefu>) {
    let kefu = Arc::new(MemoryKefu::default());
    (TestApp::start(Options::with_kefu(kefu.clone())).await, kefu)
}

fn secs(n: u64) -> Option<Duration> {
    Some(Duration::from_secs(n))
}

#[tokio::test]
async fn a_reply_reaches_every_device_of_an_offline_user_with_valid_credentials() {
    let (app, kefu) = app().await;
    app.register("u1", "fcm", &fcm_token(1)).await;
    app.register("u1", "apns", &apns_token(1)).await;
    let (_, posted) = app.post_message("u1", "c1", "My parcel is late").await;
    let reply = kefu.reply("u1", "Sorry! It ships today.", false);

    let receipt = app.channel.send(&reply).await.expect("pushed");
    let devices = receipt.details.expect("per-device results")["devices"].clone();
    assert_eq!(devices.as_array().map(Vec::len), Some(2));
    assert!(
        devices
            .as_array()
            .expect("list")
            .iter()
            .all(|d| d["status"] == "sent"),
        "{devices}"
    );
    assert!(receipt.provider_ref.is_some());

    // FCM: the fake verified the RS256 assertion and the access token.
    assert_eq!((app.fcm.token_requests(), app.fcm.bad_assertions()), (1, 0));
    let sent = app.fcm.sent();
    assert_eq!(sent.len(), 1);
    let m = &sent[0].message;
    assert_eq!(sent[0].token, fcm_token(1));
    assert_eq!(
        m["notification"],
        json!({"title": "Alice", "body": "Sorry! It ships today."})
    );
    assert_eq!(
        m["data"]["conversation_id"],
        json!(posted["conversation_id"].to_string())
    );
    assert_eq!(m["data"]["message_id"], json!(reply.message_id.to_string()));
    assert_eq!(
        m["data"]["seq"], "2",
        "the reply follows the customer's message"
    );
    assert_eq!(m["data"]["preview"], "Sorry! It ships today.");
    let collapse = format!("kefu-conv-{}", reply.conversation_id);
    assert_eq!(m["android"]["collapse_key"], json!(collapse));

    // APNs: HTTP/2 over TLS, the ES256 token verified with the key's public half.
    assert_eq!(app.apns.bad_jwts(), 0);
    let sent = app.apns.sent();
    assert_eq!(sent.len(), 1);
    let h = &sent[0].headers;
    assert_eq!(h["apns-topic"], apns::TOPIC);
    assert_eq!(h["apns-push-type"], "alert");
    assert_eq!(h["apns-priority"], "10");
    assert_eq!(h["apns-collapse-id"], collapse);
    let expiration: i64 = h["apns-expiration"].parse().expect("epoch seconds");
    let now = chrono::Utc::now().timestamp();
    assert!(
        expiration > now + 3600 && expiration <= now + 86_400 + 5,
        "{expiration}"
    );
    assert_eq!(
        sent[0].payload["aps"]["alert"]["body"],
        "Sorry! It ships today."
    );
    assert_eq!(sent[0].payload["kefu"]["seq"], 2);

    // A second reply reuses the access token and the provider token.
    app.channel
        .send(&kefu.reply("u1", "Tracking: 123", false))
        .await
        .expect("pushed");
    assert_eq!(app.fcm.token_requests(), 1, "the access token is cached");
    let jwts = app.apns.jwts();
    assert_eq!(jwts.len(), 2);
    assert_eq!(
        jwts[0], jwts[1],
        "the provider token is reused, not re-signed per push"
    );
}

#[tokio::test]
async fn dead_tokens_are_removed() {
    let (app, kefu) = app().await;
    for i in 1..=2 {
        app.register("u1", "fcm", &fcm_token(i)).await;
        app.register("u1", "apns", &apns_token(i)).await;
    }
    app.register("u1", "fcm", &fcm_token(3)).await;
    app.fcm
        .script_for(&fcm_token(1), fcm::Reply::unregistered());
    app.fcm
        .script_for(&fcm_token(2), fcm::Reply::invalid_token());
    app.apns
        .script_for(&apns_token(1), apns::Reply::new(410, "Unregistered"));
    app.apns
        .script_for(&apns_token(2), apns::Reply::new(400, "BadDeviceToken"));

    let r = app
        .channel
        .send(&kefu.reply("u1", "one", false))
        .await
        .expect("fcm 3 got it");
    let statuses: Vec<_> = r.details.expect("details")["devices"]
        .as_array()
        .expect("list")
        .iter()
        .map(|d| d["status"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| *s == "removed").count(),
        4,
        "{statuses:?}"
    );

    let before = app.fcm.attempts() + app.apns.attempts();
    app.channel
        .send(&kefu.reply("u1", "two", false))
        .await
        .expect("still reaches fcm 3");
    assert_eq!(
        app.fcm.attempts() + app.apns.attempts(),
        before + 1,
        "only the live device is tried"
    );

    app.fcm
        .script_for(&fcm_token(3), fcm::Reply::unregistered());
    let err = app
        .channel
        .send(&kefu.reply("u1", "three", false))
        .await
        .expect_err("no live device");
    assert!(
        matches!(&err, SendError::Permanent { code, .. } if code == "devices_unregistered"),
        "{err:?}"
    );
    let err = app
        .channel
        .send(&kefu.reply("u1", "four", false))
        .await
        .expect_err("none left");
    assert!(
        matches!(&err, SendError::Permanent { code, .. } if code == "no_devices"),
        "{err:?}"
    );
}

#[tokio::test]
async fn provider_retry_after_is_honoured() {
    let (app, kefu) = app().await;
    app.register("u1", "fcm", &fcm_token(1)).await;
    app.register("u1", "apns", &apns_token(1)).await;

    app.fcm.script(fcm::Reply::unavailable(Some(30)));
    app.apns.script(apns::Reply {
        retry_after: Some(120),
        ..apns::Reply::new(503, "ServiceUnavailable")
    });
    let err = app
        .channel
        .send(&kefu.reply("u1", "a", false))
        .await
        .expect_err("nothing reached");
    assert!(
        matches!(&err, SendError::Retryable { after, .. } if *after == secs(120)),
        "{err:?}"
    );

    app.fcm.script(fcm::Reply::quota(45));
    app.apns.script(apns::Reply {
        retry_after: Some(10),
        ..apns::Reply::new(429, "TooManyRequests")
    });
    let err = app
        .channel
        .send(&kefu.reply("u1", "b", false))
        .await
        .expect_err("rate limited");
    assert_eq!(err, SendError::RateLimited { after: secs(45) });

    app.fcm
        .script(fcm::Reply::error(500, "INTERNAL", "INTERNAL", "oops"));
    app.apns
        .script(apns::Reply::new(500, "InternalServerError"));
    let err = app
        .channel
        .send(&kefu.reply("u1", "c", false))
        .await
        .expect_err("5xx");
    assert!(
        matches!(&err, SendError::Retryable { after: None, .. }),
        "{err:?}"
    );

    // The dispatcher's retry goes through once the providers recover.
    app.channel
        .send(&kefu.reply("u1", "c", false))
        .await
        .expect("recovered");
    assert_eq!((app.fcm.sent().len(), app.apns.sent().len()), (1, 1));
}

#[tokio::test]
async fn rejected_credentials_are_refreshed_once() {
    let (app, kefu) = app().await;
    app.register("u1", "fcm", &fcm_token(1)).await;
    app.register("u1", "apns", &apns_token(1)).await;
    app.channel
        .send(&kefu.reply("u1", "warm up", false))
        .await
        .expect("pushed");

    app.fcm.revoke_access_tokens();
    app.apns
        .script(apns::Reply::new(403, "ExpiredProviderToken"));
    app.channel
        .send(&kefu.reply("u1", "again", false))
        .await
        .expect("pushed after refresh");
    assert_eq!(
        app.fcm.token_requests(),
        2,
        "a 401 fetches one new access token"
    );
    assert_eq!(app.fcm.sent().len(), 2);
    let jwts = app.apns.jwts();
    assert_eq!(jwts.len(), 3);
    assert_eq!(jwts[0], jwts[1], "the refused token was the cached one");
    assert_ne!(
        jwts[1], jwts[2],
        "a 403 ExpiredProviderToken re-signs the token"
    );
    assert_eq!(app.apns.sent().len(), 2);

    app.apns
        .script(apns::Reply::new(403, "InvalidProviderToken"));
    app.apns
        .script(apns::Reply::new(403, "InvalidProviderToken"));
    app.fcm.script(fcm::Reply::error(
        400,
        "INVALID_ARGUMENT",
        "INVALID_ARGUMENT",
        "Request contains an invalid argument.",
    ));
    let err = app
        .channel
        .send(&kefu.reply("u1", "bad", false))
        .await
        .expect_err("auth broken");
    assert!(matches!(&err, SendError::Permanent { .. }), "{err:?}");
    assert_eq!(app.apns.attempts(), 5, "only one re-signed retry");
}

#[tokio::test]
async fn keys_the_fake_providers_do_not_trust_are_refused() {
    let kefu = Arc::new(MemoryKefu::default());
    let other_rsa = include_str!("../../fixtures/TEST-ONLY-other-rsa-key.pem");
    let other_p8 = rcgen::KeyPair::generate().expect("key").serialize_pem();
    let app = TestApp::start(Options {
        tweak: Box::new(move |s| {
            let mut sa: serde_json::Value =
                serde_json::from_str(s["fcm"]["service_account_json"].as_str().expect("string"))
                    .expect("json");
            sa["private_key"] = json!(other_rsa);
            s["fcm"]["service_account_json"] = json!(sa.to_string());
            s["apns"]["private_key_pem"] = json!(other_p8);
        }),
        ..Options::with_kefu(kefu.clone())
    })
    .await;
    app.register("u1", "fcm", &fcm_token(1)).await;
    app.register("u1", "apns", &apns_token(1)).await;
    let err = app
        .channel
        .send(&kefu.reply("u1", "x", false))
        .await
        .expect_err("not trusted");
    let SendError::Permanent { reason, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(
        reason.contains("fcm_auth_failed") && reason.contains("apns_auth_failed"),
        "{reason}"
    );
    assert_eq!((app.fcm.bad_assertions(), app.apns.bad_jwts()), (1, 2));
    assert!(app.fcm.sent().is_empty() && app.apns.sent().is_empty());
}

#[tokio::test]
async fn each_device_has_its_own_rate_limit() {
    let kefu = Arc::new(MemoryKefu::default());
    let app = TestApp::start(Options {
        device_limit: (1, 2),
        ..Options::with_kefu(kefu.clone())
    })
    .await;
    app.register("u1", "apns", &apns_token(1)).await;
    app.register("u2", "apns", &apns_token(2)).await;
    for text in ["1", "2"] {
        app.channel
            .send(&kefu.reply("u1", text, false))
            .await
            .expect("within the burst");
    }
    let err = app
        .channel
        .send(&kefu.reply("u1", "3", false))
        .await
        .expect_err("over the limit");
    let SendError::Paced { after, .. } = err else {
        panic!("{err:?}")
    };
    assert!(
        after > Duration::from_secs(1) && after <= Duration::from_secs(60),
        "{after:?}"
    );
    app.channel
        .send(&kefu.reply("u2", "other device", false))
        .await
        .expect("another device is not limited");
    assert_eq!(app.apns.sent().len(), 3);
}

#[tokio::test]
async fn hidden_previews_keep_the_text_out_of_pushes() {
    let kefu = Arc::new(MemoryKefu::default());
    let app = TestApp::start(Options {
        tweak: Box::new(|s| s["show_preview"] = json!(false)),
        ..Options::with_kefu(kefu.clone())
    })
    .await;
    app.register("u1", "fcm", &fcm_token(1)).await;
    app.register("u1", "apns", &apns_token(1)).await;
    app.channel
        .send(&kefu.reply("u1", "Your PIN is 4821", false))
        .await
        .expect("pushed");
    let fcm = app.fcm.sent()[0].message.to_string();
    let apns = app.apns.sent()[0].payload.to_string();
    for p in [fcm, apns] {
        assert!(!p.contains("4821"), "{p}");
        assert!(p.contains("You have a new reply."), "{p}");
    }
}

#[tokio::test]
async fn long_replies_fit_the_4096_byte_payloads() {
    let (app, kefu) = app().await;
    app.register("u1", "fcm", &fcm_token(1)).await;
    app.register("u1", "apns", &apns_token(1)).await;
    app.channel
        .send(&kefu.reply("u1", &"退款".repeat(4000), false))
        .await
        .expect("pushed");
    let apns = app.apns.sent()[0].payload.to_string();
    assert!(
        apns.len() <= 4096 && apns.contains("退款"),
        "{}",
        apns.len()
    );
    let preview = app.fcm.sent()[0].message["data"]["preview"]
        .as_str()
        .expect("preview")
        .to_owned();
    assert!(
        preview.ends_with('…') && preview.chars().count() < 300,
        "{preview}"
    );
}

#[tokio::test]
async fn sync_returns_exactly_the_missed_messages() {
    let (app, kefu) = app().await;
    app.register("u1", "fcm", &fcm_token(1)).await;
    let (s, posted) = app
        .post_message("u1", "c1", "Hi, my card was charged twice")
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (_, page) = app.sync("u1", 0).await;
    assert_eq!(page["conversation_id"], posted["conversation_id"]);
    assert_eq!(page["messages"].as_array().map(Vec::len), Some(1));
    let seen = page["messages"][0]["seq"].as_i64().expect("seq");

    // The user leaves the app; the agent answers twice and writes an internal note.
    for (text, private) in [
        ("Let me check.", false),
        ("refund via Stripe", true),
        ("Refunded!", false),
    ] {
        let r = kefu.reply("u1", text, private);
        if !private {
            app.channel.send(&r).await.expect("pushed");
        }
    }
    // The push tells the app where it is; the app syncs from what it had seen.
    let last = app.fcm.sent().last().expect("pushed").message["data"]["seq"].clone();
    assert_eq!(last, "4");
    let (s, page) = app.sync("u1", seen).await;
    assert_eq!(s, StatusCode::OK);
    let got: Vec<_> = page["messages"]
        .as_array()
        .expect("list")
        .iter()
        .map(|m| {
            (
                m["seq"].as_i64(),
                m["text"].as_str(),
                m["direction"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (Some(2), Some("Let me check."), Some("outbound")),
            (Some(4), Some("Refunded!"), Some("outbound"))
        ]
    );
    assert_eq!(page["has_more"], false);

    let uri = format!("{}&limit=1", sync_uri("u1", seen));
    let (_, page) = app.call("GET", &uri, None).await;
    assert_eq!(
        (
            page["messages"].as_array().map(Vec::len),
            page["has_more"].clone()
        ),
        (Some(1), json!(true))
    );
    let (_, page) = app.sync("u1", 4).await;
    assert_eq!(page["messages"], json!([]), "nothing after the last seq");
}

fn sync_uri(who: &str, after: i64) -> String {
    format!(
        "/{}/messages?external_id={who}&user_hash={}&after_seq={after}",
        crate::support::INBOX,
        kefu_channel_push::user_hash(crate::support::SECRET, who)
    )
}

#[test]
fn settings_secrets_are_declared() {
    let f = kefu_channel_push::PushFactory::new();
    assert_eq!(
        f.secret_fields(),
        [
            "/app_secret",
            "/fcm/service_account_json",
            "/apns/private_key_pem"
        ]
    );
}

/// Issue 18: at ~120 replies a minute to one user, a third of the replies ended `failed` with
/// "rate limited by the provider", though the provider never said so. Kefu's own per-device
/// limit paces the push; only the provider's own 429 is a rate limit.
#[tokio::test]
async fn kefus_own_device_limit_paces_and_is_not_blamed_on_the_provider() {
    let kefu = Arc::new(MemoryKefu::default());
    let app = TestApp::start(Options {
        device_limit: (1, 2),
        ..Options::with_kefu(kefu.clone())
    })
    .await;
    app.register("u1", "fcm", &fcm_token(1)).await;
    for text in ["1", "2"] {
        app.channel
            .send(&kefu.reply("u1", text, false))
            .await
            .expect("within the burst");
    }
    for text in ["3", "4", "5"] {
        let err = app
            .channel
            .send(&kefu.reply("u1", text, false))
            .await
            .expect_err("over the device's limit");
        let SendError::Paced { reason, after } = &err else {
            panic!("Kefu's own limit must pace, not fail: {err:?}")
        };
        assert!(*after > Duration::ZERO, "{err:?}");
        assert!(reason.contains("push limit in Kefu"), "{reason}");
        assert!(!err.to_string().contains("provider"), "{err}");
    }
    assert_eq!(app.fcm.attempts(), 2, "paced pushes never reach FCM");

    // The provider's own 429 is still the provider's rate limit.
    let other = Arc::new(MemoryKefu::default());
    let app = TestApp::start(Options::with_kefu(other.clone())).await;
    app.register("u2", "fcm", &fcm_token(2)).await;
    app.fcm.script(fcm::Reply::quota(30));
    let err = app
        .channel
        .send(&other.reply("u2", "x", false))
        .await
        .expect_err("FCM said 429");
    assert_eq!(err, SendError::RateLimited { after: secs(30) });
}
