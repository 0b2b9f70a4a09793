//! # kefu-channel-webchat — website chat
//!
//! A website owner pastes `<script src=".../widget.js" data-website-token="..."></script>`;
//! visitors then chat over the JSON WebSocket protocol in [`protocol`] at `/ws/web_chat`.
//!
//! - [`Widget`]: the socket itself ([`socket`]), an axum router the gateway mounts at
//!   `/ws/web_chat`. Visitor messages go to Kefu through the [`InboundSink`](kefu_channel::InboundSink)
//!   like every channel's; a returning visitor is replayed through
//!   [`ConversationHistory`](kefu_channel::ConversationHistory), the rule the app channel's
//!   sync uses too. What only a realtime host can do (inboxes by `website_token`, live frames,
//!   typing, the queue position, read receipts) comes through [`WidgetHost`], implemented by
//!   Kefu. The same socket serves the app channel's (`app_push`) users.
//! - [`protocol`]: the client and server frames.
//! - [`session`]: signed visitor sessions, so a returning visitor keeps their conversation
//!   without an account, and a forged session is refused.
//! - [`identity`]: Intercom-style identity verification — `user_hash =
//!   hex(HMAC-SHA256(hmac_secret, user_id))`; when the inbox has a secret, unverified
//!   identities are refused.
//! - [`WebChatFactory`]: settings (`hmac_secret?`, `allowed_origins?`) and the channel.
//!   Replies reach visitors through Kefu's realtime hub (open tabs get them at once; a visitor
//!   who was away gets them replayed on return), so `send` has nothing to call.
//! - [`uploads`]: visitors' files: signed tickets and per-session upload budgets.
//! - [`prechat`]: the optional pre-chat form (name, email, the inbox's own fields).
//! - [`FrameLimiter`]: per-connection flood control.
#![warn(missing_docs)]

pub mod abuse;
mod frames;
mod hello;
mod host;
pub mod identity;
pub mod prechat;
pub mod protocol;
pub mod session;
pub mod socket;
pub mod uploads;

pub use abuse::{AbuseGuard, ClientIp, VisitorLimits};
pub use host::{AgentCard, Away, Frame, Offline, QueueSpot, RateRefused, WidgetHost};
pub use socket::Widget;
pub use uploads::UploadGuard;

use std::num::NonZeroU32;
use std::sync::Arc;

use async_trait::async_trait;
use governor::{DefaultDirectRateLimiter, Quota as GQuota, RateLimiter};
use kefu_channel::{
    Capabilities, Channel, ChannelError, ChannelFactory, ChannelKind, InboxConfig, OutboundMessage,
    SendError, SendReceipt,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The channel type name.
pub const KIND: &str = "web_chat";

/// Settings of a web chat inbox.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "Web chat",
    description = "A chat widget for your website: paste the snippet into your pages.",
    extend("x-i18n" = {"zh-CN": {"title": "网页聊天", "description": "网站上的聊天窗口：把代码片段粘贴到网页中即可。"}})
)]
pub struct WebChatSettings {
    /// # Identity secret
    /// When set, a signed-in visitor's `identity.user_hash` must be HMAC-SHA256 of their user
    /// id under this secret (at least 16 characters), so nobody can pose as one of your users.
    /// Write-only: send it again to replace it.
    #[serde(default)]
    #[schemars(extend("writeOnly" = true, "x-i18n" = {"zh-CN": {"title": "身份验证密钥", "description": "设置后，已登录访客的 identity.user_hash 必须是用此密钥对其用户 ID 计算的 HMAC-SHA256（密钥至少 16 个字符），这样无人能冒充你的用户。只写：重新填写即替换。"}}))]
    pub hmac_secret: Option<String>,
    /// # Allowed origins
    /// Websites (`https://shop.example.com`) allowed to open the widget; empty allows all.
    #[serde(default)]
    #[schemars(extend("x-i18n" = {"zh-CN": {"title": "允许的来源", "description": "允许打开聊天窗口的网站（例如 https://shop.example.com）；留空表示全部允许。"}}))]
    pub allowed_origins: Vec<String>,
    /// # Visitor limits
    /// Per IP address: open tabs and new conversations per hour, against scripts that flood
    /// the team with conversations. The defaults suit many visitors behind one NAT.
    #[serde(default, skip_serializing_if = "is_default")]
    pub visitor_limits: VisitorLimits,
    /// # Pre-chat form
    /// Asks visitors for their name, email and your own fields before their first message.
    #[serde(default, skip_serializing_if = "is_off")]
    pub pre_chat: prechat::PreChatForm,
}

fn is_off(f: &prechat::PreChatForm) -> bool {
    *f == prechat::PreChatForm::default()
}

fn is_default(l: &VisitorLimits) -> bool {
    *l == VisitorLimits::default()
}

impl WebChatSettings {
    /// Parses and checks settings.
    pub fn from_value(v: &serde_json::Value) -> Result<Self, ChannelError> {
        let s: Self = serde_json::from_value(v.clone())
            .map_err(|e| ChannelError::InvalidSettings(format!("web_chat: {e}")))?;
        if s.hmac_secret.as_ref().is_some_and(|h| h.len() < 16) {
            return Err(ChannelError::InvalidSettings(
                "hmac_secret: must be at least 16 characters".into(),
            ));
        }
        s.visitor_limits
            .check()
            .map_err(ChannelError::InvalidSettings)?;
        s.pre_chat.check().map_err(ChannelError::InvalidSettings)?;
        for o in &s.allowed_origins {
            let host = o
                .strip_prefix("https://")
                .or_else(|| o.strip_prefix("http://"))
                .map(|h| h.trim_end_matches('/'));
            let ok = host.is_some_and(|h| !h.is_empty() && !h.contains(['/', ' ', '?', '#']));
            if !ok {
                return Err(ChannelError::InvalidSettings(format!(
                    "allowed_origins: {o:?} is not an origin like https://shop.example.com"
                )));
            }
        }
        Ok(s)
    }

    /// Whether a browser `Origin` header may open the widget.
    pub fn origin_allowed(&self, origin: Option<&str>) -> bool {
        self.allowed_origins.is_empty()
            || origin.is_some_and(|o| {
                self.allowed_origins
                    .iter()
                    .any(|a| a.trim_end_matches('/') == o)
            })
    }
}

/// Builds web chat channels.
#[derive(Debug, Clone, Default)]
pub struct WebChatFactory;

impl ChannelFactory for WebChatFactory {
    fn kind(&self) -> ChannelKind {
        ChannelKind::new(KIND)
    }

    fn secret_fields(&self) -> &'static [&'static str] {
        &["/hmac_secret"]
    }

    fn settings_schema(&self) -> serde_json::Value {
        kefu_channel::settings_schema::<WebChatSettings>()
    }

    fn validate(&self, settings: serde_json::Value) -> Result<serde_json::Value, ChannelError> {
        let s = WebChatSettings::from_value(&settings)?;
        serde_json::to_value(s).map_err(|e| ChannelError::InvalidSettings(e.to_string()))
    }

    fn build(
        &self,
        inbox: &InboxConfig,
        _cx: &kefu_channel::BuildContext,
    ) -> Result<Arc<dyn Channel>, ChannelError> {
        WebChatSettings::from_value(&inbox.settings)?;
        Ok(Arc::new(WebChatChannel {
            caps: Capabilities {
                max_text_chars: 4000,
                ..Capabilities::default()
            },
        }))
    }
}

struct WebChatChannel {
    caps: Capabilities,
}

#[async_trait]
impl Channel for WebChatChannel {
    fn kind(&self) -> ChannelKind {
        ChannelKind::new(KIND)
    }

    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    async fn send(&self, msg: &OutboundMessage) -> Result<SendReceipt, SendError> {
        // The stored reply is pushed to the visitor's open tabs by the realtime hub and replayed
        // on their next visit; there is no provider to call.
        Ok(SendReceipt {
            provider_ref: Some(format!("web_chat-{}", msg.message_id)),
            delivered: false,
            ..SendReceipt::default()
        })
    }
}

/// Flood control for one connection: `per_second` frames sustained, `burst` at once.
pub struct FrameLimiter(DefaultDirectRateLimiter);

impl FrameLimiter {
    /// A limiter; zero values are raised to one.
    pub fn new(per_second: u32, burst: u32) -> Self {
        let rate = NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        Self(RateLimiter::direct(
            GQuota::per_second(rate).allow_burst(burst),
        ))
    }

    /// `true` when one more frame is allowed now.
    pub fn allow(&self) -> bool {
        self.0.check().is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_checked() {
        let ok = serde_json::json!({"hmac_secret": "0123456789abcdef", "allowed_origins": ["https://shop.example.com"]});
        let s = WebChatSettings::from_value(&ok).expect("valid");
        assert!(s.origin_allowed(Some("https://shop.example.com")));
        assert!(!s.origin_allowed(Some("https://evil.example.com")));
        assert!(!s.origin_allowed(None));
        assert!(WebChatSettings::default().origin_allowed(None));
        for (bad, needle) in [
            (serde_json::json!({"hmac_secret": "short"}), "hmac_secret"),
            (
                serde_json::json!({"allowed_origins": ["shop.example.com"]}),
                "allowed_origins",
            ),
            (
                serde_json::json!({"allowed_origins": ["https://shop.example.com/path"]}),
                "allowed_origins",
            ),
            (serde_json::json!({"colour": 1}), "colour"),
        ] {
            let e = WebChatSettings::from_value(&bad)
                .expect_err("invalid")
                .to_string();
            assert!(e.contains(needle), "{e}");
        }
    }

    #[test]
    fn limiter_allows_a_burst_then_refuses() {
        let l = FrameLimiter::new(1, 3);
        assert_eq!((0..5).filter(|_| l.allow()).count(), 3);
    }
}
