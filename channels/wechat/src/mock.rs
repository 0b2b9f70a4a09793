//! A local WeChat/WeCom API server on 127.0.0.1:0 that speaks the documented protocol, for
//! tests: access tokens, customer-service send, WeCom kf `send_msg` and `sync_msg`, temporary
//! material upload (`media/upload`, multipart field `media`) and download (`media/get`).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::collections::HashMap;
use tokio::sync::watch;

pub(crate) const APP_ID: &str = "wx49f0ab532d5d035a";
pub(crate) const CORP_ID: &str = "ww1436e0e65a779aee";
pub(crate) const SECRET: &str = "the-app-secret";

/// How the mock answers the next send.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Scripted {
    /// Answer normally (to script a later call).
    Ok,
    Errcode(i64),
    Http(u16, Option<u64>),
    /// The token the send carries is declared expired (42001) without a script entry being
    /// used up, as happens when another node refreshed it.
    ExpireToken,
}

#[derive(Default)]
struct Inner {
    token_fetches: usize,
    current: Option<String>,
    expires_in: u64,
    token_error: Option<i64>,
    script: VecDeque<Scripted>,
    sends: Vec<Value>,
    send_paths: Vec<String>,
    sync_pages: VecDeque<Value>,
    sync_requests: Vec<Value>,
    /// Messages served by cursor (the index into this log) once `sync_pages` is empty.
    kf_log: Vec<Value>,
    page_size: usize,
    uploads: Vec<Upload>,
    /// Media by id: uploaded, or put there by a test as if a customer had sent it.
    media: HashMap<String, Media>,
}

/// One file received by `media/upload`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Upload {
    pub(crate) media_type: String,
    pub(crate) file_name: String,
    pub(crate) content_type: Option<String>,
    pub(crate) data: Vec<u8>,
    pub(crate) media_id: String,
}

#[derive(Debug, Clone)]
struct Media {
    data: Vec<u8>,
    mime: String,
    /// Official Account videos are not served directly: `media/get` answers a `video_url`.
    video: bool,
}

pub(crate) struct MockWeChat {
    pub(crate) base: String,
    inner: Arc<Mutex<Inner>>,
    gate: Arc<watch::Sender<bool>>,
    token_requested: Arc<tokio::sync::Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for MockWeChat {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Clone)]
struct St {
    inner: Arc<Mutex<Inner>>,
    gate: Arc<watch::Sender<bool>>,
    token_requested: Arc<tokio::sync::Notify>,
    base: String,
}

impl St {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl MockWeChat {
    pub(crate) async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let inner = Arc::new(Mutex::new(Inner {
            expires_in: 7200,
            page_size: 1000,
            ..Inner::default()
        }));
        let (gate, _) = watch::channel(true);
        let st = St {
            inner: inner.clone(),
            gate: Arc::new(gate),
            token_requested: Arc::new(tokio::sync::Notify::new()),
            base: format!("http://{addr}"),
        };
        let app = Router::new()
            .route("/cgi-bin/token", get(token))
            .route("/cgi-bin/gettoken", get(token))
            .route("/cgi-bin/message/custom/send", post(send))
            .route("/cgi-bin/kf/send_msg", post(send))
            .route("/cgi-bin/kf/sync_msg", post(sync_msg))
            .route(
                "/cgi-bin/media/upload",
                post(upload).layer(DefaultBodyLimit::max(32 * 1024 * 1024)),
            )
            .route("/cgi-bin/media/get", get(media_get))
            .route("/video/{media_id}", get(video))
            .with_state(st.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            base: format!("http://{addr}"),
            inner,
            gate: st.gate,
            token_requested: st.token_requested,
            task,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn script(&self, s: Scripted) {
        self.lock().script.push_back(s);
    }

    pub(crate) fn set_expires_in(&self, secs: u64) {
        self.lock().expires_in = secs;
    }

    pub(crate) fn fail_token_endpoint(&self, errcode: i64) {
        self.lock().token_error = Some(errcode);
    }

    pub(crate) fn token_fetches(&self) -> usize {
        self.lock().token_fetches
    }

    pub(crate) fn sends(&self) -> Vec<Value> {
        self.lock().sends.clone()
    }

    pub(crate) fn send_paths(&self) -> Vec<String> {
        self.lock().send_paths.clone()
    }

    pub(crate) fn push_sync_page(&self, page: Value) {
        self.lock().sync_pages.push_back(page);
    }

    /// Appends a customer message to the kf log unless its msgid is there already.
    pub(crate) fn push_kf_message(&self, msg: Value) {
        let mut g = self.lock();
        if !g.kf_log.iter().any(|m| m["msgid"] == msg["msgid"]) {
            g.kf_log.push(msg);
        }
    }

    pub(crate) fn set_page_size(&self, n: usize) {
        self.lock().page_size = n;
    }

    pub(crate) fn sync_requests(&self) -> Vec<Value> {
        self.lock().sync_requests.clone()
    }

    pub(crate) fn uploads(&self) -> Vec<Upload> {
        self.lock().uploads.clone()
    }

    /// Stores media as if a customer had sent it; `video` serves it the Official Account way.
    pub(crate) fn put_media(&self, media_id: &str, data: &[u8], mime: &str, video: bool) {
        self.lock().media.insert(
            media_id.to_owned(),
            Media {
                data: data.to_vec(),
                mime: mime.to_owned(),
                video,
            },
        );
    }

    /// Holds token requests until [`release_tokens`](Self::release_tokens).
    pub(crate) fn hold_tokens(&self) {
        self.gate.send_replace(false);
    }

    pub(crate) fn release_tokens(&self) {
        self.gate.send_replace(true);
    }

    /// Resolves once a token request has arrived (registered before the request is made).
    pub(crate) fn token_requested(&self) -> tokio::sync::futures::Notified<'_> {
        self.token_requested.notified()
    }
}

async fn token(State(st): State<St>, Query(q): Query<HashMap<String, String>>) -> Json<Value> {
    st.token_requested.notify_waiters();
    let mut open = st.gate.subscribe();
    let _ = open.wait_for(|o| *o).await;
    let mut g = st.lock();
    g.token_fetches += 1;
    if let Some(code) = g.token_error {
        return Json(json!({"errcode": code, "errmsg": "scripted token failure"}));
    }
    let id = q.get("appid").or_else(|| q.get("corpid"));
    let secret = q.get("secret").or_else(|| q.get("corpsecret"));
    let id_ok = id.is_some_and(|i| i == APP_ID || i == CORP_ID);
    let grant_ok = q.contains_key("corpid")
        || q.get("grant_type").map(String::as_str) == Some("client_credential");
    if !id_ok || !grant_ok || secret.map(String::as_str) != Some(SECRET) {
        return Json(json!({"errcode": 40125, "errmsg": "invalid appsecret"}));
    }
    let token = format!("token-{}", g.token_fetches);
    g.current = Some(token.clone());
    Json(json!({"access_token": token, "expires_in": g.expires_in}))
}

fn check_token(g: &Inner, q: &HashMap<String, String>) -> Option<Value> {
    match (q.get("access_token"), &g.current) {
        (Some(t), Some(c)) if t == c => None,
        (Some(_), _) => Some(
            json!({"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"}),
        ),
        (None, _) => Some(json!({"errcode": 41001, "errmsg": "access_token missing"})),
    }
}

async fn send(
    State(st): State<St>,
    uri: axum::http::Uri,
    Query(q): Query<HashMap<String, String>>,
    Json(body): Json<Value>,
) -> Response {
    let mut g = st.lock();
    if let Some(err) = check_token(&g, &q) {
        return Json(err).into_response();
    }
    match g.script.pop_front() {
        None | Some(Scripted::Ok) => {
            g.sends.push(body.clone());
            g.send_paths.push(uri.path().to_owned());
            let msgid = body
                .get("msgid")
                .cloned()
                .unwrap_or_else(|| json!("mock-msgid"));
            Json(json!({"errcode": 0, "errmsg": "ok", "msgid": msgid})).into_response()
        }
        Some(Scripted::Errcode(code)) => {
            Json(json!({"errcode": code, "errmsg": "scripted"})).into_response()
        }
        Some(Scripted::Http(status, retry_after)) => {
            let mut headers = HeaderMap::new();
            if let Some(secs) = retry_after {
                headers.insert("retry-after", secs.into());
            }
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
            (status, headers, "upstream trouble").into_response()
        }
        Some(Scripted::ExpireToken) => {
            g.current = None;
            Json(json!({"errcode": 42001, "errmsg": "access_token expired"})).into_response()
        }
    }
}

/// Size limits of temporary material by type (image 10 MB, voice 2 MB, video 10 MB, thumb
/// 64 KB, WeCom file 20 MB) and the errcodes WeChat answers beyond them.
fn upload_limit(media_type: &str) -> Option<(usize, i64)> {
    const MB: usize = 1024 * 1024;
    match media_type {
        "image" => Some((10 * MB, 40009)),
        "voice" => Some((2 * MB, 40010)),
        "video" => Some((10 * MB, 40011)),
        "thumb" => Some((64 * 1024, 40009)),
        "file" => Some((20 * MB, 40006)),
        _ => None,
    }
}

async fn upload(
    State(st): State<St>,
    Query(q): Query<HashMap<String, String>>,
    mut form: Multipart,
) -> Json<Value> {
    if let Some(err) = check_token(&st.lock(), &q) {
        return Json(err);
    }
    let media_type = q.get("type").cloned().unwrap_or_default();
    let Some((limit, too_large)) = upload_limit(&media_type) else {
        return Json(json!({"errcode": 40004, "errmsg": "invalid media type"}));
    };
    let mut file = None;
    while let Ok(Some(field)) = form.next_field().await {
        if field.name() != Some("media") {
            continue;
        }
        let file_name = field.file_name().unwrap_or_default().to_owned();
        let content_type = field.content_type().map(str::to_owned);
        let Ok(data) = field.bytes().await else {
            return Json(json!({"errcode": 41005, "errmsg": "media data missing"}));
        };
        file = Some((file_name, content_type, data.to_vec()));
    }
    let Some((file_name, content_type, data)) = file.filter(|f| !f.0.is_empty()) else {
        return Json(json!({"errcode": 41005, "errmsg": "media data missing"}));
    };
    if data.len() > limit {
        return Json(json!({"errcode": too_large, "errmsg": "media size out of limit"}));
    }
    let mut g = st.lock();
    if let Some(s) = g.script.pop_front() {
        match s {
            Scripted::Ok => {}
            Scripted::Errcode(code) => {
                return Json(json!({"errcode": code, "errmsg": "scripted"}));
            }
            Scripted::ExpireToken => {
                g.current = None;
                return Json(json!({"errcode": 42001, "errmsg": "access_token expired"}));
            }
            // HTTP failures are scripted for sends only.
            Scripted::Http(..) => g.script.push_front(s),
        }
    }
    let media_id = format!("media-{}", g.uploads.len() + 1);
    g.media.insert(
        media_id.clone(),
        Media {
            data: data.clone(),
            mime: content_type.clone().unwrap_or_default(),
            video: false,
        },
    );
    g.uploads.push(Upload {
        media_type: media_type.clone(),
        file_name,
        content_type,
        data,
        media_id: media_id.clone(),
    });
    Json(json!({"type": media_type, "media_id": media_id, "created_at": 1_700_000_000}))
}

async fn media_get(State(st): State<St>, Query(q): Query<HashMap<String, String>>) -> Response {
    // WeChat answers errors as JSON labelled text/plain.
    let error = |v: Value| {
        (
            [(axum::http::header::CONTENT_TYPE, "text/plain")],
            v.to_string(),
        )
            .into_response()
    };
    let mut g = st.lock();
    if let Some(err) = check_token(&g, &q) {
        return error(err);
    }
    if let Some(Scripted::ExpireToken) = g.script.front() {
        g.script.pop_front();
        g.current = None;
        return error(json!({"errcode": 42001, "errmsg": "access_token expired"}));
    }
    let id = q.get("media_id").cloned().unwrap_or_default();
    match g.media.get(&id) {
        None => error(json!({"errcode": 40007, "errmsg": "invalid media_id"})),
        Some(m) if m.video => {
            Json(json!({"video_url": format!("{}/video/{id}", st.base)})).into_response()
        }
        Some(m) => (
            [
                (axum::http::header::CONTENT_TYPE, m.mime.clone()),
                (
                    axum::http::header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{id}\""),
                ),
            ],
            m.data.clone(),
        )
            .into_response(),
    }
}

/// The download address `media/get` gives for Official Account videos.
async fn video(State(st): State<St>, Path(id): Path<String>) -> Response {
    match st.lock().media.get(&id).filter(|m| m.video) {
        Some(m) => (
            [(axum::http::header::CONTENT_TYPE, m.mime.clone())],
            m.data.clone(),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn sync_msg(
    State(st): State<St>,
    Query(q): Query<HashMap<String, String>>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let mut g = st.lock();
    if let Some(err) = check_token(&g, &q) {
        return Json(err);
    }
    g.sync_requests.push(body.clone());
    if let Some(page) = g.sync_pages.pop_front() {
        return Json(page);
    }
    let Some(start) = body["cursor"]
        .as_str()
        .map_or(Some(0), |c| c.parse::<usize>().ok())
        .filter(|s| *s <= g.kf_log.len())
    else {
        return Json(json!({"errcode": 95007, "errmsg": "invalid cursor"}));
    };
    let end = (start + g.page_size).min(g.kf_log.len());
    Json(json!({
        "errcode": 0, "errmsg": "ok",
        "next_cursor": end.to_string(),
        "has_more": i32::from(end < g.kf_log.len()),
        "msg_list": g.kf_log[start..end],
    }))
}

/// Inboxes for ingress tests.
#[derive(Default)]
pub(crate) struct Inboxes(pub(crate) HashMap<i64, kefu_channel::InboxConfig>);

impl Inboxes {
    pub(crate) fn with(mut self, id: i64, kind: &str, settings: Value) -> Self {
        self.0.insert(
            id,
            kefu_channel::InboxConfig {
                id,
                name: format!("inbox {id}"),
                kind: kefu_channel::ChannelKind::new(kind),
                settings,
                public_token: "pub".into(),
                public_url: "http://127.0.0.1".into(),
            },
        );
        self
    }
}

#[async_trait::async_trait]
impl kefu_channel::InboxLookup for Inboxes {
    async fn inbox(&self, id: i64) -> Option<kefu_channel::InboxConfig> {
        self.0.get(&id).cloned()
    }
}

/// An ingress context around `sink`, `inboxes` and `state`.
pub(crate) fn ingress_cx(
    sink: Arc<dyn kefu_channel::InboundSink>,
    inboxes: Inboxes,
    state: Arc<dyn kefu_channel::ChannelState>,
) -> kefu_channel::IngressContext {
    kefu_channel::IngressContext {
        inbound: sink,
        inboxes: Arc::new(inboxes),
        state,
        history: None,
        shutdown: tokio_util::sync::CancellationToken::new(),
    }
}

/// Calls `router` in memory; returns status and body text.
pub(crate) async fn call(
    router: &Router,
    method: &str,
    uri: &str,
    body: impl Into<axum::body::Body>,
) -> (StatusCode, String) {
    use tower::ServiceExt as _;
    let req = axum::http::Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "text/xml")
        .body(body.into())
        .expect("request builds");
    let resp = router.clone().oneshot(req).await.expect("router answers");
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .expect("body reads");
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// A sink that always fails with the given error.
pub(crate) struct FailingSink(pub(crate) kefu_channel::IngestError);

#[async_trait::async_trait]
impl kefu_channel::InboundSink for FailingSink {
    async fn accept(
        &self,
        _: kefu_channel::InboundEnvelope,
    ) -> Result<kefu_channel::Accepted, kefu_channel::IngestError> {
        Err(self.0.clone())
    }
}

/// Percent-encodes a query value.
pub(crate) fn enc(v: &str) -> String {
    url::form_urlencoded::byte_serialize(v.as_bytes()).collect()
}
