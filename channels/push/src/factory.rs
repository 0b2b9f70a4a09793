//! [`PushFactory`]: registers the `app_push` type with Kefu.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use kefu_channel::{
    BuildContext, Channel, ChannelError, ChannelFactory, ChannelKind, InboxConfig, IngressContext,
    LivePresence,
};

use crate::apns::{Apns, Signer};
use crate::channel::{PushChannel, capabilities};
use crate::fcm::Fcm;
use crate::oauth::{ServiceAccount, TokenSource};
use crate::settings::PushSettings;
use crate::wiring::{DEVICE_BURST, DEVICE_PER_MINUTE, Wiring};

/// The channel type.
pub const KIND: &str = "app_push";
/// Where the app API is mounted: `/channels/app/...`.
pub const ROUTE: &str = "app";

/// Builds app channels and serves the app API. One factory serves every `app_push` inbox.
#[derive(Clone)]
pub struct PushFactory {
    http: reqwest::Client,
    wiring: Arc<Wiring>,
    presence: Option<Arc<dyn LivePresence>>,
}

impl Default for PushFactory {
    fn default() -> Self {
        Self::new()
    }
}

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

impl PushFactory {
    /// A factory with its own HTTP client (15-second timeout) and the default per-device limit
    /// (a burst of 5 pushes, then 10 a minute).
    pub fn new() -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Self {
            http,
            wiring: Arc::new(Wiring::new(nz(DEVICE_PER_MINUTE), nz(DEVICE_BURST))),
            presence: None,
        }
    }

    /// Asks `presence` before pushing a reply: a user whose app follows the conversation live
    /// (Kefu's WebSocket) gets the reply there and no notification. Without it every reply is
    /// pushed.
    pub fn with_presence(mut self, presence: Arc<dyn LivePresence>) -> Self {
        self.presence = Some(presence);
        self
    }

    /// Sends through `http` (e.g. a client trusting `tls.extra_root_certs`). APNs needs HTTP/2,
    /// which reqwest negotiates through ALPN; give the client a timeout.
    pub fn with_http_client(mut self, http: reqwest::Client) -> Self {
        self.http = http;
        self
    }

    /// Changes how many pushes one device gets: `burst` at once, then `per_minute`. Replaces the
    /// limiter, so call it before the factory is registered.
    pub fn with_device_limit(mut self, per_minute: u32, burst: u32) -> Self {
        self.wiring = Arc::new(Wiring::new(nz(per_minute), nz(burst)));
        self
    }
}

impl ChannelFactory for PushFactory {
    fn kind(&self) -> ChannelKind {
        ChannelKind::new(KIND)
    }

    fn secret_fields(&self) -> &'static [&'static str] {
        &[
            "/app_secret",
            "/fcm/service_account_json",
            "/apns/private_key_pem",
        ]
    }

    fn settings_schema(&self) -> serde_json::Value {
        kefu_channel::settings_schema::<PushSettings>()
    }

    fn validate(&self, settings: serde_json::Value) -> Result<serde_json::Value, ChannelError> {
        PushSettings::from_value(&settings)?.to_value()
    }

    fn build(
        &self,
        inbox: &InboxConfig,
        cx: &BuildContext,
    ) -> Result<Arc<dyn Channel>, ChannelError> {
        let s = PushSettings::from_value(&inbox.settings)?;
        let fcm = match &s.fcm {
            Some(f) => {
                let file = f.service_account()?;
                let account = ServiceAccount {
                    key: file.signing_key()?,
                    token_uri: file.token_uri()?,
                    key_id: file.private_key_id.clone(),
                    client_email: file.client_email,
                };
                Some(Fcm::new(
                    self.http.clone(),
                    f.api_base(),
                    &f.project_id,
                    TokenSource::new(self.http.clone(), account),
                ))
            }
            None => None,
        };
        let apns = match &s.apns {
            Some(a) => Some(Apns::new(
                self.http.clone(),
                a.api_base(),
                a.topic.clone(),
                Signer::new(a.team_id.clone(), a.key_id.clone(), a.signing_key()?),
            )),
            None => None,
        };
        Ok(Arc::new(PushChannel {
            inbox_id: inbox.id,
            show_preview: s.show_preview,
            fcm,
            apns,
            wiring: self.wiring.clone(),
            store: self.wiring.store_on(cx.state.clone()),
            history: cx.history.clone(),
            presence: self.presence.clone(),
            caps: capabilities(),
        }))
    }

    fn route_name(&self) -> String {
        ROUTE.to_owned()
    }

    fn ingress(&self, cx: IngressContext) -> Option<Router> {
        let store = self.wiring.store_on(cx.state.clone());
        Some(crate::ingress::router(cx, store))
    }
}
