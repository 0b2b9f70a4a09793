//! # kefu-fuzz — what Kefu's fuzz targets share
//!
//! The targets in `fuzz_targets/` feed hostile input to the code that reads what customers and
//! providers send: WeChat callback XML and its AES envelope, raw email and quote trimming, the
//! web chat widget's frames and sessions, the app API's request bodies, and an inbox's routing
//! configuration. Each calls the crates' public entry points — the ingress routers the gateway
//! mounts, not copies of their internals — and checks a property that must hold for every
//! input (no panic, no 5xx, errors shaped `{code, detail}`, round trips).
//!
//! This library holds the plumbing the router-level targets need: one Tokio runtime for the
//! whole process, an inbox lookup over fixed inboxes, and a one-shot HTTP call.
//!
//! Run a target with `cargo fuzz run <target>` from the repository root (see the README);
//! `fuzz/run.sh` is what CI runs.

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request};
use kefu_channel::testkit::{MemoryState, RecordingSink};
use kefu_channel::{
    ChannelKind, ConversationHistory, HistoryPage, InboxConfig, InboxLookup, IngestError,
    IngressContext,
};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt as _;

/// Largest response body a target reads.
const MAX_RESPONSE_BYTES: usize = 1 << 20;

/// The process's runtime: one current-thread runtime, built once, so an execution costs a
/// router call and not a thread pool.
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a current-thread runtime needs no resources that can be missing")
    })
}

/// Fixed inboxes, as Kefu's cached lookup would return them.
#[derive(Debug, Default, Clone)]
pub struct Inboxes(Vec<InboxConfig>);

impl Inboxes {
    /// Adds inbox `id` of type `kind` with `settings`.
    pub fn with(mut self, id: i64, kind: &str, settings: serde_json::Value) -> Self {
        self.0.push(InboxConfig {
            id,
            name: format!("inbox {id}"),
            kind: ChannelKind::new(kind),
            settings,
            public_token: format!("token-{id}"),
            public_url: "https://kefu.example.com".into(),
        });
        self
    }
}

#[async_trait]
impl InboxLookup for Inboxes {
    async fn inbox(&self, id: i64) -> Option<InboxConfig> {
        self.0.iter().find(|i| i.id == id).cloned()
    }
}

/// A history in which nobody has a conversation yet.
#[derive(Debug, Default)]
pub struct NoHistory;

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
}

/// A fresh ingress context over `inboxes`: a recording sink (returned too, to look at what
/// was stored) and empty channel state, so one execution cannot influence the next.
pub fn ingress_cx(inboxes: Inboxes) -> (IngressContext, Arc<RecordingSink>) {
    let sink = Arc::new(RecordingSink::new());
    let cx = IngressContext {
        inbound: sink.clone(),
        inboxes: Arc::new(inboxes),
        state: Arc::new(MemoryState::default()),
        history: Some(Arc::new(NoHistory)),
        shutdown: CancellationToken::new(),
    };
    (cx, sink)
}

/// One request through `router`: the status and the body.
pub async fn call(router: &Router, method: Method, uri: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
    let Ok(request) = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from(body))
    else {
        // Not a request a client could send (the URI does not parse); nothing to test.
        return (0, Vec::new());
    };
    let response = match router.clone().oneshot(request).await {
        Ok(r) => r,
        Err(never) => match never {},
    };
    let status = response.status().as_u16();
    let body = axum::body::to_bytes(response.into_body(), MAX_RESPONSE_BYTES)
        .await
        .map(|b| b.to_vec())
        .unwrap_or_default();
    (status, body)
}

/// Asserts that an error response is the API's `{code, detail}` with a snake_case code.
pub fn assert_api_error(status: u16, body: &[u8]) {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_else(|e| {
        panic!(
            "{status} body is not JSON ({e}): {:?}",
            String::from_utf8_lossy(body)
        )
    });
    let code = v["code"]
        .as_str()
        .unwrap_or_else(|| panic!("{status} without a code: {v}"));
    assert!(
        !code.is_empty() && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
        "{status} code is not snake_case: {code:?}"
    );
    assert!(v["detail"].is_string(), "{status} without a detail: {v}");
}

/// Percent-encodes a query string from pairs.
pub fn query(pairs: &[(&str, &str)]) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        q.append_pair(k, v);
    }
    q.finish()
}
