//! Channel wiring: the registry of channel types, inbox settings with secrets encrypted at rest,
//! the [`InboxLookup`] ingress routes use, and the [`Runner`] that keeps one running
//! [`Channel`] per inbox.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use kefu_channel::{
    Channel, ChannelContext, ChannelFactory, ChannelKind, ChannelState, InboundSink, InboxConfig,
    InboxLookup, IngressContext,
};
use kefu_normalizer::Db;
use kefu_normalizer::entity::inbox;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::crypto::Keys;

/// The channel types this Kefu knows, by `channel.type`.
pub struct ChannelRegistry {
    factories: BTreeMap<String, Arc<dyn ChannelFactory>>,
    /// Types with ingress routes, and the path segment they are mounted at.
    with_ingress: HashMap<String, String>,
}

impl ChannelRegistry {
    /// A registry of `factories`.
    pub fn new(factories: Vec<Arc<dyn ChannelFactory>>) -> Self {
        Self {
            factories: factories.into_iter().map(|f| (f.kind().0, f)).collect(),
            with_ingress: HashMap::new(),
        }
    }

    /// Collects every factory's ingress routes under `/channels/<type>`.
    pub fn mount_ingress<S: Clone + Send + Sync + 'static>(
        &mut self,
        cx: impl Fn(ChannelKind) -> IngressContext,
    ) -> axum::Router<S> {
        let mut router = axum::Router::new();
        for (kind, f) in &self.factories {
            if let Some(r) = f.ingress(cx(ChannelKind::new(kind.clone()))) {
                let route = f.route_name();
                router = router.nest_service(&format!("/channels/{route}"), r);
                self.with_ingress.insert(kind.clone(), route);
            }
        }
        router
    }

    /// Where a type's push-style ingress is mounted (`/channels/<route>`), if it has one.
    pub fn ingress_route(&self, kind: &str) -> Option<&str> {
        self.with_ingress.get(kind).map(String::as_str)
    }

    /// The factory for a type.
    pub fn get(&self, kind: &str) -> Option<&Arc<dyn ChannelFactory>> {
        self.factories.get(kind)
    }

    /// Every factory, by type name in order.
    pub fn factories(&self) -> impl Iterator<Item = (&str, &Arc<dyn ChannelFactory>)> {
        self.factories.iter().map(|(k, f)| (k.as_str(), f))
    }

    /// The known type names, for error messages.
    pub fn kinds(&self) -> String {
        self.factories
            .keys()
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The object holding the value a JSON pointer names, and the key within it.
fn parent_of<'a>(
    settings: &'a mut Value,
    pointer: &'a str,
) -> Option<(&'a mut serde_json::Map<String, Value>, &'a str)> {
    let (parent, key) = pointer.rsplit_once('/')?;
    let parent = if parent.is_empty() {
        Some(settings)
    } else {
        settings.pointer_mut(parent)
    };
    Some((parent?.as_object_mut()?, key))
}

/// A JSON pointer to a setting (`/imap/password`) as the dotted path the API shows
/// (`imap.password`).
pub fn pointer_to_path(pointer: &str) -> String {
    pointer
        .trim_start_matches('/')
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect::<Vec<_>>()
        .join(".")
}

/// The settings field a channel's validation message names, as a dotted path: the message
/// starts with the path (`imap.port: must be ...`, the convention of
/// [`ChannelFactory::validate`]), or is serde's `missing field `x`` / `unknown field `x``,
/// possibly after a path or the type name (`imap: missing field `password``).
pub fn settings_field(kind: &str, message: &str) -> Option<String> {
    let is_path = |p: &str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '[' | ']' | '-'))
    };
    let (mut path, rest) = match message.split_once(": ") {
        Some((p, rest)) if is_path(p) => (Some(p.to_owned()), rest),
        _ => (None, message),
    };
    // Email's parser says `settings` for the root; web chat prefixes its type name.
    if path
        .as_deref()
        .is_some_and(|p| p == kind || p == "settings")
    {
        path = None;
    }
    let named = ["missing field `", "unknown field `"].iter().find_map(|m| {
        let (_, after) = rest.split_once(m)?;
        let (name, _) = after.split_once('`')?;
        is_path(name).then(|| name.to_owned())
    });
    match (path, named) {
        (Some(p), Some(n)) => Some(format!("{p}.{n}")),
        (p, n) => p.or(n),
    }
}

/// Removes the values at `pointers` from `settings`, returning them keyed by pointer.
pub fn take_secrets(settings: &mut Value, pointers: &[&str]) -> serde_json::Map<String, Value> {
    let mut out = serde_json::Map::new();
    for p in pointers {
        if let Some(v) = parent_of(settings, p).and_then(|(o, key)| o.remove(key)) {
            out.insert((*p).to_owned(), v);
        }
    }
    out
}

/// Puts secrets taken by [`take_secrets`] back into `settings`.
pub fn put_secrets(settings: &mut Value, secrets: &serde_json::Map<String, Value>) {
    for (p, v) in secrets {
        if let Some((o, key)) = parent_of(settings, p) {
            o.insert(key.to_owned(), v.clone());
        }
    }
}

/// How long an inbox looked up by an ingress route is reused before it is read again: the
/// longest a change made on another node takes to reach this node's ingress routes (changes
/// made through this node are seen at once).
pub const INBOX_TTL: Duration = Duration::from_secs(1);

/// Loads inbox rows as [`InboxConfig`]s, secrets decrypted.
///
/// Ingress routes look an inbox up on every callback; [`Inboxes::get`] keeps each live inbox
/// for [`INBOX_TTL`], so a burst of callbacks costs one read and one decryption.
#[derive(Clone)]
pub struct Inboxes {
    db: Db,
    keys: Keys,
    public_url: String,
    recent: Arc<Mutex<HashMap<i64, (Instant, InboxConfig)>>>,
}

impl Inboxes {
    /// Inboxes from `db`, decrypted with `keys`.
    pub fn new(db: Db, keys: Keys, public_url: String) -> Self {
        Self {
            db,
            keys,
            public_url,
            recent: Arc::default(),
        }
    }

    /// The decrypted secrets of a row, keyed by JSON pointer.
    fn secrets(&self, row: &inbox::Model) -> serde_json::Map<String, Value> {
        let Some(ct) = &row.secrets_ciphertext else {
            return serde_json::Map::new();
        };
        match self
            .keys
            .decrypt(ct)
            .map(|b| serde_json::from_slice::<serde_json::Map<String, Value>>(&b))
        {
            Ok(Ok(secrets)) => secrets,
            Ok(Err(e)) => {
                tracing::error!(inbox = row.id, error = %e, "Stored inbox secrets are not JSON.");
                serde_json::Map::new()
            }
            Err(e) => {
                tracing::error!(inbox = row.id, error = %e, "Cannot decrypt inbox secrets.");
                serde_json::Map::new()
            }
        }
    }

    /// The secrets a row actually has a value for (not null, not empty), as dotted paths
    /// (`imap.password`), in pointer order.
    pub fn secrets_set(&self, row: &inbox::Model) -> Vec<String> {
        self.secrets(row)
            .iter()
            .filter(|(_, v)| !v.is_null() && v.as_str() != Some(""))
            .map(|(p, _)| pointer_to_path(p))
            .collect()
    }

    /// The full config of a row.
    pub fn config(&self, row: &inbox::Model) -> InboxConfig {
        let mut settings = row.settings.clone();
        put_secrets(&mut settings, &self.secrets(row));
        InboxConfig {
            id: row.id,
            name: row.name.clone(),
            kind: ChannelKind::new(row.channel_type.clone()),
            settings,
            public_token: row.public_token.clone(),
            public_url: self.public_url.clone(),
        }
    }

    /// A live inbox by id (read at most [`INBOX_TTL`] ago).
    pub async fn get(&self, id: i64) -> Option<InboxConfig> {
        if let Some((at, config)) = self.recent().get(&id)
            && at.elapsed() < INBOX_TTL
        {
            return Some(config.clone());
        }
        // Unknown ids are not remembered: probing random ids must not grow the map.
        let row = inbox::Entity::find_by_id(id)
            .filter(inbox::Column::DeletedAt.is_null())
            .one(self.db.conn())
            .await
            .inspect_err(|e| tracing::warn!(error = %e, "Inbox lookup failed."))
            .ok()?;
        let Some(row) = row else {
            self.forget(id);
            return None;
        };
        let config = self.config(&row);
        self.recent().insert(id, (Instant::now(), config.clone()));
        Some(config)
    }

    /// The live inbox of one of `kinds` whose public token is `token` (the web chat widget's
    /// `website_token`).
    pub async fn by_public_token(
        &self,
        token: &str,
        kinds: &[&str],
    ) -> Result<Option<InboxConfig>, sea_orm::DbErr> {
        let row = inbox::Entity::find()
            .filter(inbox::Column::PublicToken.eq(token))
            .filter(inbox::Column::ChannelType.is_in(kinds.iter().copied()))
            .filter(inbox::Column::DeletedAt.is_null())
            .one(self.db.conn())
            .await?;
        Ok(row.map(|r| self.config(&r)))
    }

    /// Drops what [`Inboxes::get`] remembers of an inbox this node just changed or deleted.
    pub fn forget(&self, id: i64) {
        self.recent().remove(&id);
    }

    fn recent(&self) -> std::sync::MutexGuard<'_, HashMap<i64, (Instant, InboxConfig)>> {
        self.recent.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every live inbox.
    pub async fn all(&self) -> Result<Vec<InboxConfig>, sea_orm::DbErr> {
        let rows = inbox::Entity::find()
            .filter(inbox::Column::DeletedAt.is_null())
            .all(self.db.conn())
            .await?;
        Ok(rows.iter().map(|r| self.config(r)).collect())
    }

    /// An [`InboxLookup`] limited to one channel type, for that type's ingress routes.
    pub fn lookup_for(&self, kind: ChannelKind) -> Arc<dyn InboxLookup> {
        Arc::new(KindLookup {
            inboxes: self.clone(),
            kind,
        })
    }
}

struct KindLookup {
    inboxes: Inboxes,
    kind: ChannelKind,
}

#[async_trait]
impl InboxLookup for KindLookup {
    async fn inbox(&self, id: i64) -> Option<InboxConfig> {
        self.inboxes.get(id).await.filter(|i| i.kind == self.kind)
    }
}

/// Keeps one running [`Channel`] per inbox: started at boot, restarted when an inbox changes,
/// stopped when it is deleted or Kefu shuts down.
pub struct Runner {
    registry: Arc<ChannelRegistry>,
    sink: Arc<dyn InboundSink>,
    state: Arc<dyn ChannelState>,
    shutdown: CancellationToken,
    tracker: TaskTracker,
    running: Mutex<Running>,
}

/// Running channels by inbox, each with the token that stops it.
type Running = HashMap<i64, (Arc<dyn Channel>, CancellationToken)>;

impl Runner {
    /// A runner building channels from `registry`.
    pub fn new(
        registry: Arc<ChannelRegistry>,
        sink: Arc<dyn InboundSink>,
        state: Arc<dyn ChannelState>,
        shutdown: CancellationToken,
    ) -> Self {
        Self {
            registry,
            sink,
            state,
            shutdown,
            tracker: TaskTracker::new(),
            running: Mutex::new(HashMap::new()),
        }
    }

    /// Starts (or restarts) the channel of `inbox`.
    pub fn start(&self, inbox: &InboxConfig) {
        self.stop(inbox.id);
        let Some(factory) = self.registry.get(inbox.kind.as_str()) else {
            tracing::warn!(inbox = inbox.id, kind = %inbox.kind, "No channel type registered for this inbox; it stays idle.");
            return;
        };
        let channel = match factory.build(inbox) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(inbox = inbox.id, error = %e, "Channel could not be built; fix the inbox settings.");
                return;
            }
        };
        let stop = self.shutdown.child_token();
        let cx = ChannelContext {
            inbox_id: inbox.id,
            inbound: self.sink.clone(),
            state: self.state.clone(),
            shutdown: stop.clone(),
        };
        let id = inbox.id;
        self.tracker.spawn(channel.clone().run(cx).then_log(id));
        self.lock().insert(id, (channel, stop));
    }

    /// Stops the channel of an inbox, if running.
    pub fn stop(&self, inbox_id: i64) {
        if let Some((_, stop)) = self.lock().remove(&inbox_id) {
            stop.cancel();
        }
    }

    /// The running channel of an inbox.
    pub fn channel(&self, inbox_id: i64) -> Option<Arc<dyn Channel>> {
        self.lock().get(&inbox_id).map(|(c, _)| c.clone())
    }

    /// Waits for every channel task to finish after shutdown.
    pub async fn wait(&self) {
        self.tracker.close();
        self.tracker.wait().await;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Running> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }
}

trait ThenLog {
    async fn then_log(self, inbox: i64);
}

impl<F: std::future::Future<Output = Result<(), kefu_channel::ChannelError>>> ThenLog for F {
    async fn then_log(self, inbox: i64) {
        match self.await {
            Ok(()) => tracing::debug!(inbox, "Channel stopped."),
            Err(e) => tracing::error!(inbox, error = %e, "Channel stopped with an error."),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn settings_errors_name_their_field() {
        for (kind, message, want) in [
            (
                "email",
                "imap.port: must be between 1 and 65535",
                Some("imap.port"),
            ),
            (
                "email",
                "imap: missing field `password`",
                Some("imap.password"),
            ),
            ("wechat", "missing field `app_id`", Some("app_id")),
            (
                "wechat",
                "unknown field `appid`, expected one of `app_id`",
                Some("appid"),
            ),
            (
                "web_chat",
                "web_chat: unknown field `colour`, expected ...",
                Some("colour"),
            ),
            (
                "web_chat",
                "hmac_secret: must be at least 16 characters",
                Some("hmac_secret"),
            ),
            (
                "email",
                "settings: missing field `address`",
                Some("address"),
            ),
            ("email", "settings are broken somehow", None),
        ] {
            assert_eq!(settings_field(kind, message).as_deref(), want, "{message}");
        }
    }

    #[test]
    fn pointers_become_dotted_paths() {
        assert_eq!(pointer_to_path("/imap/password"), "imap.password");
        assert_eq!(pointer_to_path("/app_secret"), "app_secret");
    }

    #[test]
    fn secrets_are_taken_out_and_put_back() {
        let mut s =
            json!({"address": "a@b", "imap": {"host": "h", "password": "p1"}, "app_secret": "p2"});
        let secrets = take_secrets(&mut s, &["/imap/password", "/app_secret", "/missing/x"]);
        assert_eq!(s, json!({"address": "a@b", "imap": {"host": "h"}}));
        assert_eq!(secrets.len(), 2);
        put_secrets(&mut s, &secrets);
        assert_eq!(
            s,
            json!({"address": "a@b", "imap": {"host": "h", "password": "p1"}, "app_secret": "p2"})
        );
    }
}
