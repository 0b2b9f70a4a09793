use std::sync::Arc;

use kefu_channel::testkit::{MemoryState, RecordingSink};
use kefu_channel::{Content, InboundSink, OutboundMessage, Recipient};
use serde_json::json;

use super::*;
use crate::mock::{self, Inboxes, MockWeChat};

const W2_TOKEN: &str = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo";
const W2_KEY: &str = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";
const KFID: &str = "wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw";
const CB_TOKEN: &str = "ENCApHxnGDNAVNY4AaSJKj4Tb5mwsEMzxhFmHVGcra996NR";

fn settings(api_base: &str) -> serde_json::Value {
    json!({"corp_id": mock::CORP_ID, "secret": mock::SECRET, "token": W2_TOKEN,
        "encoding_aes_key": W2_KEY, "open_kfid": KFID, "api_base": api_base})
}

struct Setup {
    api: MockWeChat,
    factory: WecomKfFactory,
    router: Router,
    sink: Arc<RecordingSink>,
    state: Arc<MemoryState>,
}

async fn setup_at(now: Option<i64>) -> Setup {
    let api = MockWeChat::start().await;
    let mut factory = WecomKfFactory::new();
    if let Some(now) = now {
        factory = factory.with_clock(Arc::new(move || now));
    }
    let sink = Arc::new(RecordingSink::new());
    let state = Arc::new(MemoryState::default());
    let router = factory
        .ingress(mock::ingress_cx(
            sink.clone(),
            Inboxes::default().with(1, KIND, settings(&api.base)),
            state.clone(),
        ))
        .expect("ingress");
    Setup {
        api,
        factory,
        router,
        sink,
        state,
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A signed, encrypted kf_msg_or_event callback as WeCom sends it.
fn callback_request(token: &str, corp_id: &str, kfid: &str, event: &str) -> (String, String) {
    let ts = now().to_string();
    let inner = format!(
        "<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName><CreateTime>{ts}</CreateTime>\
         <MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event>\
         <Token><![CDATA[{CB_TOKEN}]]></Token><OpenKfId><![CDATA[{kfid}]]></OpenKfId></xml>"
    );
    let crypt = MsgCrypt::new(token, W2_KEY, corp_id).expect("key");
    let encrypt = crypt.encrypt(&inner);
    let sig = crypt.msg_signature(&ts, "77", &encrypt);
    (
        format!("/1?msg_signature={sig}&timestamp={ts}&nonce=77"),
        format!(
            "<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName>\
             <Encrypt><![CDATA[{encrypt}]]></Encrypt><AgentID><![CDATA[]]></AgentID></xml>"
        ),
    )
}

fn kf_event() -> (String, String) {
    callback_request(W2_TOKEN, mock::CORP_ID, KFID, "kf_msg_or_event")
}

fn customer_text(msgid: &str, text: &str) -> serde_json::Value {
    json!({"msgid": msgid, "open_kfid": KFID, "external_userid": "wmCustomer", "send_time": now(),
        "origin": 3, "msgtype": "text", "text": {"content": text}})
}

#[tokio::test]
async fn w2a_url_verification_returns_the_decrypted_echostr() {
    let s = setup_at(Some(1476416373)).await;
    let echostr =
        "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA==";
    let q = format!(
        "/1?msg_signature=012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb&timestamp=1476416373&nonce=47744683&echostr={}",
        mock::enc(echostr)
    );
    assert_eq!(
        mock::call(&s.router, "GET", &q, "").await,
        (StatusCode::OK, "1288432023552776189".into())
    );
    let raw_plus = q.replace("%2B", "+");
    assert_ne!(raw_plus, q);
    assert_eq!(
        mock::call(&s.router, "GET", &raw_plus, "").await,
        (StatusCode::OK, "1288432023552776189".into()),
        "an unencoded + survives"
    );
    let forged = q.replace("012bc692", "012bc693");
    assert_eq!(
        mock::call(&s.router, "GET", &forged, "").await.0,
        StatusCode::UNAUTHORIZED
    );
    let missing = q.replace("&nonce=47744683", "");
    assert_eq!(
        mock::call(&s.router, "GET", &missing, "").await.0,
        StatusCode::BAD_REQUEST
    );

    // The same vector for an inbox of another corp: signed correctly, addressed elsewhere.
    let other = WecomKfFactory::new()
        .with_clock(Arc::new(|| 1476416373))
        .ingress(mock::ingress_cx(
            Arc::new(RecordingSink::new()),
            Inboxes::default().with(1, KIND, {
                let mut v = settings(&s.api.base);
                v["corp_id"] = json!("wwAnotherCorp");
                v
            }),
            Arc::new(MemoryState::default()),
        ))
        .expect("ingress");
    assert_eq!(
        mock::call(&other, "GET", &q, "").await.0,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn w1a_url_verification_with_the_url_encoded_official_sample() {
    let api = MockWeChat::start().await;
    let f = WecomKfFactory::new().with_clock(Arc::new(|| 1409659589));
    let r = f
        .ingress(mock::ingress_cx(
            Arc::new(RecordingSink::new()),
            Inboxes::default().with(
                1,
                KIND,
                json!({"corp_id": "wx5823bf96d3bd56c7", "secret": "s", "token": "QDG6eK",
                    "encoding_aes_key": "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
                    "open_kfid": KFID, "api_base": api.base}),
            ),
            Arc::new(MemoryState::default()),
        ))
        .expect("ingress");
    let q = "/1?msg_signature=5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3&timestamp=1409659589&nonce=263014780&echostr=P9nAzCzyDtyTWESHep1vC5X9xho%2FqYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp%2B4RPcs8TgAE7OaBO%2BFZXvnaqQ%3D%3D";
    assert_eq!(
        mock::call(&r, "GET", q, "").await,
        (StatusCode::OK, "1616140317555161061".into())
    );
}

#[tokio::test]
async fn a_callback_pulls_every_page_and_persists_the_cursor() {
    let s = setup_at(None).await;
    s.api.push_sync_page(
        json!({"errcode": 0, "next_cursor": "c1", "has_more": 1, "msg_list": [
            customer_text("m1", "first"),
            {"msgid": "e1", "send_time": 1, "origin": 4, "msgtype": "event",
             "event": {"event_type": "enter_session", "external_userid": "wmCustomer"}},
        ]}),
    );
    // An empty page that still has more: the pull must go on.
    s.api
        .push_sync_page(json!({"errcode": 0, "next_cursor": "c2", "has_more": 1, "msg_list": []}));
    s.api.push_sync_page(
        json!({"errcode": 0, "next_cursor": "c3", "has_more": 0, "msg_list": [
            {"msgid": "m2", "external_userid": "wmCustomer", "send_time": 2, "origin": 3,
             "msgtype": "image", "image": {"media_id": "MEDIA"}},
            {"msgid": "a1", "external_userid": "wmCustomer", "send_time": 3, "origin": 5,
             "msgtype": "text", "text": {"content": "typed by an agent"}},
        ]}),
    );
    let (uri, body) = kf_event();
    assert_eq!(
        mock::call(&s.router, "POST", &uri, body).await,
        (StatusCode::OK, "success".into())
    );
    let got = s.sink.envelopes();
    assert_eq!(got.len(), 2, "customer messages only");
    assert_eq!(got[0].content.text, "first");
    assert_eq!(got[0].dedupe_key.as_deref(), Some("m1"));
    assert_eq!(
        got[1].content.attachments[0].provider_ref.as_deref(),
        Some("MEDIA")
    );
    let reqs = s.api.sync_requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[0]["token"], CB_TOKEN);
    assert_eq!(reqs[0]["open_kfid"], KFID);
    assert!(
        reqs[0].get("cursor").is_none(),
        "first pull starts without a cursor"
    );
    assert_eq!(reqs[1]["cursor"], "c1");
    assert_eq!(reqs[2]["cursor"], "c2");
    assert_eq!(
        s.state.get(1, CURSOR_KEY).await.expect("state").as_deref(),
        Some("c3")
    );

    // The next callback continues from the stored cursor.
    let (uri, body) = kf_event();
    mock::call(&s.router, "POST", &uri, body).await;
    assert_eq!(s.api.sync_requests()[3]["cursor"], "c3");
}

#[tokio::test]
async fn storage_failure_answers_503_and_the_retry_resumes_from_the_stored_cursor() {
    let s = setup_at(None).await;
    s.api.set_page_size(1);
    s.api.push_kf_message(customer_text("m1", "one"));
    s.api.push_kf_message(customer_text("m2", "two"));
    s.api.push_kf_message(customer_text("m3", "three"));
    let (uri, body) = kf_event();
    // m1 is stored, then storage goes down at m2.
    let flaky = Arc::new(FlakySink {
        inner: s.sink.clone(),
        fail_at: 2,
        calls: Default::default(),
    });
    let router = s
        .factory
        .ingress(mock::ingress_cx(
            flaky,
            Inboxes::default().with(1, KIND, settings(&s.api.base)),
            s.state.clone(),
        ))
        .expect("ingress");
    let (status, _) = mock::call(&router, "POST", &uri, body.clone()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        s.state.get(1, CURSOR_KEY).await.expect("state").as_deref(),
        Some("1")
    );

    let (status, _) = mock::call(&s.router, "POST", &uri, body).await;
    assert_eq!(status, StatusCode::OK);
    let texts: Vec<_> = s
        .sink
        .envelopes()
        .into_iter()
        .map(|e| e.content.text)
        .collect();
    assert_eq!(texts, ["one", "two", "three"]);
    assert_eq!(
        s.state.get(1, CURSOR_KEY).await.expect("state").as_deref(),
        Some("3")
    );
}

struct FlakySink {
    inner: Arc<RecordingSink>,
    fail_at: usize,
    calls: std::sync::atomic::AtomicUsize,
}

#[async_trait]
impl InboundSink for FlakySink {
    async fn accept(
        &self,
        e: kefu_channel::InboundEnvelope,
    ) -> Result<kefu_channel::Accepted, IngestError> {
        let n = self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        if n == self.fail_at {
            return Err(IngestError::Unavailable("down".into()));
        }
        self.inner.accept(e).await
    }
}

#[tokio::test]
async fn api_failures_during_a_pull() {
    let s = setup_at(None).await;
    s.api
        .push_sync_page(json!({"errcode": -1, "errmsg": "system busy"}));
    let (uri, body) = kf_event();
    assert_eq!(
        mock::call(&s.router, "POST", &uri, body.clone()).await.0,
        StatusCode::SERVICE_UNAVAILABLE,
        "a transient failure makes WeCom retry"
    );
    // Refused with and without the callback token: configuration, not a stale value.
    for _ in 0..2 {
        s.api
            .push_sync_page(json!({"errcode": 95017, "errmsg": "api forbidden"}));
    }
    assert_eq!(
        mock::call(&s.router, "POST", &uri, body).await,
        (StatusCode::OK, "success".into()),
        "a configuration error is acknowledged: retries cannot fix it"
    );
}

#[tokio::test]
async fn a_callback_waits_for_a_running_pull_and_answers_503_when_it_runs_too_long() {
    let s = setup_at(Some(now())).await;
    // Another pull of the account holds it, as one on another node would; the callback waits
    // CALLBACK_WAIT (3 s) for it.
    let running = s
        .state
        .exclusive(1, CURSOR_KEY, Duration::ZERO)
        .await
        .expect("free");
    let (uri, body) = kf_event();
    assert_eq!(
        mock::call(&s.router, "POST", &uri, body.clone()).await.0,
        StatusCode::SERVICE_UNAVAILABLE,
        "WeCom retries a callback that could not pull in time"
    );
    assert!(s.api.sync_requests().is_empty(), "no overlapping pull");
    drop(running);
    s.api.push_sync_page(
        json!({"errcode": 0, "next_cursor": "c1", "has_more": 0, "msg_list": [customer_text("m1", "hi")]}),
    );
    assert_eq!(
        mock::call(&s.router, "POST", &uri, body).await,
        (StatusCode::OK, "success".into())
    );
    assert_eq!(s.sink.envelopes().len(), 1);
}

#[tokio::test]
async fn a_refused_token_or_cursor_does_not_block_the_inbox() {
    let s = setup_at(None).await;
    s.state
        .put(1, CURSOR_KEY, "forgotten-by-wecom")
        .await
        .expect("state");
    s.api.push_kf_message(customer_text("m1", "still arrives"));
    // Refused with the callback token, then refused with the stale cursor.
    s.api
        .push_sync_page(json!({"errcode": 95007, "errmsg": "invalid msg token"}));
    s.api
        .push_sync_page(json!({"errcode": 95007, "errmsg": "invalid cursor"}));
    let (uri, body) = kf_event();
    assert_eq!(
        mock::call(&s.router, "POST", &uri, body).await,
        (StatusCode::OK, "success".into())
    );
    let reqs = s.api.sync_requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[0]["token"], CB_TOKEN);
    assert_eq!(reqs[1]["cursor"], "forgotten-by-wecom");
    assert!(reqs[1].get("token").is_none());
    assert!(reqs[2].get("cursor").is_none());
    assert_eq!(s.sink.envelopes()[0].content.text, "still arrives");
    assert_eq!(
        s.state.get(1, CURSOR_KEY).await.expect("state").as_deref(),
        Some("1")
    );
}

#[tokio::test]
async fn callbacks_that_announce_nothing_for_this_inbox_are_acknowledged_without_a_pull() {
    let s = setup_at(None).await;
    for (uri, body) in [
        callback_request(W2_TOKEN, mock::CORP_ID, "wkSomeoneElse", "kf_msg_or_event"),
        callback_request(W2_TOKEN, mock::CORP_ID, KFID, "change_external_contact"),
    ] {
        assert_eq!(
            mock::call(&s.router, "POST", &uri, body).await,
            (StatusCode::OK, "success".into())
        );
    }
    assert!(s.api.sync_requests().is_empty());
}

#[tokio::test]
async fn forged_and_misaddressed_callbacks_are_refused() {
    let s = setup_at(None).await;
    let (uri, body) = callback_request("notTheToken", mock::CORP_ID, KFID, "kf_msg_or_event");
    assert_eq!(
        mock::call(&s.router, "POST", &uri, body).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (uri, body) = callback_request(W2_TOKEN, "wwAnotherCorp", KFID, "kf_msg_or_event");
    let (status, resp) = mock::call(&s.router, "POST", &uri, body).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{resp}");
    let (uri, _) = kf_event();
    assert_eq!(
        mock::call(&s.router, "POST", &uri, "<xml><Encrypt>")
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    let stale = uri.replace(&format!("timestamp={}", now()), "timestamp=1476416373");
    assert_eq!(
        mock::call(&s.router, "POST", &stale, "<xml/>").await.0,
        StatusCode::UNAUTHORIZED
    );
    assert!(s.api.sync_requests().is_empty());
    assert!(s.sink.is_empty());
}

fn outbound() -> OutboundMessage {
    OutboundMessage {
        message_id: 9,
        conversation_id: 3,
        inbox_id: 1,
        recipient: Recipient {
            external_id: "wmCustomer".into(),
            display_name: None,
        },
        content: Content::text("已发货"),
        agent_name: None,
        references: Vec::new(),
        subject: None,
        conversation_token: None,
        last_inbound_at: None,
        system: false,
    }
}

#[tokio::test]
async fn sends_with_send_msg_and_an_idempotency_msgid() {
    let s = setup_at(None).await;
    let inbox = Inboxes::default()
        .with(1, KIND, settings(&s.api.base))
        .0
        .remove(&1)
        .expect("inbox");
    let ch = s
        .factory
        .build(&inbox, &kefu_channel::testkit::build_context())
        .expect("builds");
    let receipt = ch.send(&outbound()).await.expect("sent");
    assert_eq!(receipt.provider_ref.as_deref(), Some("kefu-9"));
    assert_eq!(
        s.api.sends(),
        vec![
            json!({"touser": "wmCustomer", "open_kfid": KFID, "msgid": "kefu-9",
            "msgtype": "text", "text": {"content": "已发货"}})
        ]
    );
    assert_eq!(s.api.send_paths(), ["/cgi-bin/kf/send_msg"]);
}

#[tokio::test]
async fn run_pulls_at_start_and_stops_on_shutdown() {
    let s = setup_at(None).await;
    s.api
        .push_kf_message(customer_text("m1", "while we were down"));
    let inbox = Inboxes::default()
        .with(1, KIND, settings(&s.api.base))
        .0
        .remove(&1)
        .expect("inbox");
    let ch = s
        .factory
        .build(&inbox, &kefu_channel::testkit::build_context())
        .expect("builds");
    let shutdown = tokio_util::sync::CancellationToken::new();
    let cx = kefu_channel::ChannelContext {
        inbox_id: 1,
        inbound: s.sink.clone(),
        state: s.state.clone(),
        shutdown: shutdown.clone(),
    };
    let task = tokio::spawn(ch.run(cx));
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while s.sink.is_empty() && tokio::time::Instant::now() < deadline {
        tokio::task::yield_now().await;
    }
    assert_eq!(s.sink.envelopes()[0].content.text, "while we were down");
    assert!(s.api.sync_requests()[0].get("token").is_none());
    shutdown.cancel();
    task.await.expect("joins").expect("run ends cleanly");
}

#[test]
fn factory_surface() {
    let f = WecomKfFactory::new();
    assert_eq!(f.kind().as_str(), "wecom_kf");
    assert_eq!(
        f.secret_fields(),
        &["/secret", "/token", "/encoding_aes_key"]
    );
    assert!(f.validate(settings("https://qyapi.weixin.qq.com/")).is_ok());
    assert!(f.validate(json!({"corp_id": "ww1"})).is_err());
}
