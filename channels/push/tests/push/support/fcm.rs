//! A local server speaking FCM HTTP v1 and Google's OAuth2 JWT-bearer grant.
//!
//! - `POST /token`: verifies the RS256 assertion with the service account's public key
//!   (issuer, audience = this endpoint, FCM scope, at most an hour long) and issues an access
//!   token.
//! - `POST /v1/projects/{project}/messages:send`: requires an access token it issued, checks
//!   the message shape (one token, string data values, 4096 bytes), records it, and answers
//!   with a scripted error or `{"name": "projects/.../messages/<n>"}`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Notify;

pub const PROJECT: &str = "kefu-test";
pub const CLIENT_EMAIL: &str = "kefu-test@kefu-test.iam.gserviceaccount.example";
const PUBLIC_KEY: &str = include_str!("../../../fixtures/TEST-ONLY-service-account.pub.pem");

/// A scripted answer to one send.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub retry_after: Option<u64>,
}

impl Reply {
    pub fn error(status: u16, grpc: &str, code: &str, message: &str) -> Self {
        Self {
            status,
            body: json!({"error": {"code": status, "message": message, "status": grpc, "details": [
                {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}
            ]}}),
            retry_after: None,
        }
    }
    pub fn unregistered() -> Self {
        Self::error(
            404,
            "NOT_FOUND",
            "UNREGISTERED",
            "Requested entity was not found.",
        )
    }
    pub fn invalid_token() -> Self {
        Self::error(
            400,
            "INVALID_ARGUMENT",
            "INVALID_ARGUMENT",
            "The registration token is not a valid FCM registration token",
        )
    }
    pub fn unavailable(retry_after: Option<u64>) -> Self {
        Self {
            retry_after,
            ..Self::error(
                503,
                "UNAVAILABLE",
                "UNAVAILABLE",
                "The service is currently unavailable.",
            )
        }
    }
    pub fn quota(retry_after: u64) -> Self {
        Self {
            retry_after: Some(retry_after),
            ..Self::error(
                429,
                "RESOURCE_EXHAUSTED",
                "QUOTA_EXCEEDED",
                "Quota exceeded.",
            )
        }
    }
    pub fn unauthenticated() -> Self {
        Self {
            status: 401,
            body: json!({"error": {"code": 401, "message": "Request had invalid authentication credentials.", "status": "UNAUTHENTICATED"}}),
            retry_after: None,
        }
    }
}

/// One accepted message.
#[derive(Debug, Clone)]
pub struct Sent {
    pub token: String,
    pub message: Value,
    /// When the server accepted it.
    pub at: std::time::Instant,
}

#[derive(Default)]
struct St {
    issued: HashSet<String>,
    token_requests: usize,
    bad_assertions: usize,
    sent: Vec<Sent>,
    attempts: usize,
    script: VecDeque<Reply>,
    per_token: HashMap<String, VecDeque<Reply>>,
}

#[derive(Clone)]
pub struct FakeFcm {
    pub base: String,
    pub token_uri: String,
    st: Arc<Mutex<St>>,
    changed: Arc<Notify>,
}

#[derive(Clone)]
struct Shared {
    st: Arc<Mutex<St>>,
    changed: Arc<Notify>,
    token_uri: String,
    key: DecodingKey,
}

#[derive(Deserialize)]
struct Grant {
    grant_type: String,
    assertion: String,
}

#[derive(Deserialize)]
struct Claims {
    iss: String,
    scope: String,
    iat: i64,
    exp: i64,
}

async fn token(State(s): State<Shared>, Form(g): Form<Grant>) -> Response {
    let mut v = Validation::new(Algorithm::RS256);
    v.set_audience(&[&s.token_uri]);
    v.set_issuer(&[CLIENT_EMAIL]);
    v.set_required_spec_claims(&["exp", "iat", "aud", "iss"]);
    let verified = jsonwebtoken::decode::<Claims>(&g.assertion, &s.key, &v)
        .ok()
        .filter(|t| {
            g.grant_type == "urn:ietf:params:oauth:grant-type:jwt-bearer"
                && t.claims.iss == CLIENT_EMAIL
                && t.claims
                    .scope
                    .split(' ')
                    .any(|x| x == "https://www.googleapis.com/auth/firebase.messaging")
                && t.claims.exp - t.claims.iat <= 3600
        });
    let mut st = s.st.lock().expect("lock");
    st.token_requests += 1;
    if verified.is_none() {
        st.bad_assertions += 1;
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(
                json!({"error": "invalid_grant", "error_description": "Invalid JWT Signature."}),
            ),
        )
            .into_response();
    }
    let t = format!("ya29.test-{}", st.token_requests);
    st.issued.insert(t.clone());
    axum::Json(json!({"access_token": t, "expires_in": 3599, "token_type": "Bearer"}))
        .into_response()
}

fn answer(r: Reply) -> Response {
    let mut resp = (
        StatusCode::from_u16(r.status).expect("status"),
        axum::Json(r.body),
    )
        .into_response();
    if let Some(s) = r.retry_after {
        resp.headers_mut()
            .insert("retry-after", s.to_string().parse().expect("header"));
    }
    resp
}

async fn send(
    State(s): State<Shared>,
    Path(project): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let reply = {
        let mut st = s.st.lock().expect("lock");
        st.attempts += 1;
        let bearer = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !st.issued.contains(bearer) {
            drop(st);
            s.changed.notify_waiters();
            return answer(Reply::unauthenticated());
        }
        let v: Value = serde_json::from_str(&body).unwrap_or_default();
        let m = &v["message"];
        let token = m["token"].as_str().unwrap_or_default().to_owned();
        let data_ok = m["data"]
            .as_object()
            .is_some_and(|d| d.values().all(Value::is_string));
        let size: usize = m["data"].as_object().map_or(0, |d| {
            d.iter()
                .map(|(k, v)| k.len() + v.as_str().map_or(0, str::len))
                .sum()
        }) + m["notification"]["title"].as_str().map_or(0, str::len)
            + m["notification"]["body"].as_str().map_or(0, str::len);
        let scripted = st
            .per_token
            .get_mut(&token)
            .and_then(VecDeque::pop_front)
            .or_else(|| st.script.pop_front());
        if project != PROJECT || token.is_empty() || !data_ok || size > 4096 {
            Reply::error(
                400,
                "INVALID_ARGUMENT",
                "INVALID_ARGUMENT",
                "Request contains an invalid argument.",
            )
        } else if let Some(r) = scripted {
            r
        } else {
            st.sent.push(Sent {
                token,
                message: m.clone(),
                at: std::time::Instant::now(),
            });
            Reply {
                status: 200,
                body: json!({"name": format!("projects/{PROJECT}/messages/{}", st.sent.len())}),
                retry_after: None,
            }
        }
    };
    s.changed.notify_waiters();
    answer(reply)
}

impl FakeFcm {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let token_uri = format!("{base}/token");
        let st = Arc::new(Mutex::new(St::default()));
        let changed = Arc::new(Notify::new());
        let shared = Shared {
            st: st.clone(),
            changed: changed.clone(),
            token_uri: token_uri.clone(),
            key: DecodingKey::from_rsa_pem(PUBLIC_KEY.as_bytes()).expect("public key"),
        };
        let app = Router::new()
            .route("/token", post(token))
            .route("/v1/projects/{project}/messages:send", post(send))
            .with_state(shared);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            base,
            token_uri,
            st,
            changed,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, St> {
        self.st.lock().expect("lock")
    }

    /// Answers the next send (to any token) with `r`.
    pub fn script(&self, r: Reply) {
        self.lock().script.push_back(r);
    }

    /// Answers the next send to `token` with `r`.
    pub fn script_for(&self, token: &str, r: Reply) {
        self.lock()
            .per_token
            .entry(token.to_owned())
            .or_default()
            .push_back(r);
    }

    /// Forgets every access token issued so far, as if Google revoked them.
    pub fn revoke_access_tokens(&self) {
        self.lock().issued.clear();
    }

    pub fn sent(&self) -> Vec<Sent> {
        self.lock().sent.clone()
    }
    pub fn attempts(&self) -> usize {
        self.lock().attempts
    }
    pub fn token_requests(&self) -> usize {
        self.lock().token_requests
    }
    pub fn bad_assertions(&self) -> usize {
        self.lock().bad_assertions
    }

    /// Waits (bounded) until `n` sends were accepted.
    pub async fn wait_sent(&self, n: usize) -> Vec<Sent> {
        self.wait_sent_within(n, std::time::Duration::from_secs(10))
            .await
    }

    /// Waits until `n` sends were accepted or `limit` passed.
    pub async fn wait_sent_within(&self, n: usize, limit: std::time::Duration) -> Vec<Sent> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let notified = self.changed.notified();
            let sent = self.sent();
            if sent.len() >= n || tokio::time::Instant::now() >= deadline {
                return sent;
            }
            let _ = tokio::time::timeout_at(deadline, notified).await;
        }
    }
}
