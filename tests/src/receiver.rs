//! A recording webhook receiver: a real HTTP server on loopback that stores every request
//! (headers, body, arrival time) and answers with scripted statuses.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tokio::sync::Notify;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    /// `webhook-id`.
    pub id: String,
    /// `webhook-timestamp`.
    pub timestamp: String,
    /// `webhook-signature`.
    pub signature: String,
    /// The raw body.
    pub body: Bytes,
    /// The status answered.
    pub status: u16,
    /// When it arrived.
    pub at: Instant,
    /// When it arrived, as wall-clock time (to compare with event timestamps).
    pub at_wall: chrono::DateTime<chrono::Utc>,
}

impl Received {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// How to answer the next requests.
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    /// This status with an empty body.
    Status(u16),
    /// 429/503 with a `Retry-After` of this many seconds.
    RetryAfter(u16, u64),
}

impl Receiver {
    /// Starts a receiver that records each request at once but answers 200 only after
    /// `delay`: a slow endpoint.
    pub async fn start_slow(delay: Duration) -> Self {
        let r = Self::start().await;
        *r.inner.delay.lock().unwrap_or_else(|p| p.into_inner()) = Some(delay);
        r
    }
}

#[derive(Default)]
struct Inner {
    script: Mutex<VecDeque<Answer>>,
    delay: Mutex<Option<Duration>>,
    got: Mutex<Vec<Received>>,
    notify: Notify,
}

/// The receiver; dropping it stops nothing (the server lives until the test ends).
#[derive(Clone)]
pub struct Receiver {
    /// `http://127.0.0.1:<port>/hook`.
    pub url: String,
    inner: Arc<Inner>,
}

impl Receiver {
    /// Starts a receiver answering 200 unless scripted otherwise.
    pub async fn start() -> Self {
        let inner = Arc::new(Inner::default());
        let app = Router::new()
            .route("/hook", axum::routing::post(hook))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind receiver");
        let addr: SocketAddr = listener.local_addr().expect("receiver addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            url: format!("http://{addr}/hook"),
            inner,
        }
    }

    /// Queues answers for the next requests; after them, 200.
    pub fn script(&self, answers: impl IntoIterator<Item = Answer>) {
        self.inner
            .script
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(answers);
    }

    /// Drops the answers not used yet: from now on, 200.
    pub fn clear_script(&self) {
        self.inner
            .script
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.inner
            .got
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Waits until `pred` holds for what was received, or `timeout` passes; returns what was
    /// received either way.
    pub async fn wait_until(
        &self,
        timeout: Duration,
        pred: impl Fn(&[Received]) -> bool,
    ) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.inner.notify.notified();
            let got = self.received();
            if pred(&got) || tokio::time::Instant::now() >= deadline {
                return got;
            }
            let _ = tokio::time::timeout_at(deadline, notified).await;
        }
    }
}

async fn hook(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> Response {
    let answer = inner
        .script
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .pop_front()
        .unwrap_or(Answer::Status(200));
    let h = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let status = match answer {
        Answer::Status(s) | Answer::RetryAfter(s, _) => s,
    };
    inner
        .got
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(Received {
            id: h("webhook-id"),
            timestamp: h("webhook-timestamp"),
            signature: h("webhook-signature"),
            body,
            status,
            at: Instant::now(),
            at_wall: chrono::Utc::now(),
        });
    inner.notify.notify_waiters();
    let delay = *inner.delay.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match answer {
        Answer::Status(_) => (code, format!("answer {status}")).into_response(),
        Answer::RetryAfter(_, secs) => {
            (code, [("retry-after", secs.to_string())], "slow down").into_response()
        }
    }
}
