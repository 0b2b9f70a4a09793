//! Web chat passes the channel conformance suite through its real ingress: a widget socket
//! served on `127.0.0.1`, spoken to by a WebSocket client the way the widget does (`hello`
//! with a verified identity, then `message`), with Kefu replaced by the testkit's
//! [`RecordingSink`] and a host that knows one inbox.
//!
//! Web chat has no provider: replies reach visitors through Kefu's realtime hub and the replay
//! on return, so the suite's send classification does not apply ([`Harness::has_provider`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use futures::{SinkExt, StreamExt};
use kefu_channel::testkit::{Harness, ProviderOutcome, RecordingSink, Rejection, Sample};
use kefu_channel::{
    Channel, ChannelFactory, ChannelKind, ConversationHistory, HistoryPage, InboxConfig,
    IngestError, Recipient, ViewPage,
};
use kefu_channel_webchat::session::SessionKey;
use kefu_channel_webchat::{Frame, QueueSpot, WebChatFactory, Widget, WidgetHost, identity};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

const INBOX: i64 = 7;
const TOKEN: &str = "website-token-7";
const SECRET: &str = "conformance-hmac-secret";

fn inbox() -> InboxConfig {
    InboxConfig {
        id: INBOX,
        name: "Website".into(),
        kind: ChannelKind::new(kefu_channel_webchat::KIND),
        settings: json!({"hmac_secret": SECRET}),
        public_token: TOKEN.into(),
        public_url: "http://127.0.0.1".into(),
    }
}

/// Kefu's side of the socket, for one inbox and no realtime traffic.
struct OneInbox {
    next: AtomicU64,
}

#[async_trait]
impl WidgetHost for OneInbox {
    async fn inbox_by_token(&self, token: &str) -> Result<Option<InboxConfig>, IngestError> {
        Ok((token == TOKEN).then(inbox))
    }
    fn follow(&self, _conversation: i64, _tx: mpsc::Sender<Frame>) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }
    fn unfollow(&self, _conversation: i64, _id: u64) {}
    fn watch_user(&self, _inbox: i64, _external_id: &str, _tx: mpsc::Sender<i64>) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }
    fn unwatch_user(&self, _inbox: i64, _external_id: &str, _id: u64) {}
    fn typing(&self, _conversation: i64, _on: bool) {}
    async fn queue_spot(&self, _conversation: i64) -> Option<QueueSpot> {
        None
    }
    async fn mark_read(&self, _conversation: i64, _seq: i64) {}
}

/// No visitor has history yet: every `hello` starts fresh.
struct NoHistory;

#[async_trait]
impl ConversationHistory for NoHistory {
    async fn messages_after(
        &self,
        _inbox_id: i64,
        _external_id: &str,
        _after_seq: i64,
        _limit: u64,
    ) -> Result<Option<HistoryPage>, IngestError> {
        Ok(None)
    }
    async fn views_after(
        &self,
        _inbox_id: i64,
        _external_id: &str,
        _after_seq: i64,
        _limit: u64,
    ) -> Result<Option<ViewPage>, IngestError> {
        Ok(None)
    }
}

struct WebChatHarness {
    url: String,
    sink: Arc<RecordingSink>,
    channel: Arc<dyn Channel>,
    _stop: CancellationToken,
}

impl WebChatHarness {
    async fn start() -> Self {
        let sink = Arc::new(RecordingSink::new());
        let stop = CancellationToken::new();
        let widget = Widget {
            inbound: sink.clone(),
            history: Arc::new(NoHistory),
            host: Arc::new(OneInbox {
                next: AtomicU64::new(1),
            }),
            sessions: SessionKey::new([9; 32]),
            shutdown: stop.clone(),
            abuse: Default::default(),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        let shutdown = stop.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, widget.router())
                .with_graceful_shutdown(shutdown.cancelled_owned())
                .await;
        });
        let channel = WebChatFactory
            .build(&inbox(), &kefu_channel::testkit::build_context())
            .expect("web chat builds");
        Self {
            url: format!("ws://{addr}{}", kefu_channel_webchat::socket::PATH),
            sink,
            channel,
            _stop: stop,
        }
    }

    /// Says `hello` as `sender` with `user_hash`, then sends the sample; `Ok` on its `ack`.
    async fn chat(&self, sample: &Sample, user_hash: String) -> Result<(), Rejection> {
        let (mut ws, _) = tokio_tungstenite::connect_async(self.url.as_str())
            .await
            .map_err(|e| Rejection(format!("connect: {e}")))?;
        let hello = json!({"type": "hello", "website_token": TOKEN,
            "identity": {"user_id": sample.sender, "user_hash": user_hash}});
        ws.send(Message::Text(hello.to_string().into()))
            .await
            .map_err(|e| Rejection(format!("hello: {e}")))?;
        next_frame(&mut ws, "welcome").await?;
        let msg = json!({"type": "message", "client_id": sample.provider_id, "text": sample.text});
        ws.send(Message::Text(msg.to_string().into()))
            .await
            .map_err(|e| Rejection(format!("message: {e}")))?;
        let ack = next_frame(&mut ws, "ack").await?;
        if ack["client_id"] != sample.provider_id.as_str() {
            return Err(Rejection(format!("ack for another message: {ack}")));
        }
        let _ = ws.close(None).await;
        Ok(())
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next frame, which must be of type `kind`: an `error` frame or a closed socket is the
/// rejection. Gives up after 10 s.
async fn next_frame(ws: &mut Ws, kind: &str) -> Result<Value, Rejection> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .map_err(|_| Rejection(format!("no {kind} frame within 10 s")))?;
        let text = match msg {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => return Err(Rejection(format!("socket ended: {other:?}"))),
        };
        let v: Value =
            serde_json::from_str(text.as_str()).map_err(|e| Rejection(format!("not JSON: {e}")))?;
        if v["type"] == kind {
            return Ok(v);
        }
        return Err(Rejection(format!("expected {kind}, got {v}")));
    }
}

#[async_trait]
impl Harness for WebChatHarness {
    fn channel(&self) -> Arc<dyn Channel> {
        self.channel.clone()
    }

    fn inbox_id(&self) -> i64 {
        INBOX
    }

    fn sink(&self) -> &RecordingSink {
        &self.sink
    }

    async fn inject(&self, sample: &Sample) -> Result<(), Rejection> {
        self.chat(sample, identity::user_hash(SECRET, &sample.sender))
            .await
    }

    async fn inject_forged(&self, sample: &Sample) -> Result<(), Rejection> {
        // Signed with another secret: someone posing as one of the website's users.
        self.chat(
            sample,
            identity::user_hash("not-the-inbox-secret", &sample.sender),
        )
        .await
    }

    async fn script_send(&self, _outcome: ProviderOutcome) {}

    fn recipient(&self) -> Recipient {
        Recipient {
            external_id: "user:kefu-ck-user".into(),
            ..Recipient::default()
        }
    }

    fn external_id(&self, sender: &str) -> String {
        format!("user:{sender}")
    }

    fn has_provider(&self) -> bool {
        false
    }
}

#[tokio::test]
async fn web_chat_passes_the_testkit() {
    let harness = WebChatHarness::start().await;
    kefu_channel::testkit::run_conformance(&harness).await;
}

#[tokio::test]
async fn a_message_the_sink_refuses_is_not_acknowledged_and_the_resend_is() {
    let harness = WebChatHarness::start().await;
    let sample = Sample {
        provider_id: "c-1".into(),
        sender: "42".into(),
        text: "hello".into(),
    };
    harness.sink.fail_next();
    let refused = harness
        .inject(&sample)
        .await
        .expect_err("storage failed, so no ack");
    assert!(refused.0.contains("unavailable"), "{refused:?}");
    harness.inject(&sample).await.expect("the resend is stored");
    let envs = harness.sink.envelopes();
    assert_eq!(envs.len(), 1, "the refused attempt stored nothing");
    assert_eq!(envs[0].sender.external_id, "user:42");
    assert_eq!(envs[0].inbox_id, INBOX);
}
