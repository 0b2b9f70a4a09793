//! Test support: fake FCM and APNs servers, an in-memory stand-in for Kefu's storage, and a
//! [`TestApp`] that wires the real factory, ingress router and channel together.

#![allow(dead_code)]

pub mod apns;
pub mod fcm;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use kefu_channel::testkit::MemoryState;
use kefu_channel::{
    Accepted, Channel, ChannelFactory, ChannelKind, Content, ConversationHistory, HistoryMessage,
    HistoryPage, InboundEnvelope, InboundSink, InboxConfig, InboxLookup, IngestError,
    IngressContext, OutboundMessage, Recipient,
};
use kefu_channel_push::{PushFactory, user_hash};
use serde_json::{Value, json};
use tower::ServiceExt as _;

pub const INBOX: i64 = 31;
pub const SECRET: &str = "test-app-secret-0123456789";
pub const SERVICE_ACCOUNT: &str = include_str!("../../../fixtures/TEST-ONLY-service-account.json");

/// An APNs token (64 hex digits) numbered `i`.
pub fn apns_token(i: u32) -> String {
    format!("{i:08x}{}", "ab".repeat(28))
}

/// An FCM registration token numbered `i`.
pub fn fcm_token(i: u32) -> String {
    format!("fcm{i}:APA91bH-{}", "x".repeat(140))
}

/// Messages as Kefu would store them: per user one conversation, per conversation a seq.
#[derive(Default)]
pub struct MemoryKefu {
    st: Mutex<Mem>,
}

#[derive(Default)]
struct Mem {
    conversations: HashMap<(i64, String), i64>,
    messages: Vec<(i64, String, HistoryMessage, bool)>,
    keys: HashMap<(i64, String), Accepted>,
    fail_next: bool,
}

impl MemoryKefu {
    fn conversation(m: &mut Mem, inbox: i64, who: &str) -> i64 {
        let next = m.conversations.len() as i64 + 100;
        *m.conversations
            .entry((inbox, who.to_owned()))
            .or_insert(next)
    }

    fn append(
        m: &mut Mem,
        inbox: i64,
        who: &str,
        direction: &str,
        text: &str,
        private: bool,
    ) -> HistoryMessage {
        Self::conversation(m, inbox, who);
        let seq = m
            .messages
            .iter()
            .filter(|(i, w, _, _)| *i == inbox && w == who)
            .count() as i64
            + 1;
        let msg = HistoryMessage {
            id: m.messages.len() as i64 + 1000,
            seq,
            direction: if direction == "outbound" {
                kefu_channel::Direction::Outbound
            } else {
                kefu_channel::Direction::Inbound
            },
            sender_name: (direction == "outbound").then(|| "Alice".to_owned()),
            text: text.into(),
            menu: None,
            created_at: chrono::Utc::now(),
        };
        m.messages
            .push((inbox, who.to_owned(), msg.clone(), private));
        msg
    }

    /// Stores an agent reply (or private note) and returns what the dispatcher would send.
    pub fn reply(&self, who: &str, text: &str, private: bool) -> OutboundMessage {
        let mut m = self.st.lock().expect("lock");
        let msg = Self::append(&mut m, INBOX, who, "outbound", text, private);
        OutboundMessage {
            message_id: msg.id,
            conversation_id: Self::conversation(&mut m, INBOX, who),
            inbox_id: INBOX,
            recipient: Recipient {
                external_id: who.into(),
                display_name: None,
            },
            content: Content::text(text),
            agent_name: Some("Alice".into()),
            references: Vec::new(),
            subject: None,
            conversation_token: None,
            last_inbound_at: None,
            system: false,
        }
    }

    pub fn fail_next(&self) {
        self.st.lock().expect("lock").fail_next = true;
    }

    /// How many messages were stored.
    pub fn stored(&self) -> usize {
        self.st.lock().expect("lock").messages.len()
    }
}

#[async_trait]
impl InboundSink for MemoryKefu {
    async fn accept(&self, e: InboundEnvelope) -> Result<Accepted, IngestError> {
        let mut m = self.st.lock().expect("lock");
        if std::mem::take(&mut m.fail_next) {
            return Err(IngestError::Unavailable("scripted outage".into()));
        }
        let key = (e.inbox_id, e.dedupe_key.clone().unwrap_or_default());
        if let Some(a) = m.keys.get(&key) {
            return Ok(Accepted {
                duplicate: true,
                ..*a
            });
        }
        let msg = Self::append(
            &mut m,
            e.inbox_id,
            &e.sender.external_id,
            "inbound",
            &e.content.text,
            false,
        );
        let a = Accepted {
            message_id: msg.id,
            conversation_id: Self::conversation(&mut m, e.inbox_id, &e.sender.external_id),
            seq: msg.seq,
            duplicate: false,
        };
        m.keys.insert(key, a);
        Ok(a)
    }
}

#[async_trait]
impl ConversationHistory for MemoryKefu {
    async fn messages_after(
        &self,
        inbox: i64,
        who: &str,
        after: i64,
        limit: u64,
    ) -> Result<Option<HistoryPage>, IngestError> {
        let m = self.st.lock().expect("lock");
        let Some(conv) = m.conversations.get(&(inbox, who.to_owned())) else {
            return Ok(None);
        };
        let messages = m
            .messages
            .iter()
            .filter(|(i, w, msg, private)| *i == inbox && w == who && !private && msg.seq > after)
            .take(limit as usize)
            .map(|(_, _, msg, _)| msg.clone())
            .collect();
        Ok(Some(HistoryPage {
            conversation_id: *conv,
            messages,
        }))
    }

    async fn seq_of(&self, id: i64) -> Result<Option<i64>, IngestError> {
        let m = self.st.lock().expect("lock");
        Ok(m.messages
            .iter()
            .find(|(_, _, msg, _)| msg.id == id)
            .map(|(_, _, msg, _)| msg.seq))
    }
}

pub struct Inboxes(pub HashMap<i64, InboxConfig>);

#[async_trait]
impl InboxLookup for Inboxes {
    async fn inbox(&self, id: i64) -> Option<InboxConfig> {
        self.0.get(&id).cloned()
    }
}

/// The inbox settings pointing at the fakes.
pub fn settings(fcm: &fcm::FakeFcm, apns: &apns::FakeApns) -> Value {
    let mut sa: Value = serde_json::from_str(SERVICE_ACCOUNT).expect("fixture");
    sa["token_uri"] = json!(fcm.token_uri);
    json!({
        "app_secret": SECRET,
        "fcm": {"project_id": fcm::PROJECT, "service_account_json": sa.to_string(), "api_base": fcm.base},
        "apns": {"team_id": apns::TEAM_ID, "key_id": apns::KEY_ID, "private_key_pem": apns.p8, "topic": apns::TOPIC, "api_base": apns.base},
    })
}

/// The real factory, router and channel around fake providers.
pub struct TestApp {
    pub fcm: fcm::FakeFcm,
    pub apns: apns::FakeApns,
    pub router: Router,
    pub channel: Arc<dyn Channel>,
    pub factory: PushFactory,
}

pub struct Options {
    pub sink: Arc<dyn InboundSink>,
    pub history: Option<Arc<dyn ConversationHistory>>,
    pub tweak: Box<dyn FnOnce(&mut Value) + Send>,
    pub device_limit: (u32, u32),
}

impl Options {
    pub fn with_kefu(kefu: Arc<MemoryKefu>) -> Self {
        Self {
            sink: kefu.clone(),
            history: Some(kefu),
            tweak: Box::new(|_| {}),
            device_limit: (600, 100),
        }
    }
}

/// An HTTP client trusting the fake APNs server's CA, as `tls.extra_root_certs` makes the
/// gateway's client do.
pub fn http_client(apns: &apns::FakeApns) -> reqwest::Client {
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(apns.ca_pem.as_bytes()).expect("ca"))
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .expect("client")
}

impl TestApp {
    pub async fn start(opts: Options) -> Self {
        let (fcm, apns) = tokio::join!(fcm::FakeFcm::start(), apns::FakeApns::start());
        let mut settings = settings(&fcm, &apns);
        (opts.tweak)(&mut settings);
        let factory = PushFactory::new()
            .with_http_client(http_client(&apns))
            .with_device_limit(opts.device_limit.0, opts.device_limit.1);
        let settings = factory.validate(settings).expect("valid settings");
        let inbox = InboxConfig {
            id: INBOX,
            name: "app".into(),
            kind: ChannelKind::new("app_push"),
            settings,
            public_token: "pub".into(),
            public_url: "http://127.0.0.1".into(),
        };
        // One state and one history for the app API and the channel, as Kefu hands them.
        let state = Arc::new(MemoryState::default());
        let services = kefu_channel::BuildContext {
            state: state.clone(),
            history: opts.history.clone(),
        };
        let router = factory
            .ingress(IngressContext {
                inbound: opts.sink,
                inboxes: Arc::new(Inboxes(HashMap::from([(INBOX, inbox.clone())]))),
                state,
                history: opts.history,
                shutdown: tokio_util::sync::CancellationToken::new(),
            })
            .expect("app_push has ingress");
        let channel = factory.build(&inbox, &services).expect("builds");
        Self {
            fcm,
            apns,
            router,
            channel,
            factory,
        }
    }

    /// Calls the app API in memory; returns status and JSON body.
    pub async fn call(&self, method: &str, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        self.call_raw(method, uri, body).await
    }

    pub async fn call_raw(
        &self,
        method: &str,
        uri: &str,
        body: impl Into<Body>,
    ) -> (StatusCode, Value) {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", "application/json")
            .body(body.into())
            .expect("request");
        let resp = self.router.clone().oneshot(req).await.expect("infallible");
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .expect("body");
        let v = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| json!({"raw": String::from_utf8_lossy(&bytes)}));
        (status, v)
    }

    /// Registers a device for `who`; returns the status.
    pub async fn register(&self, who: &str, platform: &str, token: &str) -> StatusCode {
        let (s, body) = self
            .call(
                "POST",
                &format!("/{INBOX}/devices"),
                Some(json!({"external_id": who, "user_hash": user_hash(SECRET, who), "platform": platform, "token": token})),
            )
            .await;
        assert!(s.is_success(), "registration failed: {s} {body}");
        s
    }

    /// Posts a customer message; returns status and body.
    pub async fn post_message(
        &self,
        who: &str,
        client_id: &str,
        text: &str,
    ) -> (StatusCode, Value) {
        self.call(
            "POST",
            &format!("/{INBOX}/messages"),
            Some(json!({"external_id": who, "user_hash": user_hash(SECRET, who), "client_id": client_id, "text": text})),
        )
        .await
    }

    /// Syncs like the app does.
    pub async fn sync(&self, who: &str, after_seq: i64) -> (StatusCode, Value) {
        let uri = format!(
            "/{INBOX}/messages?external_id={who}&user_hash={}&after_seq={after_seq}",
            user_hash(SECRET, who)
        );
        self.call("GET", &uri, None).await
    }
}
