//! A local server speaking the APNs provider API: HTTP/2 only, over TLS with a certificate
//! from a test CA that the client trusts through configuration.
//!
//! `POST /3/device/<token>` verifies the ES256 provider token with the key's public half
//! (`kid`, `iss` = team id, `iat` under an hour old), checks `apns-topic`, `apns-push-type`,
//! the token's form and the 4096-byte limit, records the push and answers with a scripted error
//! or 200 and an `apns-id`.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, Version};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

pub const TEAM_ID: &str = "TEAM123456";
pub const KEY_ID: &str = "KEY1234567";
pub const TOPIC: &str = "dev.kefu.app";

/// A scripted answer to one push.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub reason: &'static str,
    pub retry_after: Option<u64>,
}

impl Reply {
    pub fn new(status: u16, reason: &'static str) -> Self {
        Self {
            status,
            reason,
            retry_after: None,
        }
    }
}

/// One accepted push.
#[derive(Debug, Clone)]
pub struct Sent {
    pub token: String,
    pub headers: HashMap<String, String>,
    pub payload: Value,
    pub jwt: String,
    /// When the server accepted it.
    pub at: std::time::Instant,
}

#[derive(Default)]
struct St {
    sent: Vec<Sent>,
    attempts: usize,
    bad_jwts: usize,
    jwts: Vec<String>,
    script: VecDeque<Reply>,
    per_token: HashMap<String, VecDeque<Reply>>,
}

#[derive(Clone)]
pub struct FakeApns {
    pub base: String,
    /// The PEM of the CA that signed the server's certificate.
    pub ca_pem: String,
    /// The `.p8` key the provider signs with (PKCS#8 PEM).
    pub p8: String,
    st: Arc<Mutex<St>>,
    changed: Arc<tokio::sync::Notify>,
}

#[derive(Clone)]
struct Shared {
    st: Arc<Mutex<St>>,
    key: DecodingKey,
    changed: Arc<tokio::sync::Notify>,
}

#[derive(Deserialize)]
struct Claims {
    iss: String,
    iat: i64,
}

fn reply(r: &Reply, apns_id: Option<String>) -> Response {
    let status = StatusCode::from_u16(r.status).expect("status");
    let mut resp = if status.is_success() {
        status.into_response()
    } else {
        let mut body = json!({"reason": r.reason});
        if r.status == 410 {
            body["timestamp"] = json!(chrono::Utc::now().timestamp_millis());
        }
        (status, axum::Json(body)).into_response()
    };
    if let Some(id) = apns_id {
        resp.headers_mut()
            .insert("apns-id", id.parse().expect("header"));
    }
    if let Some(s) = r.retry_after {
        resp.headers_mut()
            .insert("retry-after", s.to_string().parse().expect("header"));
    }
    resp
}

fn verify_jwt(jwt: &str, key: &DecodingKey) -> bool {
    let Ok(header) = jsonwebtoken::decode_header(jwt) else {
        return false;
    };
    let mut v = Validation::new(Algorithm::ES256);
    v.validate_exp = false;
    v.set_required_spec_claims(&["iss"]);
    v.set_issuer(&[TEAM_ID]);
    let now = chrono::Utc::now().timestamp();
    header.kid.as_deref() == Some(KEY_ID)
        && jsonwebtoken::decode::<Claims>(jwt, key, &v).is_ok_and(|t| {
            t.claims.iss == TEAM_ID && t.claims.iat > now - 3600 && t.claims.iat <= now + 60
        })
}

async fn push(State(s): State<Shared>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let path = parts.uri.path().to_owned();
    let h = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let jwt = h("authorization")
        .strip_prefix("bearer ")
        .unwrap_or_default()
        .to_owned();
    let token = path
        .strip_prefix("/3/device/")
        .unwrap_or_default()
        .to_owned();
    let mut st = s.st.lock().expect("lock");
    st.attempts += 1;
    st.jwts.push(jwt.clone());
    // Scripted answers come first: they stand for what Apple decides.
    let scripted = st
        .per_token
        .get_mut(&token)
        .and_then(VecDeque::pop_front)
        .or_else(|| st.script.pop_front());
    let r = if parts.version != Version::HTTP_2 {
        Reply::new(400, "HTTP2Required")
    } else if !verify_jwt(&jwt, &s.key) {
        st.bad_jwts += 1;
        Reply::new(403, "InvalidProviderToken")
    } else if let Some(r) = scripted {
        r
    } else if h("apns-topic") != TOPIC {
        Reply::new(400, "BadTopic")
    } else if h("apns-push-type") != "alert" {
        Reply::new(400, "InvalidPushType")
    } else if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        Reply::new(400, "BadDeviceToken")
    } else if body.len() > 4096 {
        Reply::new(413, "PayloadTooLarge")
    } else {
        let headers = parts
            .headers
            .iter()
            .filter(|(k, _)| k.as_str().starts_with("apns-"))
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    v.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let payload = serde_json::from_slice(&body).unwrap_or_default();
        let n = st.sent.len() + 1;
        st.sent.push(Sent {
            token,
            headers,
            payload,
            jwt,
            at: std::time::Instant::now(),
        });
        drop(st);
        s.changed.notify_waiters();
        return reply(
            &Reply::new(200, ""),
            Some(format!("00000000-0000-4000-8000-{n:012}")),
        );
    };
    reply(&r, None)
}

impl FakeApns {
    pub async fn start() -> Self {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
        let ca_key = KeyPair::generate().expect("ca key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = ca_params.self_signed(&ca_key).expect("ca cert");
        let leaf_key = KeyPair::generate().expect("leaf key");
        let leaf = CertificateParams::new(vec!["localhost".to_owned()])
            .expect("leaf params")
            .signed_by(&leaf_key, &ca, &ca_key)
            .expect("leaf cert");
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let mut tls = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("tls versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(leaf.der().to_vec())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
            )
            .expect("tls config");
        // Like Apple: HTTP/2 only.
        tls.alpn_protocols = vec![b"h2".to_vec()];
        let acceptor = TlsAcceptor::from(Arc::new(tls));

        let signing = KeyPair::generate().expect("p8 key");
        let st = Arc::new(Mutex::new(St::default()));
        let changed = Arc::new(tokio::sync::Notify::new());
        let shared = Shared {
            st: st.clone(),
            changed: changed.clone(),
            key: DecodingKey::from_ec_pem(signing.public_key_pem().as_bytes()).expect("public key"),
        };
        let app = Router::new()
            .route("/3/device/{token}", axum::routing::post(push))
            .with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let acceptor = acceptor.clone();
                let app = app.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(tls), TowerToHyperService::new(app))
                        .await;
                });
            }
        });
        Self {
            base: format!("https://localhost:{port}"),
            ca_pem: ca.pem(),
            p8: signing.serialize_pem(),
            st,
            changed,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, St> {
        self.st.lock().expect("lock")
    }

    pub fn script(&self, r: Reply) {
        self.lock().script.push_back(r);
    }
    pub fn script_for(&self, token: &str, r: Reply) {
        self.lock()
            .per_token
            .entry(token.to_owned())
            .or_default()
            .push_back(r);
    }
    pub fn sent(&self) -> Vec<Sent> {
        self.lock().sent.clone()
    }
    pub fn attempts(&self) -> usize {
        self.lock().attempts
    }
    pub fn bad_jwts(&self) -> usize {
        self.lock().bad_jwts
    }
    /// Waits until `n` pushes were accepted or `limit` passed.
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
    /// Every provider token presented, in order.
    pub fn jwts(&self) -> Vec<String> {
        self.lock().jwts.clone()
    }
}
