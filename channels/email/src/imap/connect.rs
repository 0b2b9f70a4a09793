//! The IMAP connection: TCP, then implicit TLS, STARTTLS or plain as the settings say, the
//! server's greeting and the login.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use secrecy::ExposeSecret;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{self};

use crate::error::EmailError;
use crate::settings::{ImapSettings, TlsMode};

/// A plain or TLS connection, so one session type serves every `tls` mode.
#[derive(Debug)]
pub(crate) enum Stream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_flush(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// A logged-in IMAP session.
pub(crate) type Session = async_imap::Session<Stream>;

fn tls_connector(extra_roots: &[CertificateDer<'static>]) -> Result<TlsConnector, EmailError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for cert in extra_roots {
        roots
            .add(cert.clone())
            .map_err(|e| EmailError::Tls(format!("extra root certificate: {e}")))?;
    }
    // Name the provider: with several rustls users in one binary the process default is ambiguous.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| EmailError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

async fn upgrade(
    host: &str,
    tcp: TcpStream,
    extra_roots: &[CertificateDer<'static>],
) -> Result<Stream, EmailError> {
    let name = ServerName::try_from(host.to_owned())
        .map_err(|e| EmailError::Tls(format!("{host:?} is not a valid TLS server name: {e}")))?;
    let tls = tls_connector(extra_roots)?
        .connect(name, tcp)
        .await
        .map_err(|e| EmailError::Tls(e.to_string()))?;
    Ok(Stream::Tls(Box::new(tls)))
}

/// Reads the server's greeting; returns its text (`Dovecot ready.`), empty when it has none.
async fn greeting(client: &mut async_imap::Client<Stream>) -> Result<String, EmailError> {
    match client.read_response().await {
        Ok(Some(r)) => Ok(match r.parsed() {
            async_imap::imap_proto::Response::Data { outcome, .. } => outcome
                .information
                .as_deref()
                .unwrap_or_default()
                .to_owned(),
            _ => String::new(),
        }),
        Ok(None) => Err(EmailError::Imap(async_imap::error::Error::ConnectionLost)),
        Err(e) => Err(EmailError::Imap(e.into())),
    }
}

/// Connects and logs in, as the settings' `tls` mode says.
pub(crate) async fn connect(
    s: &ImapSettings,
    extra_roots: &[CertificateDer<'static>],
) -> Result<Session, EmailError> {
    connect_greeted(s, extra_roots)
        .await
        .map(|(session, _)| session)
}

/// [`connect`], also returning the server's greeting.
pub(crate) async fn connect_greeted(
    s: &ImapSettings,
    extra_roots: &[CertificateDer<'static>],
) -> Result<(Session, String), EmailError> {
    let addr = format!("{}:{}", s.host, s.port());
    let tcp = TcpStream::connect(&addr)
        .await
        .map_err(|e| EmailError::Connect(addr.clone(), e))?;
    let mut client = match s.tls {
        TlsMode::Tls => async_imap::Client::new(upgrade(&s.host, tcp, extra_roots).await?),
        TlsMode::None => async_imap::Client::new(Stream::Plain(tcp)),
        TlsMode::Starttls => {
            let mut plain = async_imap::Client::new(Stream::Plain(tcp));
            let hello = greeting(&mut plain).await?;
            plain.run_command_and_check_ok("STARTTLS", None).await?;
            let Stream::Plain(tcp) = plain.into_inner() else {
                return Err(EmailError::Tls("STARTTLS on a TLS stream".into()));
            };
            // No greeting after STARTTLS: the session continues.
            let client = async_imap::Client::new(upgrade(&s.host, tcp, extra_roots).await?);
            return Ok((login(client, s).await?, hello));
        }
    };
    let hello = greeting(&mut client).await?;
    Ok((login(client, s).await?, hello))
}

async fn login(
    client: async_imap::Client<Stream>,
    s: &ImapSettings,
) -> Result<Session, EmailError> {
    client
        .login(&s.username, s.password.expose_secret())
        .await
        .map_err(|(e, _)| EmailError::Login(e.to_string()))
}
