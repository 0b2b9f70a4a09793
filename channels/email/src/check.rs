//! "Test connection" for an email inbox: log in to the IMAP server (and open the mailbox,
//! read-only) and to the SMTP server, and report what each server said.

use std::sync::Arc;

use kefu_channel::{CHECK_TIMEOUT, Check};
use lettre::{AsyncSmtpTransport, Tokio1Executor};
use tokio_rustls::rustls::pki_types::CertificateDer;

use crate::imap::connect_greeted;
use crate::settings::EmailSettings;

/// The `imap` and `smtp` checks, run side by side.
pub(crate) async fn run(
    settings: &EmailSettings,
    extra_roots: &Arc<Vec<CertificateDer<'static>>>,
    smtp: &AsyncSmtpTransport<Tokio1Executor>,
) -> Vec<Check> {
    let (imap, smtp) = tokio::join!(imap(settings, extra_roots), self::smtp(settings, smtp));
    vec![imap, smtp]
}

async fn imap(settings: &EmailSettings, extra_roots: &[CertificateDer<'static>]) -> Check {
    const NAME: &str = "imap";
    let s = &settings.imap;
    let server = format!("{}:{}", s.host.trim(), s.port());
    Check::bounded(NAME, CHECK_TIMEOUT, async {
        let (mut session, greeting) = match connect_greeted(s, extra_roots).await {
            Ok(connected) => connected,
            Err(e) => return Check::failed(NAME, format!("{server}: {e}")),
        };
        // EXAMINE opens the mailbox read-only: a test must not change \Recent flags.
        let opened = session.examine(&s.mailbox).await;
        let _ = session.logout().await;
        let said = if greeting.is_empty() {
            String::new()
        } else {
            format!(" said \"{greeting}\";")
        };
        match opened {
            Ok(mailbox) => Check::ok(
                NAME,
                format!(
                    "{server}{said} logged in as {}; {} holds {} messages.",
                    s.username, s.mailbox, mailbox.exists
                ),
            ),
            Err(e) => Check::failed(
                NAME,
                format!(
                    "{server}{said} logged in as {}, but mailbox {:?} cannot be opened: {e}",
                    s.username, s.mailbox
                ),
            ),
        }
    })
    .await
}

async fn smtp(settings: &EmailSettings, transport: &AsyncSmtpTransport<Tokio1Executor>) -> Check {
    const NAME: &str = "smtp";
    let s = &settings.smtp;
    let server = format!("{}:{}", s.host.trim(), s.port());
    let login = match s.username.as_deref().map(str::trim) {
        Some(user) if !user.is_empty() => format!(" and accepted the login as {user}"),
        _ => " (no login configured)".to_owned(),
    };
    Check::bounded(NAME, CHECK_TIMEOUT, async {
        // Connects, says EHLO, upgrades to TLS as configured, logs in, sends NOOP and QUIT.
        match transport.test_connection().await {
            Ok(true) => Check::ok(NAME, format!("{server} answered{login}.")),
            Ok(false) => Check::failed(
                NAME,
                format!("{server} accepted the connection but did not answer NOOP."),
            ),
            Err(e) => Check::failed(NAME, format!("{server}: {e}")),
        }
    })
    .await
}
