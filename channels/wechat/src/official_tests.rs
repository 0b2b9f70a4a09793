use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use kefu_channel::testkit::{MemoryState, RecordingSink};
use kefu_channel::{Content, InboundSink, IngestError, OutboundMessage, Recipient, SendError};
use serde_json::{Value, json};

use super::*;
use crate::mock::{self, FailingSink, Inboxes, MockWeChat, Scripted};

const W3_KEY: &str = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR";
const TEXT: &str = include_str!("../fixtures/wechat-text.xml");
const ENCRYPTED: &str = include_str!("../fixtures/wechat-encrypted-message.xml");

fn factory_at(now: i64) -> OfficialAccountFactory {
    OfficialAccountFactory::new().with_clock(Arc::new(move || now))
}

fn router(now: i64, sink: Arc<dyn InboundSink>, settings: Value) -> Router {
    factory_at(now)
        .ingress(mock::ingress_cx(
            sink,
            Inboxes::default().with(1, KIND, settings),
            Arc::new(MemoryState::default()),
        ))
        .expect("wechat has ingress")
}

fn plain_settings(token: &str) -> Value {
    json!({"app_id": "wx5823bf96d3bd56c7", "app_secret": "s", "token": token})
}

fn safe_settings(app_id: &str) -> Value {
    json!({"app_id": app_id, "app_secret": "s", "token": "123456", "encoding_aes_key": W3_KEY})
}

// --- URL verification --------------------------------------------------------------------

#[tokio::test]
async fn a1_url_verification_echoes_echostr() {
    let sink = Arc::new(RecordingSink::new());
    let r = router(1714036504, sink, plain_settings("AAAAA"));
    let q = "signature=f464b24fc39322e44b38aa78f5edd27bd1441696&echostr=4375120948345356249&timestamp=1714036504&nonce=1514711492";
    assert_eq!(
        mock::call(&r, "GET", &format!("/1?{q}"), "").await,
        (StatusCode::OK, "4375120948345356249".into())
    );

    let forged = q.replace("f464b24f", "f464b24e");
    let (status, body) = mock::call(&r, "GET", &format!("/1?{forged}"), "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        !body.contains("4375120948345356249"),
        "no echo without a signature"
    );

    let (status, body) = mock::call(&r, "GET", "/1?timestamp=1714036504&nonce=1", "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("missing_parameter"), "{body}");
    assert_eq!(
        mock::call(&r, "GET", &format!("/2?{q}"), "").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        mock::call(&r, "GET", &format!("/x?{q}"), "").await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn stale_and_future_timestamps_are_refused() {
    let q = "signature=f464b24fc39322e44b38aa78f5edd27bd1441696&echostr=1&timestamp=1714036504&nonce=1514711492";
    for now in [1714036504 + 301, 1714036504 - 301] {
        let r = router(now, Arc::new(RecordingSink::new()), plain_settings("AAAAA"));
        let (status, body) = mock::call(&r, "GET", &format!("/1?{q}"), "").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "now = {now}");
        assert!(body.contains("stale_timestamp"), "{body}");
    }
    let r = router(
        1714036504 + 300,
        Arc::new(RecordingSink::new()),
        plain_settings("AAAAA"),
    );
    assert_eq!(
        mock::call(&r, "GET", &format!("/1?{q}"), "").await.0,
        StatusCode::OK
    );
}

// --- plain mode --------------------------------------------------------------------------

const A2_QUERY: &str =
    "/1?signature=899cf89e464efb63f54ddac96b0a0a235f53aa78&timestamp=1714037059&nonce=486452656";

#[tokio::test]
async fn a2_plain_callback_is_stored_then_acknowledged() {
    let sink = Arc::new(RecordingSink::new());
    let r = router(1714037059, sink.clone(), plain_settings("AAAAA"));
    assert_eq!(
        mock::call(&r, "POST", A2_QUERY, TEXT).await,
        (StatusCode::OK, "success".into())
    );
    let got = sink.envelopes();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].inbox_id, 1);
    assert_eq!(got[0].sender.external_id, "fromUser");
    assert_eq!(got[0].content.text, "this is a test");

    let forged = A2_QUERY.replace("899cf89e", "899cf89f");
    assert_eq!(
        mock::call(&r, "POST", &forged, TEXT).await.0,
        StatusCode::UNAUTHORIZED
    );
    let unsigned = "/1?timestamp=1714037059&nonce=486452656";
    assert_eq!(
        mock::call(&r, "POST", unsigned, TEXT).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(sink.len(), 1, "refused callbacks reach nothing");
}

#[tokio::test]
async fn a_captured_plain_query_cannot_carry_another_body() {
    let sink = Arc::new(RecordingSink::new());
    let r = router(1714037059, sink.clone(), plain_settings("AAAAA"));
    assert_eq!(
        mock::call(&r, "POST", A2_QUERY, TEXT).await,
        (StatusCode::OK, "success".into())
    );
    // WeChat retrying the callback it did not see answered: same query, same body.
    assert_eq!(
        mock::call(&r, "POST", A2_QUERY, TEXT).await,
        (StatusCode::OK, "success".into())
    );
    // The signed query replayed with a forged body (another message id and text).
    let forged = TEXT
        .replace("this is a test", "send the refund to me")
        .replace("1234567890123456", "9999999999999999");
    assert_ne!(forged, TEXT, "the fixture has the replaced parts");
    let (status, body) = mock::call(&r, "POST", A2_QUERY, forged).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body.contains("replayed_nonce"), "{body}");
    assert!(
        sink.envelopes()
            .iter()
            .all(|e| e.content.text == "this is a test"),
        "the forged text never reaches Kefu"
    );
}

#[tokio::test]
async fn malformed_and_hostile_bodies_are_refused() {
    let sink = Arc::new(RecordingSink::new());
    let r = router(1714037059, sink.clone(), plain_settings("AAAAA"));
    for body in [
        "not xml".to_owned(),
        "<xml><ToUserName>t</ToUserName></xml>".to_owned(),
        "<!DOCTYPE xml [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><xml><Content>&e;</Content></xml>"
            .to_owned(),
        TEXT.replace("</xml>", ""),
    ] {
        let (status, resp) = mock::call(&r, "POST", A2_QUERY, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{resp}");
        assert!(resp.contains("malformed_body"), "{resp}");
    }
    let (status, _) = mock::call(&r, "POST", A2_QUERY, vec![0xff, 0xfe, 0x00]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let huge = format!("<xml><Content>{}</Content></xml>", "a".repeat(70 * 1024));
    assert_eq!(
        mock::call(&r, "POST", A2_QUERY, huge).await.0,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    assert!(sink.is_empty());
}

#[tokio::test]
async fn storage_failures_decide_the_answer() {
    let r = router(
        1714037059,
        Arc::new(FailingSink(IngestError::Unavailable("db down".into()))),
        plain_settings("AAAAA"),
    );
    let (status, body) = mock::call(&r, "POST", A2_QUERY, TEXT).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "WeChat must retry");
    assert_ne!(body, "success");

    let r = router(
        1714037059,
        Arc::new(FailingSink(IngestError::Rejected("bad sender".into()))),
        plain_settings("AAAAA"),
    );
    assert_eq!(
        mock::call(&r, "POST", A2_QUERY, TEXT).await,
        (StatusCode::OK, "success".into()),
        "a rejected message is acknowledged so WeChat stops retrying"
    );
}

#[tokio::test]
async fn notifications_are_acknowledged_without_an_envelope() {
    let sink = Arc::new(RecordingSink::new());
    let r = router(1714037059, sink.clone(), plain_settings("AAAAA"));
    let body = include_str!("../fixtures/wechat-event-templatesendjobfinish.xml");
    assert_eq!(
        mock::call(&r, "POST", A2_QUERY, body).await,
        (StatusCode::OK, "success".into())
    );
    assert!(sink.is_empty());
}

// --- safe mode ---------------------------------------------------------------------------

const W3B_QUERY: &str = "/1?timestamp=1411525903&nonce=461056294&encrypt_type=aes&msg_signature=74d92dfeb87ba7c714f89d98870ae5eb62dff26d";

#[tokio::test]
async fn w3b_safe_mode_callback_is_decrypted_and_stored() {
    let sink = Arc::new(RecordingSink::new());
    let r = router(
        1411525903,
        sink.clone(),
        safe_settings("wx49f0ab532d5d035a"),
    );
    assert_eq!(
        mock::call(&r, "POST", W3B_QUERY, ENCRYPTED).await,
        (StatusCode::OK, "success".into())
    );
    let got = sink.envelopes();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].content.text, "test");
    assert_eq!(got[0].sender.external_id, "messense");
    assert_eq!(got[0].dedupe_key.as_deref(), Some("4363689963896700987"));
}

#[tokio::test]
async fn compatible_mode_trusts_only_the_ciphertext() {
    // Compatible mode sends plaintext fields beside <Encrypt>; only the signed ciphertext
    // counts, so plaintext fields cannot smuggle another sender or text in.
    let sink = Arc::new(RecordingSink::new());
    let r = router(
        1411525903,
        sink.clone(),
        safe_settings("wx49f0ab532d5d035a"),
    );
    let encrypt = XmlDoc::parse(ENCRYPTED)
        .expect("fixture")
        .require("Encrypt")
        .expect("has Encrypt")
        .to_owned();
    let body = TEXT.replace(
        "</xml>",
        &format!("<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"),
    );
    assert_eq!(
        mock::call(&r, "POST", W3B_QUERY, body).await,
        (StatusCode::OK, "success".into())
    );
    let got = sink.envelopes();
    assert_eq!(got[0].sender.external_id, "messense");
    assert_eq!(got[0].content.text, "test");
}

#[tokio::test]
async fn safe_mode_refusals() {
    let sink = Arc::new(RecordingSink::new());
    let r = router(
        1411525903,
        sink.clone(),
        safe_settings("wx49f0ab532d5d035a"),
    );
    let cases = [
        (
            W3B_QUERY.replace("74d92dfe", "74d92dff"),
            ENCRYPTED.to_owned(),
            StatusCode::UNAUTHORIZED,
        ),
        (
            W3B_QUERY.replace(
                "&msg_signature=74d92dfeb87ba7c714f89d98870ae5eb62dff26d",
                "",
            ),
            ENCRYPTED.to_owned(),
            StatusCode::UNAUTHORIZED,
        ),
        // A plain-mode signature over the same query does not make a wrong plain signature pass.
        (
            format!("{W3B_QUERY}&signature=00"),
            ENCRYPTED.to_owned(),
            StatusCode::UNAUTHORIZED,
        ),
        // Plain callbacks are refused once the inbox has a key.
        (
            "/1?signature=x&timestamp=1411525903&nonce=461056294".to_owned(),
            TEXT.to_owned(),
            StatusCode::FORBIDDEN,
        ),
        (
            W3B_QUERY.replace("aes", "rsa"),
            ENCRYPTED.to_owned(),
            StatusCode::BAD_REQUEST,
        ),
        (
            W3B_QUERY.to_owned(),
            "<xml><Encrypt>!!</Encrypt></xml>".to_owned(),
            StatusCode::UNAUTHORIZED,
        ),
        (
            W3B_QUERY.to_owned(),
            "<xml></xml>".to_owned(),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (uri, body, want) in cases {
        let (status, resp) = mock::call(&r, "POST", &uri, body).await;
        assert_eq!(status, want, "{uri}: {resp}");
    }
    assert!(sink.is_empty());

    // The ciphertext names another AppID than the inbox's.
    let r = router(
        1411525903,
        sink.clone(),
        safe_settings("wx0000000000000000"),
    );
    let (status, body) = mock::call(&r, "POST", W3B_QUERY, ENCRYPTED).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("wrong_account"));

    // Encrypted traffic for an inbox without a key.
    let r = router(1411525903, sink.clone(), plain_settings("123456"));
    assert_eq!(
        mock::call(&r, "POST", W3B_QUERY, ENCRYPTED).await.0,
        StatusCode::BAD_REQUEST
    );
    assert!(sink.is_empty());
}

#[tokio::test]
async fn safe_mode_signed_garbage_is_a_bad_request() {
    let crypt = MsgCrypt::new("123456", W3_KEY, "wx49f0ab532d5d035a").expect("key");
    let sink = Arc::new(RecordingSink::new());
    let r = router(
        1411525903,
        sink.clone(),
        safe_settings("wx49f0ab532d5d035a"),
    );
    for encrypt in [crypt.encrypt("not xml at all"), "AAAA".to_owned()] {
        let sig = crypt.msg_signature("1411525903", "1", &encrypt);
        let uri = format!("/1?timestamp=1411525903&nonce=1&encrypt_type=aes&msg_signature={sig}");
        let body = format!("<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>");
        assert_eq!(
            mock::call(&r, "POST", &uri, body).await.0,
            StatusCode::BAD_REQUEST
        );
    }
    assert!(sink.is_empty());
}

// --- sending -----------------------------------------------------------------------------

fn outbound(text: &str) -> OutboundMessage {
    OutboundMessage {
        message_id: 9,
        conversation_id: 3,
        inbox_id: 1,
        recipient: Recipient {
            external_id: "oOpenId".into(),
            display_name: None,
        },
        content: Content::text(text),
        agent_name: None,
        references: Vec::new(),
        subject: None,
        conversation_token: None,
        last_inbound_at: Some(chrono::Utc::now()),
        system: false,
    }
}

fn channel(api: &MockWeChat) -> Arc<dyn Channel> {
    channel_with(api, OfficialAccountFactory::new())
}

fn channel_with(api: &MockWeChat, f: OfficialAccountFactory) -> Arc<dyn Channel> {
    node_channel(api, f, &kefu_channel::testkit::build_context())
}

/// The channel one node builds, with that node's services `cx`.
fn node_channel(
    api: &MockWeChat,
    f: OfficialAccountFactory,
    cx: &kefu_channel::BuildContext,
) -> Arc<dyn Channel> {
    let settings = json!({"app_id": mock::APP_ID, "app_secret": mock::SECRET, "token": "abc",
        "api_base": api.base});
    let inbox = Inboxes::default()
        .with(1, KIND, settings)
        .0
        .remove(&1)
        .expect("inbox");
    f.build(&inbox, cx).expect("builds")
}

#[tokio::test]
async fn sends_text_and_caches_the_token() {
    let api = MockWeChat::start().await;
    let ch = channel(&api);
    ch.send(&outbound("你好")).await.expect("sent");
    ch.send(&outbound("second")).await.expect("sent");
    assert_eq!(
        api.sends(),
        vec![
            json!({"touser": "oOpenId", "msgtype": "text", "text": {"content": "你好"}}),
            json!({"touser": "oOpenId", "msgtype": "text", "text": {"content": "second"}}),
        ]
    );
    assert_eq!(api.send_paths()[0], "/cgi-bin/message/custom/send");
    assert_eq!(api.token_fetches(), 1, "the token is cached");
}

#[tokio::test]
async fn a_token_due_for_refresh_is_fetched_again() {
    let api = MockWeChat::start().await;
    api.set_expires_in(0);
    let ch = channel(&api);
    ch.send(&outbound("a")).await.expect("sent");
    ch.send(&outbound("b")).await.expect("sent");
    assert_eq!(api.token_fetches(), 2);
}

#[tokio::test]
async fn an_expired_token_is_refreshed_and_the_send_retried_once() {
    let api = MockWeChat::start().await;
    let ch = channel(&api);
    api.script(Scripted::ExpireToken);
    ch.send(&outbound("hi")).await.expect("sent after refresh");
    assert_eq!(api.token_fetches(), 2);
    assert_eq!(api.sends().len(), 1);

    // Refused again with the fresh token: retryable, and no third attempt.
    api.script(Scripted::ExpireToken);
    api.script(Scripted::Errcode(40001));
    match ch.send(&outbound("hi")).await {
        Err(SendError::Retryable { .. }) => {}
        other => panic!("expected Retryable, got {other:?}"),
    }
    assert_eq!(api.token_fetches(), 3);
    assert_eq!(api.sends().len(), 1);
}

#[tokio::test]
async fn nodes_serving_one_account_share_its_token() {
    let api = MockWeChat::start().await;
    // Two nodes: their own channels and caches, one database.
    let cx = kefu_channel::testkit::build_context();
    let a = node_channel(&api, OfficialAccountFactory::new(), &cx);
    let b = node_channel(&api, OfficialAccountFactory::new(), &cx);
    a.send(&outbound("a")).await.expect("sent");
    b.send(&outbound("b")).await.expect("sent");
    assert_eq!(
        api.token_fetches(),
        1,
        "the second node uses the token the first fetched"
    );

    // Node A's token is refused and A fetches a new one, which retires the token B holds
    // (the classic endpoint invalidates the previous token). B then takes A's new token from
    // the database instead of fetching a third one, which would retire A's.
    api.script(Scripted::ExpireToken);
    a.send(&outbound("c")).await.expect("sent after refresh");
    assert_eq!(api.token_fetches(), 2);
    b.send(&outbound("d"))
        .await
        .expect("sent with the shared token");
    assert_eq!(api.token_fetches(), 2, "no node fetched a token of its own");
    assert_eq!(api.sends().len(), 4);
}

#[tokio::test]
async fn concurrent_sends_share_one_token_fetch() {
    let api = MockWeChat::start().await;
    let ch = channel(&api);
    api.hold_tokens();
    let requested = api.token_requested();
    let sends: Vec<_> = (0..8)
        .map(|i| {
            let ch = ch.clone();
            tokio::spawn(async move { ch.send(&outbound(&format!("m{i}"))).await })
        })
        .collect();
    requested.await;
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
    api.release_tokens();
    for s in sends {
        s.await.expect("task").expect("sent");
    }
    assert_eq!(
        api.token_fetches(),
        1,
        "one refresh for all concurrent sends"
    );
    assert_eq!(api.sends().len(), 8);
}

fn classify_of(r: Result<kefu_channel::SendReceipt, SendError>) -> SendError {
    r.expect_err("send fails")
}

#[tokio::test]
async fn provider_errors_are_classified() {
    let api = MockWeChat::start().await;
    let ch = channel(&api);
    type Check = fn(&SendError) -> bool;
    let cases: Vec<(Scripted, Check)> = vec![
        (Scripted::Errcode(-1), |e| {
            matches!(e, SendError::Retryable { .. })
        }),
        (Scripted::Errcode(45009), |e| {
            matches!(e, SendError::RateLimited { .. })
        }),
        (
            Scripted::Errcode(45015),
            |e| matches!(e, SendError::Permanent { code, .. } if code == "reply_window_closed"),
        ),
        (
            Scripted::Errcode(45047),
            |e| matches!(e, SendError::Permanent { code, .. } if code == "reply_quota_exhausted"),
        ),
        (
            Scripted::Errcode(40003),
            |e| matches!(e, SendError::Permanent { code, .. } if code == "invalid_recipient"),
        ),
        (Scripted::Http(502, None), |e| {
            matches!(e, SendError::Retryable { after: None, .. })
        }),
        (
            Scripted::Http(503, Some(30)),
            |e| matches!(e, SendError::Retryable { after: Some(d), .. } if *d == Duration::from_secs(30)),
        ),
        (
            Scripted::Http(429, Some(7)),
            |e| matches!(e, SendError::RateLimited { after: Some(d) } if *d == Duration::from_secs(7)),
        ),
        (
            Scripted::Http(404, None),
            |e| matches!(e, SendError::Permanent { code, .. } if code == "http_404"),
        ),
    ];
    for (script, ok) in cases {
        api.script(script.clone());
        let e = classify_of(ch.send(&outbound("x")).await);
        assert!(ok(&e), "{script:?} gave {e:?}");
        assert!(!e.to_string().contains("token-"), "no token in errors: {e}");
    }
    assert!(api.sends().is_empty());
}

#[tokio::test]
async fn unreachable_api_is_retryable() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let settings = json!({"app_id": mock::APP_ID, "app_secret": mock::SECRET, "token": "abc",
        "api_base": format!("http://{addr}")});
    let inbox = Inboxes::default()
        .with(1, KIND, settings)
        .0
        .remove(&1)
        .expect("inbox");
    let ch = OfficialAccountFactory::new()
        .build(&inbox, &kefu_channel::testkit::build_context())
        .expect("builds");
    match ch.send(&outbound("x")).await {
        Err(SendError::Retryable { reason, .. }) => {
            assert!(
                !reason.contains(mock::SECRET),
                "no secret in errors: {reason}"
            )
        }
        other => panic!("expected Retryable, got {other:?}"),
    }
}

#[tokio::test]
async fn bad_credentials_are_permanent() {
    let api = MockWeChat::start().await;
    api.fail_token_endpoint(40125);
    match channel(&api).send(&outbound("x")).await {
        Err(SendError::Permanent { code, .. }) => assert_eq!(code, "invalid_credentials"),
        other => panic!("expected Permanent, got {other:?}"),
    }
}

#[tokio::test]
async fn prechecks_spend_no_quota() {
    let api = MockWeChat::start().await;
    let ch = channel(&api);
    let mut late = outbound("x");
    late.last_inbound_at = Some(chrono::Utc::now() - chrono::Duration::hours(49));
    let mut with_file = outbound("see attached");
    with_file.content.attachments.push(Default::default());
    for (msg, code) in [
        (late, "reply_window_closed"),
        (outbound("  "), "empty_content"),
        (outbound(&"长".repeat(700)), "content_too_long"),
        (with_file, "attachment_unavailable"),
    ] {
        match ch.send(&msg).await {
            Err(SendError::Permanent { code: got, .. }) => assert_eq!(got, code),
            other => panic!("expected {code}, got {other:?}"),
        }
    }
    assert_eq!(api.token_fetches(), 0);
    let mut unknown = outbound("x");
    unknown.last_inbound_at = None;
    ch.send(&unknown)
        .await
        .expect("no known window: let WeChat decide");
}

#[test]
fn factory_surface() {
    let f = OfficialAccountFactory::new();
    assert_eq!(f.kind().as_str(), "wechat");
    assert_eq!(
        f.secret_fields(),
        &["/app_secret", "/token", "/encoding_aes_key"]
    );
    let v = f
        .validate(
            json!({"app_id": "wx1", "app_secret": "s", "token": "abc", "api_base": "http://h/"}),
        )
        .expect("valid");
    assert_eq!(v["api_base"], "http://h");
    assert!(f.validate(json!({"app_id": "wx1"})).is_err());
    let caps = capabilities();
    assert_eq!(caps.reply_window, Some(Duration::from_secs(48 * 3600)));
    assert!(caps.max_text_chars * 3 <= 2048);
}
