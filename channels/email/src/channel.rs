//! The `email` channel type: [`EmailFactory`] builds one [`EmailChannel`] per inbox.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use kefu_channel::{
    Capabilities, Channel, ChannelContext, ChannelError, ChannelFactory, ChannelKind, InboxConfig,
    OutboundMessage, Quota, SendError, SendReceipt,
};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Tokio1Executor};
use secrecy::ExposeSecret;
use tracing::{debug, instrument};

use crate::compose::{classify_smtp_error, compose};
use crate::imap::{Mailbox, Timing};
use crate::settings::{EmailSettings, SECRET_FIELDS, TlsMode};

/// The channel type name.
pub const KIND: &str = "email";

/// Registered once by the gateway: `registry.register(Arc::new(EmailFactory::new()))`.
#[derive(Debug, Clone, Default)]
pub struct EmailFactory {
    timing: Timing,
}

impl EmailFactory {
    /// A factory with the default IMAP timing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Overrides how the IMAP loop paces itself (tests use short intervals).
    pub fn with_timing(mut self, timing: Timing) -> Self {
        self.timing = timing;
        self
    }
}

impl ChannelFactory for EmailFactory {
    fn kind(&self) -> ChannelKind {
        ChannelKind::new(KIND)
    }

    fn secret_fields(&self) -> &'static [&'static str] {
        SECRET_FIELDS
    }

    fn validate(&self, settings: serde_json::Value) -> Result<serde_json::Value, ChannelError> {
        EmailSettings::from_json(&settings)?;
        Ok(settings)
    }

    fn build(&self, inbox: &InboxConfig) -> Result<Arc<dyn Channel>, ChannelError> {
        let settings = EmailSettings::from_json(&inbox.settings)?;
        Ok(Arc::new(EmailChannel::new(
            inbox.id,
            settings,
            self.timing.clone(),
        )?))
    }
}

/// One support mailbox.
pub struct EmailChannel {
    inbox_id: i64,
    mailbox: Mailbox,
    smtp: AsyncSmtpTransport<Tokio1Executor>,
    caps: Capabilities,
}

fn smtp_transport(s: &EmailSettings) -> Result<AsyncSmtpTransport<Tokio1Executor>, ChannelError> {
    let host = s.smtp.host.trim();
    let tls = |mode: fn(TlsParameters) -> Tls| {
        TlsParameters::new_rustls(host.to_owned())
            .map(mode)
            .map_err(|e| ChannelError::InvalidSettings(format!("smtp.tls: {e}")))
    };
    let tls = match s.smtp.tls {
        TlsMode::Tls => tls(Tls::Wrapper)?,
        TlsMode::Starttls => tls(Tls::Required)?,
        TlsMode::None => Tls::None,
    };
    let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(s.smtp.port())
        .tls(tls)
        .timeout(Some(Duration::from_secs(60)));
    if !s.domain().is_empty() {
        b = b.hello_name(ClientId::Domain(s.domain().to_owned()));
    }
    if let (Some(user), Some(pass)) = (&s.smtp.username, &s.smtp.password) {
        b = b.credentials(Credentials::new(
            user.clone(),
            pass.expose_secret().to_owned(),
        ));
    }
    Ok(b.build())
}

impl EmailChannel {
    /// A channel for `inbox_id` with checked settings.
    pub fn new(
        inbox_id: i64,
        settings: EmailSettings,
        timing: Timing,
    ) -> Result<Self, ChannelError> {
        Ok(Self {
            inbox_id,
            smtp: smtp_transport(&settings)?,
            mailbox: Mailbox { settings, timing },
            caps: Capabilities {
                max_text_chars: 100_000,
                attachments: false,
                html: true,
                reply_window: None,
                // Mail providers throttle submissions; stay well below common limits.
                send_quota: Some(Quota {
                    per_second: 5,
                    burst: 10,
                }),
                per_recipient_quota: None,
            },
        })
    }
}

#[async_trait]
impl Channel for EmailChannel {
    fn kind(&self) -> ChannelKind {
        ChannelKind::new(KIND)
    }

    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    #[instrument(skip_all, fields(inbox = self.inbox_id))]
    async fn run(self: Arc<Self>, cx: ChannelContext) -> Result<(), ChannelError> {
        self.mailbox.run(&cx).await;
        Ok(())
    }

    #[instrument(skip_all, fields(inbox = self.inbox_id, message = msg.message_id))]
    async fn send(&self, msg: &OutboundMessage) -> Result<SendReceipt, SendError> {
        let composed = compose(&self.mailbox.settings, msg)?;
        self.smtp
            .send(composed.message)
            .await
            .map_err(|e| classify_smtp_error(&e))?;
        debug!(message_id = %composed.message_id, "Reply sent.");
        Ok(SendReceipt {
            provider_ref: Some(composed.message_id),
            delivered: false,
        })
    }
}
