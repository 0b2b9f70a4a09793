//! # kefu-tests — end-to-end tests through Kefu's public surface
//!
//! [`TestApp::spawn`] starts the real server (the same [`App`] the binary runs) on port 0 with a
//! fresh database — a SQLite file in a temporary folder, or a new PostgreSQL database created
//! from `KEFU_TEST_DATABASE_URL` — plus the loopback test channel. Tests talk to it over HTTP
//! only. [`backends`] lists the databases to run every test on.

pub mod bench_seed;
pub mod llm_mock;
pub mod receiver;
pub mod ws;

use std::sync::Arc;
use std::time::Duration;

use kefu_channel::testkit::loopback::{LoopbackFactory, LoopbackMessage, LoopbackProvider};
use kefu_gateway::{App, Config};
use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A database backend to test on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file.
    Sqlite,
    /// A fresh database on the server at this admin URL.
    Postgres(String),
}

impl Backend {
    /// A load generator's `--database-url`: `sqlite` for an embedded file, anything else is a
    /// PostgreSQL admin URL.
    pub fn from_arg(url: &str) -> Self {
        if url == "sqlite" {
            Self::Sqlite
        } else {
            Self::Postgres(url.to_owned())
        }
    }

    /// `sqlite` or `postgres`, for reports.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }
}

/// Closes `db` and, on PostgreSQL, drops the database [`fresh_database`] made at `url` (a
/// SQLite file goes with its temporary folder).
pub async fn drop_fresh_database(
    backend: &Backend,
    db: &kefu_normalizer::Db,
    url: &str,
) -> anyhow::Result<()> {
    if let Backend::Postgres(admin) = backend {
        db.conn().clone().close().await.ok();
        let parsed = url::Url::parse(url)?;
        let name = parsed.path().trim_start_matches('/');
        let admin = Database::connect(admin.as_str()).await?;
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await?;
    }
    Ok(())
}

/// Refreshes PostgreSQL's planner statistics, as autovacuum does on a production server a
/// little after a table has grown (it is off on some development machines). Benchmarks call
/// it after their warm-up: without statistics, PostgreSQL keeps the generic plans it chose
/// for a few rows (sequential scans) for every prepared statement, and the run measures that
/// instead of Kefu. A no-op on SQLite.
pub async fn analyze(db: &kefu_normalizer::Db) -> anyhow::Result<()> {
    if db.is_postgres() {
        db.conn().execute_unprepared("ANALYZE").await?;
    }
    Ok(())
}

/// The `p` quantile (0 to 1) of `sorted`, by nearest rank; `None` when it is empty.
pub fn quantile<T: Copy>(sorted: &[T], p: f64) -> Option<T> {
    let last = sorted.len().checked_sub(1)?;
    let i = (last as f64 * p.clamp(0.0, 1.0)).round() as usize;
    sorted.get(i.min(last)).copied()
}

/// SQLite always; PostgreSQL too when `KEFU_TEST_DATABASE_URL` is set.
pub fn backends() -> Vec<Backend> {
    let mut b = vec![Backend::Sqlite];
    if let Ok(url) = std::env::var("KEFU_TEST_DATABASE_URL")
        && !url.is_empty()
    {
        b.push(Backend::Postgres(url));
    }
    b
}

/// Creates a fresh database and returns its URL.
pub async fn fresh_database(backend: &Backend, dir: &std::path::Path) -> anyhow::Result<String> {
    match backend {
        Backend::Sqlite => Ok(format!(
            "sqlite://{}?mode=rwc",
            dir.join("kefu.db").display()
        )),
        Backend::Postgres(admin_url) => {
            let name = format!(
                "kefu_test_{}",
                kefu_normalizer::token::random(12).to_lowercase()
            );
            let admin = Database::connect(admin_url.as_str()).await?;
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await?;
            admin.close().await?;
            let mut url = url::Url::parse(admin_url)?;
            url.set_path(&name);
            Ok(url.to_string())
        }
    }
}

/// With `KEFU_TEST_LOG` set (an `EnvFilter` such as `warn` or `kefu=debug`), servers started
/// by the tests log to stderr, which the test harness shows for failing tests.
fn log_to_stderr() {
    static INIT: std::sync::Once = std::sync::Once::new();
    INIT.call_once(|| {
        if let Ok(filter) = std::env::var("KEFU_TEST_LOG") {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
                .with_test_writer()
                .try_init();
        }
    });
}

/// The secret of the loopback inbox [`TestApp::loopback_inbox`] creates.
pub const LOOPBACK_SECRET: &str = "loopback-test-secret";

/// A running Kefu with an admin session.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// HTTP client.
    pub client: reqwest::Client,
    /// The admin's bearer token.
    pub admin_token: String,
    /// The fake provider behind every loopback inbox.
    pub provider: Arc<LoopbackProvider>,
    /// The backend in use.
    pub backend: Backend,
    /// The running server's state (bus, database) for tests that observe internals.
    pub state: kefu_gateway::state::AppState,
    shutdown: CancellationToken,
    server: Option<JoinHandle<std::io::Result<()>>>,
    /// `false` for the extra nodes of a cluster: stopping them leaves the database alone.
    owns_database: bool,
    _dir: tempfile::TempDir,
}

impl TestApp {
    /// Starts Kefu on `backend` with default test settings.
    pub async fn spawn(backend: &Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Starts Kefu on `backend`, letting `tweak` adjust the configuration.
    pub async fn spawn_with(backend: &Backend, tweak: impl FnOnce(&mut Config)) -> Self {
        log_to_stderr();
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config {
            listen: "127.0.0.1:0".parse().expect("addr"),
            database_url: fresh_database(backend, dir.path())
                .await
                .expect("fresh database"),
            data_dir: dir.path().to_path_buf(),
            bootstrap_admin_email: Some("admin@example.com".into()),
            bootstrap_admin_password: Some("admin-password".to_owned().into()),
            database_max_connections: 8,
            ..Config::default()
        };
        config.webhooks.allow_private_targets = true;
        config.channels.allow_private_targets = true;
        tweak(&mut config);
        Self::start(backend, config, dir, LoopbackProvider::new()).await
    }

    /// Starts another node of this app's cluster: the same database, Redis, namespace, secret
    /// key and loopback provider, its own port and data folder, with `tweak` applied. Stopping
    /// it leaves the database to this app.
    pub async fn spawn_node(&self, tweak: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = (*self.state.config).clone();
        config.listen = "127.0.0.1:0".parse().expect("addr");
        config.data_dir = dir.path().to_path_buf();
        config.search.dir = None;
        if config.secret_key.is_none() {
            std::fs::copy(
                self._dir.path().join("secret.key"),
                dir.path().join("secret.key"),
            )
            .expect("the first node's secret key");
        }
        tweak(&mut config);
        let mut node = Self::start(&self.backend, config, dir, self.provider.clone()).await;
        node.owns_database = false;
        node
    }

    /// Stops this server without dropping its database and starts a new one on the same
    /// database and data folder, with `tweak` applied to the same configuration: a restart.
    pub async fn restart(mut self, tweak: impl FnOnce(&mut Config)) -> Self {
        self.shutdown.cancel();
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        let mut config = (*self.state.config).clone();
        config.listen = "127.0.0.1:0".parse().expect("addr");
        tweak(&mut config);
        let backend = self.backend.clone();
        let provider = self.provider.clone();
        let dir = std::mem::replace(&mut self._dir, tempfile::tempdir().expect("temp dir"));
        Self::start(&backend, config, dir, provider).await
    }

    async fn start(
        backend: &Backend,
        config: Config,
        dir: tempfile::TempDir,
        provider: Arc<LoopbackProvider>,
    ) -> Self {
        config.validate().expect("test config is valid");
        let (app, _) = App::build(
            config,
            vec![Arc::new(LoopbackFactory::new(provider.clone()))],
        )
        .await
        .expect("app builds");
        let base = format!("http://{}", app.local_addr());
        let state = app.state().clone();
        let shutdown = app.shutdown_token();
        let server = tokio::spawn(app.run_until_stopped());
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        let login: Value = client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"email": "admin@example.com", "password": "admin-password"}))
            .send()
            .await
            .expect("login request")
            .json()
            .await
            .expect("login body");
        let admin_token = login["token"].as_str().expect("token").to_owned();
        Self {
            base,
            client,
            admin_token,
            provider,
            backend: backend.clone(),
            state,
            shutdown,
            server: Some(server),
            owns_database: true,
            _dir: dir,
        }
    }

    /// Sends a request as `token` (or anonymously with `None`); returns status and JSON body
    /// (`Value::Null` when the body is not JSON).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let body = resp.json::<Value>().await.unwrap_or(Value::Null);
        (status, body)
    }

    /// `call` as the admin.
    pub async fn admin(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.call(method, path, Some(&self.admin_token), body).await
    }

    /// Creates a loopback inbox and returns its id.
    pub async fn loopback_inbox(&self, routing: Value) -> i64 {
        let (status, body) = self
            .admin(
                Method::POST,
                "/api/v1/inboxes",
                Some(json!({"name": "Loopback", "channel": {"type": "loopback", "secret": LOOPBACK_SECRET}, "routing": routing})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_i64().expect("inbox id")
    }

    /// Sends a customer message through the loopback channel's ingress.
    pub async fn inbound(&self, inbox: i64, msg: &LoopbackMessage) -> (StatusCode, Value) {
        let resp = self
            .client
            .post(format!("{}/channels/loopback/{inbox}/messages", self.base))
            .header("x-loopback-secret", LOOPBACK_SECRET)
            .json(msg)
            .send()
            .await
            .expect("ingress request");
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// Signs in with `email` and `password`; returns status and body (the token on success).
    pub async fn login(&self, email: &str, password: &str) -> (StatusCode, Value) {
        self.call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": email, "password": password})),
        )
        .await
    }

    /// Creates an agent and returns `(id, token)`.
    pub async fn agent(&self, email: &str, role: &str, skills: Value) -> (i64, String) {
        let (status, body) = self
            .admin(
                Method::POST,
                "/api/v1/agents",
                Some(json!({"email": email, "name": email, "password": "agent-password", "role": role, "skills": skills})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (status, login) = self.login(email, "agent-password").await;
        assert_eq!(status, StatusCode::OK, "{login}");
        (
            body["id"].as_i64().expect("id"),
            login["token"].as_str().expect("token").to_owned(),
        )
    }

    /// Makes agent `agent_id` a member of inbox `inbox` (besides its other members), so the
    /// agent sees its queue.
    pub async fn join(&self, inbox: i64, agent_id: i64) {
        let path = format!("/api/v1/inboxes/{inbox}/members");
        let (status, mut members) = self.admin(Method::GET, &path, None).await;
        assert_eq!(status, StatusCode::OK, "{members}");
        if let Some(ids) = members["agent_ids"].as_array_mut() {
            ids.push(json!(agent_id));
        }
        let (status, body) = self.admin(Method::PUT, &path, Some(members)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    /// Calls `check` now and again after every relayed event until it returns `Some`; panics
    /// with `what` after 30 s. For conditions that change with an event (messages arriving,
    /// conversations created).
    pub async fn until_event<T, F, Fut>(&self, what: &str, mut check: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let mut events = self.state.bus.subscribe();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(v) = check().await {
                return v;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}"
            );
            let _ = tokio::time::timeout_at(deadline, events.recv()).await;
        }
    }

    /// The conversations of an inbox (first page, newest first).
    pub async fn conversations(&self, inbox: i64) -> Vec<Value> {
        let (s, b) = self
            .admin(
                Method::GET,
                &format!("/api/v1/conversations?inbox_id={inbox}"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        b["items"].as_array().cloned().unwrap_or_default()
    }

    /// Every message of a conversation, in `seq` order.
    pub async fn messages(&self, conv: i64) -> Vec<Value> {
        let (s, b) = self
            .admin(
                Method::GET,
                &format!("/api/v1/conversations/{conv}/messages"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        b["items"].as_array().cloned().unwrap_or_default()
    }

    /// Posts an agent reply as the admin; it is stored with delivery `pending`, or `sent` in a
    /// channel Kefu delivers itself (web chat).
    pub async fn reply(&self, conv: i64, text: &str) -> Value {
        let (s, m) = self
            .admin(
                Method::POST,
                &format!("/api/v1/conversations/{conv}/messages"),
                Some(json!({"text": text})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{m}");
        let stored = if m["delivery"]["channel"] == "web_chat" {
            "sent"
        } else {
            "pending"
        };
        assert_eq!(m["delivery"]["status"], stored, "{m}");
        m
    }

    /// The message `id` once its delivery status is one of `done`, re-read after every relayed
    /// event (each delivery change is a `message.updated`); panics after 30 s.
    pub async fn wait_delivery(&self, conv: i64, id: &Value, done: &[&str]) -> Value {
        let mut events = self.state.bus.subscribe();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let m = self
                .messages(conv)
                .await
                .into_iter()
                .find(|m| &m["id"] == id)
                .expect("the message is listed");
            if done.contains(&m["delivery"]["status"].as_str().unwrap_or_default()) {
                return m;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "message {id} is still {} after 30 s",
                m["delivery"]["status"]
            );
            let _ = tokio::time::timeout_at(deadline, events.recv()).await;
        }
    }

    /// Stops this node and leaves the database, if it created it, to `heir` (which drops it
    /// when it stops): for tests that stop whichever node of a cluster holds something.
    pub async fn stop_leaving_database_to(mut self, heir: &mut TestApp) {
        heir.owns_database |= std::mem::take(&mut self.owns_database);
        self.stop().await;
    }

    /// Stops the server, waits for it to drain, and drops a PostgreSQL test database.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        if !self.owns_database {
            return;
        }
        if let Backend::Postgres(admin_url) = &self.backend {
            let db_url = url::Url::parse(&self.state.config.database_url).ok();
            let name = db_url
                .as_ref()
                .map(|u| u.path().trim_start_matches('/').to_owned())
                .unwrap_or_default();
            if name.starts_with("kefu_test_")
                && let Ok(admin) = Database::connect(admin_url.as_str()).await
            {
                let _ = admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await;
                let _ = admin.close().await;
            }
        }
    }
}

/// `KEFU_TEST_REDIS_URL`, when set and not empty.
pub fn test_redis() -> Option<String> {
    std::env::var("KEFU_TEST_REDIS_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// A Redis namespace no other test (or test run) uses, so tests sharing one Redis in parallel
/// never hear each other's events.
pub fn fresh_redis_namespace() -> String {
    format!(
        "kefu-test-{}",
        kefu_normalizer::token::random(12).to_lowercase()
    )
}

/// Calls `check` until it returns `Some`, or `timeout` passes (then the last `None`). For
/// conditions nothing signals: a short pause between checks, never a fixed wait for the work.
pub async fn eventually<T, F, Fut>(timeout: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return Some(v);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A loopback message with the given provider id, sender and text.
pub fn msg(id: &str, sender: &str, text: &str) -> LoopbackMessage {
    LoopbackMessage {
        id: id.into(),
        sender: sender.into(),
        text: text.into(),
        ..LoopbackMessage::default()
    }
}

/// For the load generators: an inbox row of `channel_type` with empty settings, written
/// directly (no running channel).
pub async fn bench_inbox(
    db: &kefu_normalizer::Db,
    name: &str,
    channel_type: &str,
) -> anyhow::Result<kefu_normalizer::entity::inbox::Model> {
    use sea_orm::{ActiveModelTrait, Set};
    let now = chrono::Utc::now();
    Ok(kefu_normalizer::entity::inbox::ActiveModel {
        name: Set(name.into()),
        channel_type: Set(channel_type.into()),
        settings: Set(json!({})),
        secrets_ciphertext: Set(None),
        public_token: Set(kefu_normalizer::token::random(24)),
        routing: Set(json!({})),
        deleted_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db.conn())
    .await?)
}
