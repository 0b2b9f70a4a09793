//! The `email` channel type: [`EmailFactory`] builds one [`EmailChannel`] per inbox.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use kefu_channel::{
    Capabilities, Channel, ChannelContext, ChannelError, ChannelFactory, ChannelKind, InboxConfig,
    OutboundMessage, Quota, SendError, SendReceipt,
};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Tokio1Executor};
use secrecy::ExposeSecret;
use tokio_rustls::rustls::pki_types::CertificateDer;
use tokio_rustls::rustls::pki_types::pem::PemObject as _;
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
    extra_roots: Arc<Vec<CertificateDer<'static>>>,
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

    /// Trusts these PEM certificates besides the public roots, for IMAP and SMTP (Kefu's
    /// `tls.extra_root_certs`: corporate CAs, test servers).
    pub fn with_extra_root_certs_pem(mut self, pem: &[u8]) -> Result<Self, ChannelError> {
        let certs = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ChannelError::Fatal(format!("extra root certificates: {e}")))?;
        if certs.is_empty() {
            return Err(ChannelError::Fatal(
                "extra root certificates: no certificate in the PEM data".into(),
            ));
        }
        self.extra_roots = Arc::new(certs);
        Ok(self)
    }
}

impl ChannelFactory for EmailFactory {
    fn kind(&self) -> ChannelKind {
        ChannelKind::new(KIND)
    }

    fn secret_fields(&self) -> &'static [&'static str] {
        SECRET_FIELDS
    }

    fn settings_schema(&self) -> serde_json::Value {
        kefu_channel::settings_schema::<EmailSettings>()
    }

    fn validate(&self, settings: serde_json::Value) -> Result<serde_json::Value, ChannelError> {
        EmailSettings::from_json(&settings)?;
        Ok(settings)
    }

    fn build(
        &self,
        inbox: &InboxConfig,
        _cx: &kefu_channel::BuildContext,
    ) -> Result<Arc<dyn Channel>, ChannelError> {
        let settings = EmailSettings::from_json(&inbox.settings)?;
        let mut channel = EmailChannel::new(inbox.id, settings, self.timing.clone())?;
        if !self.extra_roots.is_empty() {
            channel.smtp = smtp_transport(&channel.mailbox.settings, &self.extra_roots)?;
            channel.mailbox.extra_roots = self.extra_roots.clone();
        }
        Ok(Arc::new(channel))
    }
}

/// One support mailbox.
pub struct EmailChannel {
    inbox_id: i64,
    mailbox: Mailbox,
    smtp: AsyncSmtpTransport<Tokio1Executor>,
    caps: Capabilities,
}

fn smtp_transport(
    s: &EmailSettings,
    extra_roots: &[CertificateDer<'static>],
) -> Result<AsyncSmtpTransport<Tokio1Executor>, ChannelError> {
    let host = s.smtp.host.trim();
    let tls = |mode: fn(TlsParameters) -> Tls| {
        let invalid = |e: lettre::transport::smtp::Error| {
            ChannelError::InvalidSettings(format!("smtp.tls: {e}"))
        };
        let mut b = TlsParameters::builder(host.to_owned());
        for der in extra_roots {
            b = b.add_root_certificate(Certificate::from_der(der.to_vec()).map_err(invalid)?);
        }
        b.build_rustls().map(mode).map_err(invalid)
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
    // Blank credentials mean a relay without authentication: no AUTH, which such a relay
    // would refuse ("No compatible authentication mechanism").
    if let Some((user, pass)) = s.smtp.login() {
        b = b.credentials(Credentials::new(
            user.to_owned(),
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
            smtp: smtp_transport(&settings, &[])?,
            mailbox: Mailbox {
                settings,
                timing,
                extra_roots: Arc::default(),
            },
            caps: Capabilities {
                max_text_chars: 100_000,
                attachments: true,
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
    async fn check(&self, _probe: &kefu_channel::Probe) -> Vec<kefu_channel::Check> {
        crate::check::run(
            &self.mailbox.settings,
            &self.mailbox.extra_roots,
            &self.smtp,
        )
        .await
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
            ..SendReceipt::default()
        })
    }
}
