//! Configuration: embedded defaults, then an optional `kefu.toml`, then `KEFU_*` environment
//! variables (nesting with `__`, e.g. `KEFU_WEBHOOKS__ALLOW_PRIVATE_TARGETS=true`), then
//! [`Config::validate`]. Unknown keys are errors, so a typo does not silently fall back to a
//! default.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Format, Serialized, Toml};
use figment::value::Value as FigValue;
use figment::{Figment, Profile, Provider};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

mod ai;
mod keys;

pub use ai::{AiConfig, EmbeddingsConfig, LlmConfig};

/// The process environment, skipping variables whose name or value is not UTF-8 (none of ours
/// can be).
fn process_env() -> impl Iterator<Item = (String, String)> {
    std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
}

/// Everything `kefu` can be configured with.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to serve HTTP on.
    pub listen: SocketAddr,
    /// `sqlite://path?mode=rwc` (embedded) or `postgres://user@host/db`.
    pub database_url: String,
    /// Connections in the database pool.
    pub database_max_connections: u32,
    /// Redis for the realtime bus across nodes (`redis://host:6379`); without it the bus is
    /// in-process. Every node of one installation sets the same URL and namespace.
    pub redis_url: Option<String>,
    /// Prefix of Kefu's Redis keys and channels (events go on `<namespace>:events`), so that
    /// several installations (or test runs) can share one Redis.
    pub redis_namespace: String,
    /// Folder for the generated secret key and, by default, the SQLite database.
    pub data_dir: PathBuf,
    /// Key for encrypting channel credentials at rest and signing sessions. Generated into
    /// `data_dir/secret.key` on first start when not given.
    #[serde(skip_serializing)]
    pub secret_key: Option<SecretString>,
    /// The address people and providers reach Kefu at; defaults to `http://<listen>`.
    pub public_url: Option<String>,
    /// Largest accepted request body, in bytes (413 beyond).
    pub max_body_bytes: usize,
    /// Longest stored message text, in bytes; longer text is truncated with a note.
    pub max_text_bytes: usize,
    /// Largest file an agent may upload as an attachment, in bytes (413 beyond).
    pub max_upload_bytes: usize,
    /// How long an unused login session lasts, in hours; each use extends it (sliding).
    pub session_ttl_hours: u64,
    /// The longest a login session lasts, in hours, however much it is used.
    pub session_max_hours: u64,
    /// `text` or `json` logs.
    pub log_format: LogFormat,
    /// Dispatcher settings: sweep interval, aging, re-queue on offline.
    #[serde(default)]
    pub routing: kefu_dispatcher::assign::Settings,
    /// Email of the first admin, created at start when no agent exists.
    pub bootstrap_admin_email: Option<String>,
    /// Password of the first admin.
    #[serde(skip_serializing)]
    pub bootstrap_admin_password: Option<SecretString>,
    /// Webhook delivery settings.
    pub webhooks: WebhooksConfig,
    /// Channel (provider) settings shared by all inboxes.
    #[serde(default)]
    pub channels: ChannelsConfig,
    /// Delivery of replies.
    pub delivery: DeliveryConfig,
    /// Background jobs.
    pub jobs: JobsConfig,
    /// Outbound TLS settings.
    pub tls: TlsConfig,
    /// The full-text search index.
    #[serde(default)]
    pub search: SearchConfig,
    /// Serve the demo page, widget and console from this folder instead of the copy built into
    /// the binary: for working on them without rebuilding. Unset in production.
    pub assets_dir: Option<PathBuf>,
    /// The optional language model (off by default).
    #[serde(default)]
    pub ai: AiConfig,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Webhook delivery settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhooksConfig {
    /// Allow webhook targets on private, loopback and link-local addresses (tests, intranets).
    pub allow_private_targets: bool,
    /// Delays before each attempt, in seconds; the first is usually 0. Default: the
    /// Standard Webhooks schedule (0, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h).
    pub retry_schedule_secs: Option<Vec<f64>>,
    /// An endpoint failing without a success for this long is disabled.
    pub disable_after_hours: f64,
    /// One attempt's time limit, in seconds.
    pub timeout_secs: u64,
    /// Attempts in flight to one endpoint at most (per node): a slow endpoint delays only its
    /// own deliveries.
    pub endpoint_concurrency: usize,
}

impl Default for WebhooksConfig {
    fn default() -> Self {
        Self {
            allow_private_targets: false,
            retry_schedule_secs: None,
            disable_after_hours: 5.0 * 24.0,
            timeout_secs: 15,
            endpoint_concurrency: 16,
        }
    }
}

/// Settings shared by all inboxes' channels.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChannelsConfig {
    /// Allow provider addresses (`api_base`, IMAP and SMTP hosts) on private, loopback and
    /// link-local addresses: for tests with local stand-ins and on-premise mail servers.
    pub allow_private_targets: bool,
}

/// Outbound delivery of replies.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeliveryConfig {
    /// Attempts before a retryable failure marks the message failed.
    pub max_attempts: u32,
    /// The first retry's delay in milliseconds; each further retry doubles it.
    pub base_delay_ms: u64,
    /// The longest delay between attempts, in seconds (a provider's Retry-After may ask more).
    pub max_delay_secs: u64,
    /// One send's time limit, in seconds.
    pub timeout_secs: u64,
    /// A reply still pending this many seconds after it was due, with no attempt holding it, is
    /// queued again (its job was lost).
    pub stuck_after_secs: f64,
    /// A web chat reply the visitor has not seen this many seconds after it was sent goes out
    /// by email too, where the web chat inbox has channel fallback on.
    pub unseen_after_secs: f64,
    /// Sends in flight through one inbox's provider at once (per node), so that a slow
    /// provider delays only its own inbox's replies.
    pub inbox_concurrency: usize,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            base_delay_ms: 2000,
            max_delay_secs: 600,
            timeout_secs: 60,
            stuck_after_secs: 300.0,
            unseen_after_secs: 300.0,
            inbox_concurrency: 8,
        }
    }
}

/// Background jobs (apalis).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JobsConfig {
    /// Run the delivery and webhook workers in this process (turn off on API-only nodes).
    pub run_workers: bool,
    /// Sends in flight at once.
    pub send_concurrency: usize,
    /// Webhook attempts in flight at once.
    pub webhook_concurrency: usize,
    /// How often idle workers look for delayed jobs that came due, in milliseconds.
    pub poll_interval_ms: u64,
    /// Worker heartbeat in seconds; the jobs of a worker silent for two beats are taken over.
    pub heartbeat_secs: u64,
    /// Jobs fetched (and locked) per query.
    pub fetch_batch: usize,
    /// How often lost deliveries are looked for (and finished jobs pruned), in seconds.
    pub sweep_interval_secs: f64,
    /// How long a finished job is kept before it is deleted, in seconds.
    pub keep_finished_secs: f64,
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self {
            run_workers: true,
            send_concurrency: 32,
            webhook_concurrency: 64,
            poll_interval_ms: 500,
            heartbeat_secs: 30,
            fetch_batch: 50,
            sweep_interval_secs: 30.0,
            keep_finished_secs: 86_400.0,
        }
    }
}

/// Where the full-text search index lives. It is derived from the database: deleting it is
/// harmless, Kefu rebuilds it at the next start.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SearchConfig {
    /// The index folder; default `data_dir/search`.
    pub dir: Option<PathBuf>,
    /// Keep the index in memory only, rebuilt at every start (tests, tiny installs).
    pub in_memory: bool,
}

impl Config {
    /// Where the search index lives.
    pub fn search_location(&self) -> kefu_normalizer::search::Location {
        use kefu_normalizer::search::Location;
        if self.search.in_memory {
            return Location::Memory;
        }
        Location::Dir(
            self.search
                .dir
                .clone()
                .unwrap_or_else(|| self.data_dir.join("search")),
        )
    }
}

/// Outbound TLS settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// A PEM file of extra trusted root certificates for every outbound HTTPS client.
    pub extra_root_certs: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: "sqlite://kefu-data/kefu.db?mode=rwc".into(),
            database_max_connections: 16,
            redis_url: None,
            redis_namespace: "kefu".into(),
            data_dir: PathBuf::from("kefu-data"),
            secret_key: None,
            public_url: None,
            max_body_bytes: 1024 * 1024,
            max_text_bytes: 256 * 1024,
            max_upload_bytes: 25 * 1024 * 1024,
            session_ttl_hours: 24 * 7,
            session_max_hours: 24 * 30,
            log_format: LogFormat::Text,
            routing: kefu_dispatcher::assign::Settings::default(),
            bootstrap_admin_email: None,
            bootstrap_admin_password: None,
            webhooks: WebhooksConfig::default(),
            channels: ChannelsConfig::default(),
            delivery: DeliveryConfig::default(),
            jobs: JobsConfig::default(),
            tls: TlsConfig::default(),
            search: SearchConfig::default(),
            assets_dir: None,
            ai: AiConfig::default(),
        }
    }
}

/// A configuration that could not be loaded; the message names the key and the problem.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

impl Config {
    /// Loads defaults, then `file` (an error if given and missing; `kefu.toml` in the working
    /// folder if present otherwise), then the `KEFU_*` environment, then validates. Warnings
    /// about ignored environment variables are logged (see [`Config::load_from`]).
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let (config, warnings) = Self::load_from(file, process_env())?;
        for w in warnings {
            tracing::warn!("{w}");
        }
        Ok(config)
    }

    /// [`Config::load`] with the environment given as `(name, value)` pairs; returns the
    /// configuration and the warnings to show once logging is set up. Every problem is
    /// reported at once: unknown keys in the file, and values of the wrong type wherever they
    /// came from. Unknown `KEFU_*` environment variables are warnings (with the likely meant
    /// name), and those that are clearly not Kefu's (Kubernetes service links, `KEFU_BIN`,
    /// `KEFU_TEST_*`) are skipped.
    pub fn load_from(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<(Self, Vec<String>), ConfigError> {
        let known = keys::Known::new();
        let mut problems = Vec::new();
        let mut warnings = Vec::new();
        let (toml, file_name) = match file {
            Some(path) if !path.exists() => {
                return Err(ConfigError(format!(
                    "config file {} does not exist",
                    path.display()
                )));
            }
            Some(path) => (Toml::file_exact(path), path.display().to_string()),
            None => (Toml::file("kefu.toml"), "kefu.toml".to_owned()),
        };
        let mut file_dict = match toml.data() {
            Ok(mut profiles) => profiles.remove(&Profile::Default).unwrap_or_default(),
            Err(e) => return Err(ConfigError(format!("{file_name}: {e}"))),
        };
        for unknown in known.unknown_in(&file_dict) {
            problems.push(format!("{file_name}: {unknown}"));
        }
        keys::retain_known(&known, &mut file_dict);

        let mut fig = Figment::from(Serialized::defaults(Config::default()))
            .merge(Serialized::defaults(file_dict.clone()));
        let mut from_env = std::collections::HashMap::new();
        for (name, value) in env {
            match keys::classify_env(&known, &name, &value) {
                keys::EnvKey::Setting(path) => {
                    let Ok(parsed) = value.parse::<FigValue>();
                    fig = fig.merge(Serialized::default(&path, parsed));
                    from_env.insert(path, name);
                }
                keys::EnvKey::Unknown => warnings.push(match known.suggest_env(&name) {
                    Some(s) => {
                        format!("{name} is not a Kefu setting and is ignored; did you mean {s}?")
                    }
                    None => format!("{name} is not a Kefu setting and is ignored"),
                }),
                keys::EnvKey::Foreign => {}
            }
        }
        let source = |path: &str| match from_env.get(path) {
            Some(name) => name.clone(),
            None if keys::dict_has(&file_dict, path) => format!("{file_name}: \"{path}\""),
            None => format!("\"{path}\""),
        };
        let config = keys::extract_reporting(fig, &source, &mut problems);
        match config {
            Some(config) if problems.is_empty() => {
                config.validate()?;
                Ok((config, warnings))
            }
            _ => Err(ConfigError(match problems.as_slice() {
                [one] => one.clone(),
                many => format!("{} problems:\n  - {}", many.len(), many.join("\n  - ")),
            })),
        }
    }

    /// Checks values that parse but make no sense.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: &str| Err(ConfigError(m.to_owned()));
        if !(self.database_url.starts_with("sqlite:") || self.database_url.starts_with("postgres"))
        {
            return bad("database_url must start with sqlite: or postgres://");
        }
        if self.database_max_connections == 0 {
            return bad("database_max_connections must be at least 1");
        }
        if self.max_body_bytes < 1024 {
            return bad("max_body_bytes must be at least 1024");
        }
        if self.max_text_bytes < 1024 || self.max_text_bytes > self.max_body_bytes * 16 {
            return bad("max_text_bytes must be between 1024 and 16 × max_body_bytes");
        }
        if self.max_upload_bytes < 1024 {
            return bad("max_upload_bytes must be at least 1024");
        }
        if self.session_ttl_hours == 0 {
            return bad("session_ttl_hours must be at least 1");
        }
        if self.session_max_hours < self.session_ttl_hours {
            return bad("session_max_hours must be at least session_ttl_hours");
        }
        if let Some(url) = &self.public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return bad("public_url must start with http:// or https://");
        }
        self.routing.validate().map_err(ConfigError)?;
        if self.bootstrap_admin_email.is_some() != self.bootstrap_admin_password.is_some() {
            return bad("bootstrap_admin_email and bootstrap_admin_password must be set together");
        }
        if let Some(redis) = &self.redis_url
            && !redis.starts_with("redis://")
        {
            return bad(
                "redis_url must start with redis:// (TLS to Redis, rediss://, is not supported; \
                 keep Redis on a trusted network)",
            );
        }
        if self.redis_namespace.is_empty()
            || !self
                .redis_namespace
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_:.".contains(c))
        {
            return bad("redis_namespace must be non-empty: letters, digits, - _ : .");
        }
        if let Some(s) = &self.webhooks.retry_schedule_secs
            && (s.is_empty() || s.iter().any(|d| !d.is_finite() || *d < 0.0))
        {
            return bad("webhooks.retry_schedule_secs must list at least one delay ≥ 0");
        }
        // Also refuses NaN.
        if self.webhooks.disable_after_hours.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater)
        {
            return bad("webhooks.disable_after_hours must be positive");
        }
        if self.webhooks.timeout_secs == 0 || self.delivery.timeout_secs == 0 {
            return bad("webhooks.timeout_secs and delivery.timeout_secs must be at least 1");
        }
        if self.delivery.max_attempts == 0 {
            return bad("delivery.max_attempts must be at least 1");
        }
        if self.delivery.inbox_concurrency == 0 {
            return bad("delivery.inbox_concurrency must be at least 1");
        }
        if self.jobs.send_concurrency == 0 || self.jobs.webhook_concurrency == 0 {
            return bad("jobs.send_concurrency and jobs.webhook_concurrency must be at least 1");
        }
        if self.jobs.poll_interval_ms == 0
            || self.jobs.heartbeat_secs == 0
            || self.jobs.fetch_batch == 0
        {
            return bad(
                "jobs.poll_interval_ms, jobs.heartbeat_secs and jobs.fetch_batch must be at least 1",
            );
        }
        // At least a millisecond, and small enough for a `Duration`.
        let sane = |v: f64| (0.001..=1e9).contains(&v);
        if !sane(self.jobs.keep_finished_secs) {
            return bad("jobs.keep_finished_secs must be between 0.001 and 1e9");
        }
        if !sane(self.jobs.sweep_interval_secs)
            || !sane(self.delivery.stuck_after_secs)
            || !sane(self.delivery.unseen_after_secs)
        {
            return bad(
                "jobs.sweep_interval_secs, delivery.stuck_after_secs and delivery.unseen_after_secs must be between 0.001 and 1e9",
            );
        }
        self.ai.llm.validate()?;
        self.ai.embeddings.validate()
    }

    /// `public_url` without a trailing slash, defaulting to `http://<listen>`.
    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen))
            .trim_end_matches('/')
            .to_owned()
    }
}

#[cfg(test)]
mod tests;
