//! SMTP failures → [`SendError`]: whether a retry can help.
//!
//! - A 5xx reply is permanent and carries the server's text (`smtp_<code>`), a refused login
//!   (`535`) included.
//! - A 4xx reply is retryable; one that speaks of rate or frequency limits is `RateLimited`.
//! - A configuration the server cannot work with is permanent, because every retry would meet
//!   it again and an administrator must change the inbox's settings: no login mechanism in
//!   common (credentials for a relay without `AUTH`), `starttls` against a server without
//!   `STARTTLS`, a TLS handshake that fails (`tls` against a plaintext port, an untrusted or
//!   mismatched certificate), or a host name that does not exist.
//! - Everything else that happens before a reply — connection refused, a reset or timeout, a
//!   server that hung up, a DNS server that is down — is retryable: none of it says the
//!   settings or the message are wrong.

use std::error::Error as StdError;

use kefu_channel::SendError;
use lettre::transport::smtp;
use tokio_rustls::rustls;

/// Classifies an SMTP failure.
pub fn classify_smtp_error(e: &smtp::Error) -> SendError {
    let detail = e.to_string();
    match e.status() {
        Some(code) if e.is_permanent() => SendError::permanent(format!("smtp_{code}"), detail),
        Some(_) => {
            let lower = detail.to_lowercase();
            let limited = ["rate", "frequency", "too many", "limit exceeded"]
                .iter()
                .any(|w| lower.contains(w));
            if limited {
                SendError::RateLimited { after: None }
            } else {
                SendError::retryable(detail)
            }
        }
        None => match misconfiguration(e, &detail) {
            Some((code, hint)) => SendError::permanent(code, format!("{hint} ({detail})")),
            None => SendError::retryable(detail),
        },
    }
}

/// The code and a sentence for an administrator when `e` says the inbox's SMTP settings
/// cannot work with this server.
fn misconfiguration(e: &smtp::Error, detail: &str) -> Option<(&'static str, &'static str)> {
    if e.is_client() {
        // lettre's own checks of what the server offers, before anything is sent.
        return Some(if detail.contains("authentication mechanism") {
            (
                "smtp_auth_unsupported",
                "the SMTP server offers no login mechanism Kefu supports; for a relay without \
                 authentication leave smtp.username and smtp.password empty",
            )
        } else if detail.contains("STARTTLS") || detail.contains("not encrypted") {
            (
                "smtp_tls_unsupported",
                "the SMTP server does not offer STARTTLS; check smtp.tls and smtp.port",
            )
        } else {
            (
                "smtp_unsupported",
                "the SMTP server does not support what this reply needs",
            )
        });
    }
    if e.is_tls() || has_tls_error(e) {
        return Some((
            "smtp_tls_failed",
            "the TLS handshake with the SMTP server failed; check smtp.tls (\"tls\" for port \
             465, \"starttls\" for 587), smtp.port and the server's certificate",
        ));
    }
    // getaddrinfo's "Name or service not known" (glibc), "Name does not resolve" (musl),
    // "nodename nor servname provided" (BSD): the name does not exist. "Temporary failure in
    // name resolution" / "Try again" mean the resolver is unreachable, which can pass.
    let lower = detail.to_lowercase();
    if lower.contains("failed to lookup address information")
        && !lower.contains("temporary")
        && !lower.contains("try again")
    {
        return Some((
            "smtp_unknown_host",
            "the SMTP host name does not resolve; check smtp.host",
        ));
    }
    None
}

/// Whether a rustls error is anywhere in the chain. `io::Error`'s own `source` skips the error
/// it wraps, so each `io::Error` is opened with `get_ref`.
fn has_tls_error(e: &smtp::Error) -> bool {
    let mut next: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(err) = next {
        if err.is::<rustls::Error>() {
            return true;
        }
        if let Some(inner) = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            if inner.is::<rustls::Error>() {
                return true;
            }
            next = inner.source();
            continue;
        }
        next = err.source();
    }
    false
}
