//! The WeChat Official Account (公众号) channel, type `wechat`.
//!
//! Inbound: WeChat POSTs each message to the callback URL `/channels/wechat/{inbox_id}` within
//! five seconds of the customer sending it and retries three times without an answer. Kefu
//! verifies the query signature (and in safe mode the `msg_signature` over the ciphertext),
//! refuses timestamps outside a ±5 minute window, decrypts, stores the envelope and only then
//! answers `success`. Replies never go in the callback response: agents answer later through
//! the customer-service message API, allowed within 48 hours of the customer's last message.
//!
//! Docs: <https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html>,
//! <https://developers.weixin.qq.com/doc/service/api/customer/message/api_sendcustommessage>.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use kefu_channel::{
    Attachment, Capabilities, Channel, ChannelError, ChannelFactory, ChannelKind, FetchedFile,
    InboxConfig, IngressContext, OutboundMessage, Quota, SendError, SendReceipt,
};
use serde::Deserialize;
use serde_json::json;
use tracing::Instrument as _;

use crate::api::{Api, Credentials};
use crate::crypto::{MsgCrypt, verify_signature};
use crate::inbound::Message;
use crate::ingress::{self, Clock, Options, Reject};
use crate::media;
use crate::replay;
use crate::settings::{self, OfficialSettings};
use crate::template::TemplateSettings;
use crate::xml::XmlDoc;

/// The channel type of Official Accounts.
pub const KIND: &str = "wechat";

/// Customer-service text messages are limited to 2048 bytes; 680 characters fit even when
/// every one is a three-byte CJK character.
pub(crate) const MAX_TEXT_CHARS: usize = 680;
const MAX_TEXT_BYTES: usize = 2048;
/// Replies are allowed within 48 hours of the customer's last message.
pub(crate) const REPLY_WINDOW: Duration = Duration::from_secs(48 * 3600);

/// Builds Official Account channels and serves their callbacks. Register it with the gateway
/// under [`KIND`].
#[derive(Clone, Default)]
pub struct OfficialAccountFactory {
    opts: Options,
}

impl OfficialAccountFactory {
    /// A factory with its own HTTP client and the system clock.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sends API calls through `http` (e.g. a client trusting `tls.extra_root_certs`). Give it
    /// a timeout; the default client times out after 15 seconds.
    pub fn with_http_client(mut self, http: reqwest::Client) -> Self {
        self.opts.http = http;
        self
    }

    /// Replaces the clock used to check callback timestamps (tests, replaying recorded
    /// callbacks).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.opts.clock = clock;
        self
    }

    /// How far a callback timestamp may be from now (default five minutes).
    pub fn with_max_clock_skew(mut self, skew: Duration) -> Self {
        self.opts.max_skew = skew;
        self
    }
}

impl ChannelFactory for OfficialAccountFactory {
    fn kind(&self) -> ChannelKind {
        ChannelKind::new(KIND)
    }

    fn secret_fields(&self) -> &'static [&'static str] {
        &["/app_secret", "/token", "/encoding_aes_key"]
    }

    fn callback_token_field(&self) -> Option<&'static str> {
        Some("/token")
    }

    fn settings_schema(&self) -> serde_json::Value {
        kefu_channel::settings_schema::<OfficialSettings>()
    }

    fn validate(&self, settings: serde_json::Value) -> Result<serde_json::Value, ChannelError> {
        settings::to_value(&OfficialSettings::from_value(&settings)?)
    }

    fn build(
        &self,
        inbox: &InboxConfig,
        cx: &kefu_channel::BuildContext,
    ) -> Result<Arc<dyn Channel>, ChannelError> {
        let s = OfficialSettings::from_value(&inbox.settings)?;
        let api = Api::new(
            self.opts.http.clone(),
            s.api_base(),
            Credentials::OfficialAccount {
                app_id: s.app_id.clone(),
                secret: s.app_secret.clone().into(),
            },
        )
        .shared_through(cx.state.clone(), inbox.id);
        Ok(Arc::new(OfficialAccountChannel {
            inbox_id: inbox.id,
            api,
            caps: capabilities(),
            progress: media::Progress::default(),
            template: s.template,
        }))
    }

    fn ingress(&self, cx: IngressContext) -> Option<Router> {
        let state = Arc::new(IngressState {
            cx,
            opts: self.opts.clone(),
        });
        Some(
            Router::new()
                .route("/{inbox_id}", get(verify_url).post(callback))
                .layer(DefaultBodyLimit::max(ingress::BODY_LIMIT))
                .with_state(state),
        )
    }
}

pub(crate) fn capabilities() -> Capabilities {
    Capabilities {
        max_text_chars: MAX_TEXT_CHARS,
        // Images; other files on WeCom only ([`media`]).
        attachments: true,
        html: false,
        reply_window: Some(REPLY_WINDOW),
        // The customer-service API has no published per-second limit; this keeps bursts
        // well below the daily quota's pace.
        send_quota: Some(Quota::per_second(20)),
        // 5 replies per customer message in 48 hours cannot be expressed per second; the
        // provider's 45047 says when it is used up.
        per_recipient_quota: None,
    }
}

struct OfficialAccountChannel {
    inbox_id: i64,
    api: Api,
    caps: Capabilities,
    progress: media::Progress,
    /// Sent instead of a customer-service message to a closed window, for Kefu's own messages.
    template: Option<TemplateSettings>,
}

/// Refuses what WeChat would refuse anyway, without spending quota, and returns the parts
/// of the reply in sending order ([`media::plan`]).
pub(crate) fn precheck(
    msg: &OutboundMessage,
    account: media::Account,
) -> Result<Vec<media::Part<'_>>, SendError> {
    if let Some(last) = msg.last_inbound_at {
        let window = chrono::Duration::from_std(REPLY_WINDOW).unwrap_or(chrono::Duration::MAX);
        if chrono::Utc::now() - last > window {
            return Err(SendError::permanent(
                "reply_window_closed",
                "The customer has not written for 48 hours; WeChat allows no reply until they do.",
            ));
        }
    }
    let text = msg.content.text.as_str();
    if text.len() > MAX_TEXT_BYTES {
        return Err(SendError::permanent(
            "content_too_long",
            format!("WeChat accepts at most {MAX_TEXT_BYTES} bytes of text."),
        ));
    }
    media::plan(text, msg, account)
}

#[async_trait]
impl Channel for OfficialAccountChannel {
    fn kind(&self) -> ChannelKind {
        ChannelKind::new(KIND)
    }

    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    #[tracing::instrument(name = "wechat_check", skip_all, fields(inbox = self.inbox_id))]
    async fn check(&self, _probe: &kefu_channel::Probe) -> Vec<kefu_channel::Check> {
        vec![crate::check::access_token(&self.api, "WeChat").await]
    }

    async fn send(&self, msg: &OutboundMessage) -> Result<SendReceipt, SendError> {
        let span = tracing::debug_span!(
            "wechat_send",
            inbox = self.inbox_id,
            message = msg.message_id
        );
        async {
            let sent = self.send_custom(msg).await;
            // Kefu's own message (a notification) to a closed window: the template says it.
            let closed = matches!(&sent, Err(SendError::Permanent { code, .. }) if code == "reply_window_closed");
            match &self.template {
                Some(t) if closed && msg.system => t.send(&self.api, msg).await,
                _ => sent,
            }
        }
        .instrument(span)
        .await
    }

    async fn fetch_attachment(&self, attachment: &Attachment) -> Result<FetchedFile, SendError> {
        media::fetch(&self.api, attachment)
            .instrument(tracing::debug_span!(
                "wechat_fetch_media",
                inbox = self.inbox_id
            ))
            .await
    }
}

impl OfficialAccountChannel {
    /// Sends `msg` as customer-service messages (客服消息), within the reply window.
    async fn send_custom(&self, msg: &OutboundMessage) -> Result<SendReceipt, SendError> {
        let parts = precheck(msg, media::Account::Official)?;
        let touser = msg.recipient.external_id.as_str();
        media::deliver(
            &self.api,
            &self.progress,
            msg.message_id,
            "/cgi-bin/message/custom/send",
            &parts,
            |_, part, media_id| match part {
                media::Part::Text(text) => media::text_body(
                    json!({ "touser": touser }),
                    text,
                    &msg.content.extra,
                    parts.len() == 1,
                    media::MenuStyle::Official,
                ),
                // Only images get this far on an Official Account.
                media::Part::Media { kind, .. } => json!({
                    "touser": touser, "msgtype": kind.as_str(),
                    kind.as_str(): { "media_id": media_id },
                }),
            },
        )
        .await?;
        tracing::debug!("Sent a customer-service message.");
        Ok(SendReceipt::default())
    }
}

struct IngressState {
    cx: IngressContext,
    opts: Options,
}

#[derive(Debug, Default, Deserialize)]
struct CallbackQuery {
    signature: Option<String>,
    timestamp: Option<String>,
    nonce: Option<String>,
    echostr: Option<String>,
    encrypt_type: Option<String>,
    msg_signature: Option<String>,
}

async fn settings_of(st: &IngressState, raw_id: &str) -> Result<(i64, OfficialSettings), Reject> {
    let id = ingress::inbox_id(raw_id)?;
    let inbox = st
        .cx
        .inboxes
        .inbox(id)
        .await
        .ok_or_else(Reject::not_found)?;
    let s = OfficialSettings::from_value(&inbox.settings).map_err(|e| {
        tracing::error!(inbox = id, error = %e, "WeChat inbox settings are invalid.");
        Reject::misconfigured()
    })?;
    Ok((id, s))
}

/// `GET /{inbox_id}`: the URL check WeChat runs when the callback is configured. Echoes
/// `echostr` after the signature check (in every mode: the GET carries no ciphertext).
async fn verify_url(
    State(st): State<Arc<IngressState>>,
    Path(raw_id): Path<String>,
    Query(q): Query<CallbackQuery>,
) -> Result<Response, Reject> {
    let (id, s) = settings_of(&st, &raw_id).await?;
    let (ts, nonce) = (
        ingress::param(&q.timestamp, "timestamp")?,
        ingress::param(&q.nonce, "nonce")?,
    );
    let signature = ingress::param(&q.signature, "signature")?;
    let echostr = ingress::param(&q.echostr, "echostr")?;
    ingress::check_fresh(&st.opts, ts)?;
    verify_signature(signature, &[&s.token, ts, nonce]).map_err(|_| {
        tracing::warn!(inbox = id, "WeChat URL verification with a bad signature.");
        Reject::bad_signature()
    })?;
    tracing::info!(inbox = id, "WeChat callback URL verified.");
    Ok(echostr.to_owned().into_response())
}

/// `POST /{inbox_id}`: one message or event, plain or encrypted.
async fn callback(
    State(st): State<Arc<IngressState>>,
    Path(raw_id): Path<String>,
    Query(q): Query<CallbackQuery>,
    body: Bytes,
) -> Result<Response, Reject> {
    let (id, s) = settings_of(&st, &raw_id).await?;
    let span = tracing::debug_span!("wechat_callback", inbox = id);
    async move {
        let (ts, nonce) = (
            ingress::param(&q.timestamp, "timestamp")?,
            ingress::param(&q.nonce, "nonce")?,
        );
        ingress::check_fresh(&st.opts, ts)?;
        let body = std::str::from_utf8(&body)
            .map_err(|_| Reject::bad_request("malformed_body", "the body is not UTF-8"))?;
        let plain = match (q.encrypt_type.as_deref(), s.encoding_aes_key.as_deref()) {
            (Some("aes"), Some(key)) => {
                let msg_signature = q
                    .msg_signature
                    .as_deref()
                    .ok_or_else(Reject::bad_signature)?;
                if let Some(sig) = q.signature.as_deref() {
                    verify_signature(sig, &[&s.token, ts, nonce])?;
                }
                let outer = XmlDoc::parse(body)?;
                let encrypt = outer.require("Encrypt")?;
                let crypt = MsgCrypt::new(s.token.as_str(), key, s.app_id.as_str())?;
                crypt.verify_and_decrypt(msg_signature, ts, nonce, encrypt)?
            }
            (Some("aes"), None) => {
                return Err(Reject::bad_request(
                    "encryption_not_configured",
                    "the callback is encrypted but the inbox has no encoding_aes_key",
                ));
            }
            (Some(_), _) => {
                return Err(Reject::bad_request(
                    "unsupported_encrypt_type",
                    "only encrypt_type=aes is supported",
                ));
            }
            // The plain signature does not cover the body, so once an inbox has a key, plain
            // callbacks could be forged by replaying a captured query string.
            (None, Some(_)) => {
                tracing::warn!("Refused a plain callback for an inbox with an encoding_aes_key; check the account's message encryption mode.");
                return Err(Reject::new(
                    axum::http::StatusCode::FORBIDDEN,
                    "encryption_required",
                    "the inbox expects encrypted callbacks (safe or compatible mode)",
                ));
            }
            (None, None) => {
                let sig = ingress::param(&q.signature, "signature")?;
                verify_signature(sig, &[&s.token, ts, nonce])?;
                body.to_owned()
            }
        };
        let message = Message::from_doc(&XmlDoc::parse(&plain)?)?;
        if q.encrypt_type.is_none() {
            // Only after the body parsed, so junk cannot use up a pair.
            replay::check(
                st.cx.state.as_ref(),
                id,
                ts,
                nonce,
                plain.as_bytes(),
                st.opts.max_skew,
            )
            .await?;
        }
        match message.into_envelope(id) {
            Some(envelope) => ingress::store(st.cx.inbound.as_ref(), envelope).await,
            None => {
                tracing::debug!("Acknowledged a WeChat notification that carries no message.");
                Ok(ingress::success())
            }
        }
    }
    .instrument(span)
    .await
}

#[cfg(test)]
#[path = "official_tests.rs"]
mod tests;
