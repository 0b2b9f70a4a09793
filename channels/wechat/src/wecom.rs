//! The WeCom customer-service (微信客服) channel, type `wecom_kf`.
//!
//! Inbound: WeCom calls the inbox's callback URL (this router's `/{inbox_id}`, mounted by the
//! gateway) with an encrypted `kf_msg_or_event` event that carries no message, only a
//! short-lived `Token`. Kefu then pulls with
//! `cgi-bin/kf/sync_msg` from the cursor it persisted (`wecom_kf.cursor` in
//! [`ChannelState`](kefu_channel::ChannelState)) until `has_more == 0`, stores each customer
//! message, advances the cursor only after a page is stored, and answers `success` at the end.
//! When storage or the API fails it answers 503, WeCom retries the callback, and the next pull
//! resumes from the last stored page; `msgid` dedupe makes overlaps harmless. [`Channel::run`]
//! pulls once at start and every ten minutes, so messages that arrived while Kefu was down
//! are not left waiting for the customer's next message.
//!
//! Outbound: `cgi-bin/kf/send_msg` with `msgid = kefu-<message id>` as idempotency key; at most
//! five replies within 48 hours of the customer's last message.
//!
//! Docs: <https://developer.work.weixin.qq.com/document/31078> (callbacks, sync_msg),
//! <https://developer.work.weixin.qq.com/document/path/96427> (send_msg),
//! <https://developer.work.weixin.qq.com/document/path/90968> (callback crypto).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use kefu_channel::{
    Attachment, Capabilities, Channel, ChannelContext, ChannelError, ChannelFactory, ChannelKind,
    ChannelState, FetchedFile, InboundSink, InboxConfig, IngestError, IngressContext,
    OutboundMessage, SendError, SendReceipt,
};
use serde::Deserialize;
use serde_json::{Value, json};
use tracing::Instrument as _;

use crate::api::{Api, Credentials};
use crate::crypto::MsgCrypt;
use crate::ingress::{self, Clock, Options, Reject};
use crate::kf_msg::{KfMessage, SyncPage};
use crate::media;
use crate::settings::{self, WecomSettings};
use crate::xml::XmlDoc;

/// The channel type of WeCom customer service.
pub const KIND: &str = "wecom_kf";

/// Where the sync cursor is persisted.
pub(crate) const CURSOR_KEY: &str = "wecom_kf.cursor";
/// A bound on pages per pull, so a provider that always says `has_more` cannot loop forever.
const MAX_PAGES: usize = 100;
/// How often [`Channel::run`] pulls without a callback.
const CATCH_UP_EVERY: Duration = Duration::from_secs(600);
/// How long a callback waits for a pull already running (on any node) before it answers 503
/// and lets WeCom retry: WeCom gives up on an answer after five seconds.
const CALLBACK_WAIT: Duration = Duration::from_secs(3);
/// How long a catch-up pull waits for a pull already running.
const CATCH_UP_WAIT: Duration = Duration::from_secs(60);

/// One kf account's settings and API client. Its access token is shared with the other
/// nodes (and with every other `Account` of the inbox) through [`ChannelState`], so the channel
/// and each callback build their own.
struct Account {
    settings: WecomSettings,
    api: Api,
}

/// Builds WeCom customer-service channels and serves their callbacks. Register it with the
/// gateway under [`KIND`].
#[derive(Clone, Default)]
pub struct WecomKfFactory {
    opts: Options,
}

impl WecomKfFactory {
    /// A factory with its own HTTP client and the system clock.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sends API calls through `http` (e.g. a client trusting `tls.extra_root_certs`).
    pub fn with_http_client(mut self, http: reqwest::Client) -> Self {
        self.opts.http = http;
        self
    }

    /// Replaces the clock used to check callback timestamps.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.opts.clock = clock;
        self
    }

    /// How far a callback timestamp may be from now (default five minutes).
    pub fn with_max_clock_skew(mut self, skew: Duration) -> Self {
        self.opts.max_skew = skew;
        self
    }

    /// The account of `inbox_id`; its access token is shared through `state`.
    fn account(
        &self,
        inbox_id: i64,
        settings: WecomSettings,
        state: &Arc<dyn ChannelState>,
    ) -> Account {
        let api = Api::new(
            self.opts.http.clone(),
            settings.api_base(),
            Credentials::WeCom {
                corp_id: settings.corp_id.clone(),
                secret: settings.secret.clone().into(),
            },
        )
        .shared_through(state.clone(), inbox_id);
        Account { settings, api }
    }
}

impl ChannelFactory for WecomKfFactory {
    fn kind(&self) -> ChannelKind {
        ChannelKind::new(KIND)
    }

    fn route_name(&self) -> String {
        // The callback URL documented for admins is /channels/wecom/{inbox_id}.
        "wecom".into()
    }

    fn secret_fields(&self) -> &'static [&'static str] {
        &["/secret", "/token", "/encoding_aes_key"]
    }

    fn callback_token_field(&self) -> Option<&'static str> {
        Some("/token")
    }

    fn settings_schema(&self) -> serde_json::Value {
        kefu_channel::settings_schema::<WecomSettings>()
    }

    fn validate(&self, settings: serde_json::Value) -> Result<serde_json::Value, ChannelError> {
        settings::to_value(&WecomSettings::from_value(&settings)?)
    }

    fn build(
        &self,
        inbox: &InboxConfig,
        cx: &kefu_channel::BuildContext,
    ) -> Result<Arc<dyn Channel>, ChannelError> {
        let s = WecomSettings::from_value(&inbox.settings)?;
        Ok(Arc::new(WecomKfChannel {
            inbox_id: inbox.id,
            account: self.account(inbox.id, s, &cx.state),
            progress: media::Progress::default(),
            caps: crate::official::capabilities(),
        }))
    }

    fn ingress(&self, cx: IngressContext) -> Option<Router> {
        let state = Arc::new(IngressState {
            cx,
            factory: self.clone(),
        });
        Some(
            Router::new()
                .route("/{inbox_id}", get(verify_url).post(callback))
                .layer(DefaultBodyLimit::max(ingress::BODY_LIMIT))
                .with_state(state),
        )
    }
}

struct WecomKfChannel {
    inbox_id: i64,
    account: Account,
    /// Parts of partly sent replies.
    progress: media::Progress,
    caps: Capabilities,
}

#[async_trait]
impl Channel for WecomKfChannel {
    fn kind(&self) -> ChannelKind {
        ChannelKind::new(KIND)
    }

    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    #[tracing::instrument(name = "wecom_kf_check", skip_all, fields(inbox = self.inbox_id))]
    async fn check(&self, _probe: &kefu_channel::Probe) -> Vec<kefu_channel::Check> {
        vec![crate::check::access_token(&self.account.api, "WeCom").await]
    }

    async fn run(self: Arc<Self>, cx: ChannelContext) -> Result<(), ChannelError> {
        let mut every = tokio::time::interval(CATCH_UP_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = cx.shutdown.cancelled() => return Ok(()),
                _ = every.tick() => {
                    let pulled = pull(&self.account, self.inbox_id, None, CATCH_UP_WAIT, &*cx.inbound, &*cx.state)
                        .instrument(tracing::debug_span!("wecom_kf_catch_up", inbox = self.inbox_id))
                        .await;
                    if let Err(e) = pulled {
                        tracing::warn!(inbox = self.inbox_id, error = %e, "WeCom catch-up pull failed; will try again.");
                    }
                }
            }
        }
    }

    async fn fetch_attachment(&self, attachment: &Attachment) -> Result<FetchedFile, SendError> {
        media::fetch(&self.account.api, attachment)
            .instrument(tracing::debug_span!(
                "wecom_kf_fetch_media",
                inbox = self.inbox_id
            ))
            .await
    }

    async fn send(&self, msg: &OutboundMessage) -> Result<SendReceipt, SendError> {
        let span = tracing::debug_span!(
            "wecom_kf_send",
            inbox = self.inbox_id,
            message = msg.message_id
        );
        async {
            let parts = crate::official::precheck(msg, media::Account::WecomKf)?;
            let touser = msg.recipient.external_id.as_str();
            let open_kfid = self.account.settings.open_kfid.as_str();
            // The first part carries `kefu-<id>`, later ones `kefu-<id>-<n>`: unique per
            // account as WeCom requires, and stable across retries.
            let msgid = |i: usize| match i {
                0 => format!("kefu-{}", msg.message_id),
                n => format!("kefu-{}-{n}", msg.message_id),
            };
            let first = media::deliver(
                &self.account.api,
                &self.progress,
                msg.message_id,
                "/cgi-bin/kf/send_msg",
                &parts,
                |i, part, media_id| match part {
                    media::Part::Text(text) => media::text_body(
                        json!({"touser": touser, "open_kfid": open_kfid, "msgid": msgid(i)}),
                        text,
                        &msg.content.extra,
                        parts.len() == 1,
                        media::MenuStyle::Kf,
                    ),
                    media::Part::Media { kind, .. } => json!({
                        "touser": touser, "open_kfid": open_kfid, "msgid": msgid(i),
                        "msgtype": kind.as_str(), kind.as_str(): { "media_id": media_id },
                    }),
                },
            )
            .await?;
            Ok(SendReceipt {
                provider_ref: first
                    .as_ref()
                    .and_then(|r| r.get("msgid"))
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                delivered: false,
                ..SendReceipt::default()
            })
        }
        .instrument(span)
        .await
    }
}

/// Why a pull stopped early.
#[derive(Debug, thiserror::Error)]
enum PullError {
    #[error("storage unavailable: {0}")]
    Storage(String),
    #[error("sync_msg failed: {0}")]
    Provider(SendError),
}

impl From<IngestError> for PullError {
    fn from(e: IngestError) -> Self {
        Self::Storage(e.to_string())
    }
}

/// Pulls every pending message of the account into `sink`; returns how many were stored.
/// Pulls of one account run one at a time across all nodes (waiting at most `wait` for the
/// running one), so the cursor only moves forward.
async fn pull(
    account: &Account,
    inbox_id: i64,
    callback_token: Option<&str>,
    wait: Duration,
    sink: &dyn InboundSink,
    state: &dyn ChannelState,
) -> Result<usize, PullError> {
    let _one_at_a_time = state.exclusive(inbox_id, CURSOR_KEY, wait).await?;
    let mut cursor = state.get(inbox_id, CURSOR_KEY).await?;
    let mut callback_token = callback_token;
    let mut stored = 0;
    for _ in 0..MAX_PAGES {
        let mut req = json!({
            "limit": 1000,
            "voice_format": 0,
            "open_kfid": account.settings.open_kfid,
        });
        if let Some(c) = cursor.as_deref().filter(|c| !c.is_empty()) {
            req["cursor"] = json!(c);
        }
        if let Some(t) = callback_token {
            req["token"] = json!(t);
        }
        let resp = match account.api.post("/cgi-bin/kf/sync_msg", &req).await {
            Ok(resp) => resp,
            // A refusal of the request itself may be an expired callback token (valid ten
            // minutes; WeCom retries later) or a cursor WeCom no longer knows. Drop the token
            // first, then the cursor — which re-reads the last three days, deduped by msgid —
            // so a stale value cannot block the inbox for good.
            Err(SendError::Permanent { code, .. }) if callback_token.is_some() => {
                tracing::warn!(inbox = inbox_id, %code, "sync_msg refused; retrying without the callback token.");
                callback_token = None;
                continue;
            }
            Err(SendError::Permanent { code, .. }) if cursor.is_some() => {
                tracing::warn!(inbox = inbox_id, %code, "sync_msg refused; retrying from the oldest message.");
                cursor = None;
                continue;
            }
            Err(e) => return Err(PullError::Provider(e)),
        };
        let page: SyncPage = serde_json::from_value(resp).map_err(|e| {
            PullError::Provider(SendError::retryable(format!(
                "unreadable sync_msg page: {e}"
            )))
        })?;
        for item in page.msg_list {
            let Ok(msg) = serde_json::from_value::<KfMessage>(item) else {
                tracing::warn!(inbox = inbox_id, "Skipped an unreadable sync_msg item.");
                continue;
            };
            let Some(envelope) = msg.into_envelope(inbox_id) else {
                continue;
            };
            match sink.accept(envelope).await {
                Ok(_) => stored += 1,
                Err(IngestError::Rejected(reason)) => {
                    tracing::warn!(inbox = inbox_id, %reason, "Kefu rejected a WeCom message; skipping it.");
                }
                Err(e @ IngestError::Unavailable(_)) => return Err(e.into()),
            }
        }
        // Only after the whole page is stored: a crash before this re-pulls the page.
        if !page.next_cursor.is_empty() {
            state.put(inbox_id, CURSOR_KEY, &page.next_cursor).await?;
            cursor = Some(page.next_cursor);
        }
        // Pages may be empty while has_more is 1; only has_more ends the pull.
        if page.has_more == 0 {
            return Ok(stored);
        }
    }
    tracing::warn!(
        inbox = inbox_id,
        "Stopped a WeCom pull after {MAX_PAGES} pages."
    );
    Ok(stored)
}

struct IngressState {
    cx: IngressContext,
    factory: WecomKfFactory,
}

#[derive(Debug, Default, Deserialize)]
struct CallbackQuery {
    msg_signature: Option<String>,
    timestamp: Option<String>,
    nonce: Option<String>,
    echostr: Option<String>,
}

async fn settings_of(st: &IngressState, raw_id: &str) -> Result<(i64, WecomSettings), Reject> {
    let id = ingress::inbox_id(raw_id)?;
    let inbox = st
        .cx
        .inboxes
        .inbox(id)
        .await
        .ok_or_else(Reject::not_found)?;
    let s = WecomSettings::from_value(&inbox.settings).map_err(|e| {
        tracing::error!(inbox = id, error = %e, "WeCom inbox settings are invalid.");
        Reject::misconfigured()
    })?;
    Ok((id, s))
}

fn crypt(s: &WecomSettings) -> Result<MsgCrypt, Reject> {
    Ok(MsgCrypt::new(
        s.token.as_str(),
        &s.encoding_aes_key,
        s.corp_id.as_str(),
    )?)
}

/// `GET /{inbox_id}`: WeCom's URL check — verify `msg_signature` over `echostr`, decrypt it
/// and answer the plaintext.
async fn verify_url(
    State(st): State<Arc<IngressState>>,
    Path(raw_id): Path<String>,
    Query(q): Query<CallbackQuery>,
) -> Result<Response, Reject> {
    let (id, s) = settings_of(&st, &raw_id).await?;
    let sig = ingress::param(&q.msg_signature, "msg_signature")?;
    let ts = ingress::param(&q.timestamp, "timestamp")?;
    let nonce = ingress::param(&q.nonce, "nonce")?;
    // Base64 has no spaces: a space is a `+` that reached us unencoded and was form-decoded.
    let echostr = ingress::param(&q.echostr, "echostr")?.replace(' ', "+");
    ingress::check_fresh(&st.factory.opts, ts)?;
    let plain = crypt(&s)?
        .verify_and_decrypt(sig, ts, nonce, &echostr)
        .inspect_err(
            |e| tracing::warn!(inbox = id, error = %e, "WeCom URL verification refused."),
        )?;
    tracing::info!(inbox = id, "WeCom callback URL verified.");
    Ok(plain.into_response())
}

/// `POST /{inbox_id}`: a `kf_msg_or_event` notification; pulls the messages it announces.
async fn callback(
    State(st): State<Arc<IngressState>>,
    Path(raw_id): Path<String>,
    Query(q): Query<CallbackQuery>,
    body: Bytes,
) -> Result<Response, Reject> {
    let (id, s) = settings_of(&st, &raw_id).await?;
    let span = tracing::debug_span!("wecom_kf_callback", inbox = id);
    async move {
        let sig = ingress::param(&q.msg_signature, "msg_signature")?;
        let ts = ingress::param(&q.timestamp, "timestamp")?;
        let nonce = ingress::param(&q.nonce, "nonce")?;
        ingress::check_fresh(&st.factory.opts, ts)?;
        let body = std::str::from_utf8(&body)
            .map_err(|_| Reject::bad_request("malformed_body", "the body is not UTF-8"))?;
        let outer = XmlDoc::parse(body)?;
        let plain = crypt(&s)?.verify_and_decrypt(sig, ts, nonce, outer.require("Encrypt")?)?;
        let event = XmlDoc::parse(&plain)?;
        if event.get("Event") != Some("kf_msg_or_event") {
            tracing::debug!("Acknowledged a WeCom callback that is not kf_msg_or_event.");
            return Ok(ingress::success());
        }
        if event.get("OpenKfId").is_some_and(|k| k != s.open_kfid) {
            tracing::debug!("Acknowledged a kf event for another customer-service account.");
            return Ok(ingress::success());
        }
        let account = st.factory.account(id, s, &st.cx.state);
        let token = event.non_empty("Token");
        let pulled = pull(
            &account,
            id,
            token,
            CALLBACK_WAIT,
            &*st.cx.inbound,
            &*st.cx.state,
        );
        match pulled.await {
            Ok(n) => {
                tracing::debug!(stored = n, "Pulled WeCom messages.");
                Ok(ingress::success())
            }
            Err(PullError::Provider(SendError::Permanent { code, reason })) => {
                // Retrying the callback cannot fix configuration; an operator must.
                tracing::error!(%code, %reason, "WeCom sync_msg refused; check the inbox settings.");
                Ok(ingress::success())
            }
            Err(e) => {
                tracing::warn!(error = %e, "WeCom pull failed; WeCom will retry the callback.");
                Err(Reject::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "pull_failed",
                    "messages could not be pulled and stored; retry later",
                ))
            }
        }
    }
    .instrument(span)
    .await
}

#[cfg(test)]
#[path = "wecom_tests.rs"]
mod tests;
