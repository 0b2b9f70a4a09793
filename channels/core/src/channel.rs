//! The traits an adapter implements ([`Channel`], [`ChannelFactory`]) and the ones Kefu provides
//! to it ([`InboundSink`], [`InboxLookup`]).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::{
    Accepted, Attachment, Capabilities, ChannelError, Check, ConversationHistory, Exclusive,
    InboundEnvelope, IngestError, OutboundMessage, Probe, SendError, SendReceipt,
};

/// The type of a channel as it appears in inbox settings (`channel.type`) and URLs
/// (`/channels/<type>/...`): `web_chat`, `wechat`, `wecom_kf`, `email`, `app_push`, or a
/// third-party crate's own name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ChannelKind(pub String);

impl ChannelKind {
    /// Wraps a type name.
    pub fn new(name: impl Into<String>) -> Self {
        Self(name.into())
    }

    /// The type name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ChannelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One configured channel account, e.g. the "support-cn" WeChat Official Account.
#[async_trait]
pub trait Channel: Send + Sync + 'static {
    /// The channel type.
    fn kind(&self) -> ChannelKind;

    /// Text limit, attachments, reply window, send quota.
    fn capabilities(&self) -> &Capabilities;

    /// Pull-style inbound (IMAP): run until `cx.shutdown` fires, handing envelopes to
    /// `cx.inbound`. Push-style channels keep the default, which just waits for shutdown.
    async fn run(self: Arc<Self>, cx: ChannelContext) -> Result<(), ChannelError> {
        cx.shutdown.cancelled().await;
        Ok(())
    }

    /// Deliver one reply; the error says whether a retry can help. Attachments arrive with their
    /// bytes in [`Attachment::data`].
    async fn send(&self, msg: &OutboundMessage) -> Result<SendReceipt, SendError>;

    /// Download an inbound attachment Kefu holds only a provider reference for (a WeChat
    /// `MediaId`), when someone opens it. Kefu keeps the bytes it gets, so this runs once per
    /// file. The default says the channel cannot.
    async fn fetch_attachment(&self, attachment: &Attachment) -> Result<FetchedFile, SendError> {
        let _ = attachment;
        Err(SendError::Permanent {
            code: "not_downloadable".into(),
            reason: format!("the {} channel cannot download attachments", self.kind()),
        })
    }

    /// Tests the account's credentials and connections for an admin ("test connection"):
    /// log in, fetch a token, send a test push. Each [`Check`] says what the provider or server
    /// answered; bound each with [`Check::bounded`] and never put a secret in its `detail`.
    /// The default has nothing to test and returns no checks.
    async fn check(&self, probe: &Probe) -> Vec<Check> {
        let _ = probe;
        Vec::new()
    }
}

/// Where adapters hand inbound envelopes. Implemented by Kefu's normalizer.
#[async_trait]
pub trait InboundSink: Send + Sync + 'static {
    /// Store the envelope durably. When this returns `Ok`, the message is committed and the
    /// provider may be acknowledged.
    async fn accept(&self, envelope: InboundEnvelope) -> Result<Accepted, IngestError>;
}

/// Small durable per-inbox state for adapters: sync cursors, IMAP UIDVALIDITY and last UID,
/// provider access tokens. Implemented by Kefu on its database.
#[async_trait]
pub trait ChannelState: Send + Sync + 'static {
    /// The value stored under `key` for `inbox_id`.
    async fn get(&self, inbox_id: i64, key: &str) -> Result<Option<String>, IngestError>;
    /// Stores `value` under `key` for `inbox_id`, replacing what was there.
    async fn put(&self, inbox_id: i64, key: &str, value: &str) -> Result<(), IngestError>;
    /// Holds `key` of `inbox_id` until the returned [`Exclusive`] drops: one holder at a time
    /// across every Kefu node on the database, for work that must not overlap itself, such as
    /// a pull that moves a sync cursor while a callback may arrive at any node. Waits at most
    /// `wait` for the current holder, then fails with [`IngestError::Unavailable`].
    async fn exclusive(
        &self,
        inbox_id: i64,
        key: &str,
        wait: Duration,
    ) -> Result<Exclusive, IngestError>;
    /// Remembers `value` under `key` of `inbox_id` for `ttl`, unless a value remembered less
    /// than `ttl` ago is there already: returns that value, or `None` when this call stored
    /// its own. One answer across every Kefu node on the database: of two concurrent first
    /// calls, exactly one gets `None`. For "seen once" checks such as callback nonces; keys
    /// live apart from [`get`](Self::get)/[`put`](Self::put) keys, and are forgotten some
    /// time after `ttl`.
    async fn remember(
        &self,
        inbox_id: i64,
        key: &str,
        value: &str,
        ttl: Duration,
    ) -> Result<Option<String>, IngestError>;
}

/// What a running [`Channel`] gets from Kefu.
#[derive(Clone)]
pub struct ChannelContext {
    /// The inbox this channel serves.
    pub inbox_id: i64,
    /// Where to hand inbound envelopes.
    pub inbound: Arc<dyn InboundSink>,
    /// Durable per-inbox state.
    pub state: Arc<dyn ChannelState>,
    /// Fires when Kefu shuts down or the inbox is reconfigured; stop promptly.
    pub shutdown: CancellationToken,
}

/// An inbox as Kefu stores it, with its secrets decrypted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboxConfig {
    /// The inbox id.
    pub id: i64,
    /// The inbox's display name.
    pub name: String,
    /// The channel type.
    pub kind: ChannelKind,
    /// The channel settings, secrets included, as the admin entered them (after
    /// [`ChannelFactory::validate`]).
    pub settings: serde_json::Value,
    /// A random public token Kefu generated for the inbox (the web chat `website_token`).
    pub public_token: String,
    /// The address people and providers reach Kefu at (`public_url`), without trailing slash.
    pub public_url: String,
}

/// Looks up inboxes for ingress routes. Implemented by Kefu (with a cache).
#[async_trait]
pub trait InboxLookup: Send + Sync + 'static {
    /// The inbox with this id, when it exists and is of the asking channel's type.
    async fn inbox(&self, id: i64) -> Option<InboxConfig>;
}

/// What a factory's ingress router gets from Kefu.
#[derive(Clone)]
pub struct IngressContext {
    /// Where to hand inbound envelopes.
    pub inbound: Arc<dyn InboundSink>,
    /// Inboxes of this factory's type.
    pub inboxes: Arc<dyn InboxLookup>,
    /// Durable per-inbox state.
    pub state: Arc<dyn ChannelState>,
    /// Read access to stored messages, for channels whose clients sync (the app channel).
    /// `None` where Kefu has no history to offer (adapter tests).
    pub history: Option<Arc<dyn ConversationHistory>>,
    /// Fires on shutdown.
    pub shutdown: CancellationToken,
}

/// What Kefu hands a factory when it builds a channel: the services its ingress router gets
/// too, so a factory holds no state of its own that waits to be wired up.
#[derive(Clone)]
pub struct BuildContext {
    /// Durable per-inbox state.
    pub state: Arc<dyn ChannelState>,
    /// Read access to stored messages, for channels whose clients sync (the app channel).
    /// `None` where Kefu has no history to offer (adapter tests).
    pub history: Option<Arc<dyn ConversationHistory>>,
}

impl BuildContext {
    /// A context on `state`, without history.
    pub fn new(state: Arc<dyn ChannelState>) -> Self {
        Self {
            state,
            history: None,
        }
    }

    /// Adds read access to stored messages.
    pub fn with_history(mut self, history: Arc<dyn ConversationHistory>) -> Self {
        self.history = Some(history);
        self
    }
}

/// Registered once per channel type by the gateway.
pub trait ChannelFactory: Send + Sync + 'static {
    /// The channel type this factory builds.
    fn kind(&self) -> ChannelKind;

    /// JSON pointers (RFC 6901) of the settings that are secrets, e.g. `/app_secret` or
    /// `/imap/password`. Kefu encrypts them at rest and never returns them through the API.
    fn secret_fields(&self) -> &'static [&'static str] {
        &[]
    }

    /// The JSON pointer of the secret setting the provider's console asks for together with
    /// the callback URL (WeChat's and WeCom's verification `/token`). Kefu shows it to admins
    /// next to the URL, so they can paste both; other roles never see it. `None` (the default)
    /// for channels without one.
    fn callback_token_field(&self) -> Option<&'static str> {
        None
    }

    /// Whether the provider calls Kefu at the channel's callback URL (WeChat, WeCom), so
    /// `public_url` must be reachable from the internet. The console warns when it is not.
    /// By default, channels with a [`callback_token_field`](Self::callback_token_field) do.
    fn provider_callback(&self) -> bool {
        self.callback_token_field().is_some()
    }

    /// The JSON Schema (draft 2020-12) of the settings object, from which the console builds
    /// the inbox form: usually [`settings_schema`](crate::settings_schema) of a struct deriving
    /// [`schemars::JsonSchema`]. The default accepts any object, and the console falls back to
    /// a JSON editor.
    fn settings_schema(&self) -> serde_json::Value {
        serde_json::json!({"type": "object"})
    }

    /// Checks and normalizes settings an admin submitted. The error names the field and says
    /// what is wrong with it.
    fn validate(&self, settings: serde_json::Value) -> Result<serde_json::Value, ChannelError> {
        Ok(settings)
    }

    /// Builds the channel for one inbox, with Kefu's services in `cx`.
    fn build(
        &self,
        inbox: &InboxConfig,
        cx: &BuildContext,
    ) -> Result<Arc<dyn Channel>, ChannelError>;

    /// The path segment under `/channels/` where [`ingress`](Self::ingress) is mounted; the
    /// type name unless the provider's documentation uses another (WeCom: `wecom`).
    fn route_name(&self) -> String {
        self.kind().0
    }

    /// Push-style ingress, mounted by the gateway under `/channels/<route_name>`. Paths are
    /// relative to that prefix, e.g. `/{inbox_id}`.
    fn ingress(&self, _cx: IngressContext) -> Option<axum::Router> {
        None
    }
}

/// The bytes of an attachment a channel downloaded from its provider.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchedFile {
    /// The file's bytes.
    pub data: bytes::Bytes,
    /// The MIME type the provider gave, when it gave one.
    pub mime: Option<String>,
}
