//! SMTP settings against real servers (aiosmtpd, see `support/`): a relay without
//! authentication delivers with blank credentials, and settings the server cannot work with
//! fail permanently with the server's words instead of being retried.

mod support;

use std::sync::Arc;

use kefu_channel::{
    Channel, ChannelFactory, ChannelKind, Content, InboxConfig, OutboundMessage, Recipient,
    SendError,
};
use kefu_channel_email::EmailFactory;
use serde_json::{Value, json};
use support::{SmtpSink, USER};

fn channel(smtp: Value) -> Arc<dyn Channel> {
    let settings = json!({
        "address": USER,
        "imap": {"host": "127.0.0.1", "port": 1, "tls": "none", "username": USER, "password": "x"},
        "smtp": smtp,
    });
    let factory = EmailFactory::new();
    let settings = factory.validate(settings).expect("valid settings");
    factory
        .build(
            &InboxConfig {
                id: 3,
                name: "support".into(),
                kind: ChannelKind::new("email"),
                settings,
                public_token: "pub".into(),
                public_url: "http://127.0.0.1".into(),
            },
            &kefu_channel::testkit::build_context(),
        )
        .expect("channel builds")
}

fn reply() -> OutboundMessage {
    OutboundMessage {
        message_id: 9,
        conversation_id: 4,
        inbox_id: 3,
        recipient: Recipient {
            external_id: "alice@customer.test".into(),
            display_name: None,
        },
        content: Content::text("Your refund was sent today."),
        agent_name: None,
        references: Vec::new(),
        subject: Some("Refund".into()),
        conversation_token: None,
        last_inbound_at: None,
        system: false,
    }
}

/// Sends a reply and returns the permanent failure's code and reason.
async fn permanent(smtp: Value) -> (String, String) {
    match channel(smtp.clone()).send(&reply()).await {
        Err(SendError::Permanent { code, reason }) => (code, reason),
        other => panic!("{smtp}: expected a permanent failure, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_without_authentication_delivers_with_blank_credentials() {
    let Some(relay) = SmtpSink::start() else {
        return;
    };
    // What a settings form sends for two blank fields, and the fields left out.
    for smtp in [
        json!({"host": "127.0.0.1", "port": relay.port, "tls": "none", "username": "", "password": ""}),
        json!({"host": "127.0.0.1", "port": relay.port, "tls": "none"}),
    ] {
        channel(smtp.clone())
            .send(&reply())
            .await
            .unwrap_or_else(|e| panic!("{smtp}: {e:?}"));
    }
    assert_eq!(relay.messages().len(), 2, "both replies were accepted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_the_server_cannot_work_with_fail_permanently() {
    let Some(relay) = SmtpSink::start() else {
        return;
    };
    let port = relay.port;

    // Credentials for a relay that offers no AUTH.
    let (code, reason) = permanent(json!({"host": "127.0.0.1", "port": port, "tls": "none",
        "username": "support", "password": "secret"}))
    .await;
    assert_eq!(code, "smtp_auth_unsupported", "{reason}");
    assert!(
        reason.contains("No compatible authentication mechanism"),
        "{reason}"
    );

    // STARTTLS required from a server that does not offer it.
    let (code, reason) =
        permanent(json!({"host": "127.0.0.1", "port": port, "tls": "starttls"})).await;
    assert_eq!(code, "smtp_tls_unsupported", "{reason}");
    assert!(reason.contains("STARTTLS is not supported"), "{reason}");

    // Implicit TLS against a plaintext port: the server's greeting is no TLS record.
    let (code, reason) = permanent(json!({"host": "127.0.0.1", "port": port, "tls": "tls"})).await;
    assert_eq!(code, "smtp_tls_failed", "{reason}");
    assert!(reason.contains("smtp.tls"), "{reason}");

    // A login the server refuses.
    let Some(strict) = SmtpSink::start_refusing_logins() else {
        return;
    };
    let (code, reason) = permanent(json!({"host": "127.0.0.1", "port": strict.port,
        "tls": "none", "username": "support", "password": "wrong"}))
    .await;
    assert_eq!(code, "smtp_535", "{reason}");
    assert!(
        reason.contains("Authentication credentials invalid"),
        "{reason}"
    );

    assert!(relay.messages().is_empty() && strict.messages().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_fails_permanently() {
    let certs = tempfile::tempdir().expect("temp dir");
    if support::private_ca_and_cert(certs.path()).is_none() {
        return;
    }
    let Some(relay) = SmtpSink::start_with_cert(Some(certs.path())) else {
        return;
    };
    // Signed by a private CA that this factory was not told to trust.
    let (code, reason) =
        permanent(json!({"host": "127.0.0.1", "port": relay.port, "tls": "starttls"})).await;
    assert_eq!(code, "smtp_tls_failed", "{reason}");
    assert!(reason.to_lowercase().contains("certificate"), "{reason}");
    assert!(relay.messages().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_that_does_not_exist_fails_permanently() {
    // `.invalid` never resolves (RFC 6761). A resolver that cannot be reached at all says
    // "temporary failure" instead, which rightly stays retryable: nothing to test then.
    let host = "smtp.kefu-test.invalid";
    match tokio::net::lookup_host((host, 25)).await {
        Err(e) if e.to_string().to_lowercase().contains("temporary") => {
            eprintln!("SKIPPED: no DNS resolver is reachable ({e})");
            return;
        }
        Err(_) => {}
        Ok(addrs) => panic!("{host} resolved to {:?}", addrs.collect::<Vec<_>>()),
    }
    let (code, reason) = permanent(json!({"host": host, "port": 25, "tls": "none"})).await;
    assert_eq!(code, "smtp_unknown_host", "{reason}");
    assert!(reason.contains("smtp.host"), "{reason}");
}
