//! A stand-in for an OpenAI-compatible API on loopback: `POST /v1/chat/completions` and
//! `POST /v1/embeddings` (each text's vector counts the words of a few [`CONCEPTS`], so
//! "carriage" is near "shipping" though they share no word). It records every request (path,
//! `Authorization`, JSON body) and answers each chat request with what the test's [`Reply`]
//! function says, so a test can assert both what Kefu sent (redacted) and what it made of the
//! answer.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// One request the mock got.
#[derive(Debug, Clone)]
pub struct LlmRequest {
    /// `/v1/chat/completions` or `/v1/embeddings`.
    pub path: String,
    /// The `Authorization` header, if any.
    pub authorization: Option<String>,
    /// The JSON body.
    pub body: Value,
}

impl LlmRequest {
    /// Every message's content of a chat request, joined: the text that left Kefu.
    pub fn text(&self) -> String {
        self.body["messages"]
            .as_array()
            .map(|m| {
                m.iter()
                    .filter_map(|m| m["content"].as_str())
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default()
    }

    /// Whether it asks for a summary (rather than a draft).
    pub fn is_summary(&self) -> bool {
        self.text().contains("You summarize")
    }
}

/// How the mock answers a chat request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 with this message content and this many `usage.total_tokens`.
    Content(String, u64),
    /// This status with this JSON body (an API error).
    Error(u16, Value),
    /// No answer at all (the request hangs until the client gives up).
    Hang,
}

type Script = Arc<dyn Fn(&LlmRequest) -> Reply + Send + Sync>;

struct Inner {
    requests: Mutex<Vec<LlmRequest>>,
    script: Mutex<Script>,
}

/// The running mock; stops when dropped with the test's runtime.
#[derive(Clone)]
pub struct LlmMock {
    /// The base URL to configure (`http://127.0.0.1:<port>/v1`).
    pub base_url: String,
    inner: Arc<Inner>,
}

impl LlmMock {
    /// Starts the mock answering every chat request with `script`.
    pub async fn start(script: impl Fn(&LlmRequest) -> Reply + Send + Sync + 'static) -> Self {
        let inner = Arc::new(Inner {
            requests: Mutex::new(Vec::new()),
            script: Mutex::new(Arc::new(script)),
        });
        let app = Router::new()
            .route("/v1/chat/completions", post(chat))
            .route("/v1/embeddings", post(embeddings))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("bind the mock");
        let addr = listener.local_addr().expect("mock address");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            base_url: format!("http://{addr}/v1"),
            inner,
        }
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<LlmRequest> {
        self.inner
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

fn record(inner: &Inner, path: &str, headers: &HeaderMap, body: Value) -> LlmRequest {
    let req = LlmRequest {
        path: path.to_owned(),
        authorization: headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        body,
    };
    inner
        .requests
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(req.clone());
    req
}

async fn chat(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let req = record(&inner, "/v1/chat/completions", &headers, body);
    let script = inner
        .script
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    match script(&req) {
        Reply::Content(content, tokens) => Json(json!({
            "id": "chatcmpl-mock",
            "object": "chat.completion",
            "model": req.body["model"],
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": tokens / 2, "completion_tokens": tokens - tokens / 2,
                      "total_tokens": tokens},
        }))
        .into_response(),
        Reply::Error(status, body) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            Json(body),
        )
            .into_response(),
        Reply::Hang => std::future::pending().await,
    }
}

/// The mock's embedding space: one dimension per concept, counting its words in the text.
pub const CONCEPTS: [&[&str]; 3] = [
    &["shipping", "carriage", "delivery", "运费"],
    &["password", "sign in", "log in", "密码"],
    &["refund", "money back", "退款"],
];

async fn embeddings(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let req = record(&inner, "/v1/embeddings", &headers, body);
    let inputs = req.body["input"].as_array().cloned().unwrap_or_default();
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let t = t.as_str().unwrap_or_default().to_lowercase();
            let v: Vec<usize> = CONCEPTS
                .iter()
                .map(|words| words.iter().map(|w| t.matches(w).count()).sum())
                .collect();
            json!({"object": "embedding", "index": i, "embedding": v})
        })
        .collect();
    Json(json!({"object": "list", "data": data})).into_response()
}
