//! The email channel against real servers on loopback: Dovecot for IMAP, aiosmtpd for SMTP
//! (see `support/`). CI installs `dovecot-imapd` and `python3-aiosmtpd`.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use kefu_channel::testkit::{
    Harness, MemoryState, ProviderOutcome, RecordingSink, Rejection, Sample, run_conformance,
};
use kefu_channel::{
    Accepted, Channel, ChannelContext, ChannelFactory, ChannelKind, ChannelState, Content,
    InboundEnvelope, InboundSink, InboxConfig, IngestError, OutboundMessage, Recipient, SendError,
};
use kefu_channel_email::{EmailFactory, Timing};
use support::{Dovecot, SmtpSink, USER, wait_for};
use tokio_util::sync::CancellationToken;

const INBOX: i64 = 11;
const WAIT: Duration = Duration::from_secs(20);

fn timing() -> Timing {
    Timing {
        poll_interval: Duration::from_millis(500),
        reconnect_min: Duration::from_millis(50),
        reconnect_max: Duration::from_millis(500),
        connect_timeout: Duration::from_secs(10),
        sync_timeout: Duration::from_secs(30),
        ..Timing::default()
    }
}

fn build(settings: serde_json::Value) -> Arc<dyn Channel> {
    let factory = EmailFactory::new().with_timing(timing());
    let settings = factory.validate(settings).expect("valid settings");
    factory
        .build(
            &InboxConfig {
                id: INBOX,
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

/// Records accept failures, so a harness can tell "not acknowledged" from "not yet".
#[derive(Default)]
struct ObservingSink {
    inner: RecordingSink,
    failures: Mutex<usize>,
}

impl ObservingSink {
    fn failures(&self) -> usize {
        *self.failures.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl InboundSink for ObservingSink {
    async fn accept(&self, envelope: InboundEnvelope) -> Result<Accepted, IngestError> {
        let r = self.inner.accept(envelope).await;
        if r.is_err() {
            *self.failures.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        }
        r
    }
}

struct Running {
    sink: Arc<ObservingSink>,
    state: Arc<MemoryState>,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

fn start(channel: Arc<dyn Channel>, state: Arc<MemoryState>) -> Running {
    // The loop's warnings explain a timeout; RUST_LOG=debug shows every message.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("kefu_channel_email=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
    let sink = Arc::new(ObservingSink::default());
    let shutdown = CancellationToken::new();
    let cx = ChannelContext {
        inbox_id: INBOX,
        inbound: sink.clone(),
        state: state.clone(),
        shutdown: shutdown.clone(),
    };
    let task = tokio::spawn(async move {
        channel.run(cx).await.expect("run ends cleanly");
    });
    Running {
        sink,
        state,
        shutdown,
        task,
    }
}

impl Running {
    async fn stop(self) -> Arc<MemoryState> {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(5), self.task)
            .await
            .expect("the IMAP loop stops promptly on shutdown")
            .expect("the IMAP loop did not panic");
        self.state
    }

    async fn wait_envelopes(&self, n: usize) -> Vec<InboundEnvelope> {
        wait_for(&format!("{n} envelopes"), WAIT, || {
            let got = self.sink.inner.envelopes();
            (got.len() >= n).then_some(got)
        })
        .await
    }
}

fn mail(id: &str, from: &str, subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Customer <{from}>\r\nTo: {USER}\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\n\
         Date: Mon, 2 Mar 2026 10:00:00 +0800\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

fn gbk_fixture() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/netease-reply-gbk-kefu-01.eml"
    ))
    .expect("fixture")
}

fn keys(envs: &[InboundEnvelope]) -> Vec<String> {
    envs.iter().filter_map(|e| e.dedupe_key.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imap_mail_arrives_once_and_is_never_marked() {
    let Some(dovecot) = Dovecot::start() else {
        return;
    };
    let a = dovecot
        .append(
            "INBOX",
            &mail(
                "a@customer.test",
                "Alice@Customer.test",
                "Refund",
                "Where is my refund?",
            ),
        )
        .await;
    dovecot.append("INBOX", &gbk_fixture()).await;
    // Our own mail in the mailbox (a copy of a reply) is not a customer message.
    dovecot
        .append(
            "INBOX",
            &mail("own@kefu.test", USER, "Re: Refund", "Our answer"),
        )
        .await;
    assert_eq!(a, 1);

    let channel = build(dovecot.settings("INBOX", 1));
    let run = start(channel.clone(), Arc::new(MemoryState::default()));
    let got = run.wait_envelopes(2).await;
    assert_eq!(got[0].sender.external_id, "alice@customer.test");
    assert_eq!(got[0].content.text, "Where is my refund?");
    assert_eq!(got[0].inbox_id, INBOX);
    assert_eq!(got[1].sender.external_id, "lisi@163.com");
    assert!(
        got[1]
            .content
            .text
            .contains("发票抬头是：北京某某科技有限公司")
    );

    // New mail while the loop IDLEs.
    dovecot
        .append(
            "INBOX",
            &mail(
                "c@customer.test",
                "bob@customer.test",
                "Hi",
                "Second customer",
            ),
        )
        .await;
    let got = run.wait_envelopes(3).await;
    assert_eq!(got[2].content.text, "Second customer");
    assert_eq!(
        keys(&got),
        [
            "a@customer.test",
            "6d1f2e3a.1b2c.18e44a1b2c3.Coremail.lisi@163.com",
            "c@customer.test"
        ]
    );
    let state = run.stop().await;

    // Restarted with its cursor: only mail after it is read.
    let run = start(channel.clone(), state.clone());
    dovecot
        .append(
            "INBOX",
            &mail("d@customer.test", "bob@customer.test", "Hi", "Third"),
        )
        .await;
    let got = run.wait_envelopes(1).await;
    assert_eq!(keys(&got), ["d@customer.test"]);
    run.stop().await;

    // A full re-read (cursor lost) hands in the same keys again: the normalizer stores nothing new.
    let run = start(channel, Arc::new(MemoryState::default()));
    let got = run.wait_envelopes(4).await;
    assert_eq!(
        keys(&got),
        [
            "a@customer.test",
            "6d1f2e3a.1b2c.18e44a1b2c3.Coremail.lisi@163.com",
            "c@customer.test",
            "d@customer.test"
        ]
    );
    assert!(got.iter().all(|e| e.sender.external_id != USER));
    run.stop().await;

    let flags = dovecot.flags("INBOX").await;
    assert!(
        !flags
            .iter()
            .any(|f| f.contains("Seen") || f.contains("Deleted")),
        "Kefu must not change the mailbox: {flags:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_uidvalidity_rereads_the_mailbox() {
    let Some(dovecot) = Dovecot::start() else {
        return;
    };
    let mut admin = dovecot.client().await;
    admin.create("Support").await.expect("CREATE");
    dovecot
        .append(
            "Support",
            &mail("one@customer.test", "a@customer.test", "One", "one"),
        )
        .await;
    let channel = build(dovecot.settings("Support", 1));
    let run = start(channel.clone(), Arc::new(MemoryState::default()));
    run.wait_envelopes(1).await;
    let state = run.stop().await;
    let before = state
        .get(INBOX, "imap.cursor.Support")
        .await
        .expect("state")
        .expect("cursor saved");

    // The mailbox is rebuilt: same name, new UIDVALIDITY, UIDs start over.
    admin.delete("Support").await.expect("DELETE");
    admin.create("Support").await.expect("CREATE");
    admin.logout().await.ok();
    dovecot
        .append(
            "Support",
            &mail("one@customer.test", "a@customer.test", "One", "one"),
        )
        .await;
    dovecot
        .append(
            "Support",
            &mail("two@customer.test", "a@customer.test", "Two", "two"),
        )
        .await;

    let run = start(channel, state);
    let got = run.wait_envelopes(2).await;
    assert_eq!(keys(&got), ["one@customer.test", "two@customer.test"]);
    let state = run.stop().await;
    let after = state
        .get(INBOX, "imap.cursor.Support")
        .await
        .expect("state")
        .expect("cursor saved");
    assert_ne!(
        before.split(':').next(),
        after.split(':').next(),
        "{before} → {after}"
    );
    assert!(after.ends_with(":2"), "cursor at the last UID: {after}");
}

fn reply(to: &str) -> OutboundMessage {
    OutboundMessage {
        message_id: 9,
        conversation_id: 4,
        inbox_id: INBOX,
        recipient: Recipient {
            external_id: to.into(),
            display_name: Some("Alice".into()),
        },
        content: Content::text("Your refund was sent today.\n退款今天已经发出。"),
        agent_name: Some("Kefu Agent".into()),
        references: vec!["root@customer.test".into(), "a@customer.test".into()],
        subject: Some("Refund".into()),
        conversation_token: Some("tok123".into()),
        last_inbound_at: None,
        system: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_replies_thread_and_failures_are_classified() {
    let Some(smtp) = SmtpSink::start() else {
        return;
    };
    let settings = serde_json::json!({
        "address": USER,
        "imap": {"host": "127.0.0.1", "port": 1, "tls": "none", "username": USER, "password": "x"},
        "smtp": {"host": "127.0.0.1", "port": smtp.port, "tls": "none"},
        "plus_addressing": true
    });
    let channel = build(settings.clone());
    let receipt = channel
        .send(&reply("alice@customer.test"))
        .await
        .expect("sent");
    let sent = smtp.messages();
    assert_eq!(sent.len(), 1);
    let m = mail_parser::MessageParser::default()
        .parse(&sent[0][..])
        .expect("parses");
    assert_eq!(m.message_id(), receipt.provider_ref.as_deref());
    assert_eq!(m.in_reply_to().as_text(), Some("a@customer.test"));
    assert_eq!(
        m.references().as_text_list().map(<[_]>::to_vec),
        Some(vec!["root@customer.test".into(), "a@customer.test".into()])
    );
    assert_eq!(m.subject(), Some("Re: Refund"));
    let from = m.from().and_then(|a| a.first()).expect("from");
    assert_eq!(
        (from.name(), from.address()),
        (Some("Kefu Agent"), Some(USER))
    );
    let reply_to = m
        .reply_to()
        .and_then(|a| a.first())
        .and_then(|a| a.address());
    assert_eq!(reply_to, Some("support+tok123@kefu.test"));
    assert!(
        m.body_text(0)
            .is_some_and(|t| t.contains("退款今天已经发出"))
    );
    assert!(m.body_html(0).is_some());

    // The customer's answer to it threads back: its In-Reply-To is our provider_ref.
    let answer = format!(
        "From: alice@customer.test\r\nTo: support+tok123@kefu.test\r\nSubject: Re: Refund\r\n\
         Message-ID: <b@customer.test>\r\nIn-Reply-To: <{}>\r\n\r\nThanks!\r\n",
        receipt.provider_ref.as_deref().unwrap_or_default()
    );
    let env = kefu_channel_email::parse::parse_message(
        answer.as_bytes(),
        &kefu_channel_email::parse::ParseOptions::new(INBOX),
    );
    assert_eq!(env.thread.references.first(), receipt.provider_ref.as_ref());
    assert_eq!(env.thread.conversation_token.as_deref(), Some("tok123"));

    smtp.script(&["tempfail", "reject"]);
    match channel.send(&reply("alice@customer.test")).await {
        Err(e @ SendError::Retryable { .. }) => assert!(e.to_string().contains("451"), "{e}"),
        other => panic!("451 must be retryable, got {other:?}"),
    }
    match channel.send(&reply("nobody@customer.test")).await {
        Err(SendError::Permanent { code, reason }) => {
            assert_eq!(code, "smtp_550");
            assert!(
                reason.contains("User unknown"),
                "the server's text is kept: {reason}"
            );
        }
        other => panic!("550 must be permanent, got {other:?}"),
    }
    match channel.send(&reply(USER)).await {
        Err(SendError::Permanent { code, .. }) => assert_eq!(code, "own_address"),
        other => panic!("mail to ourselves must be refused, got {other:?}"),
    }
    assert_eq!(smtp.messages().len(), 1, "nothing else was accepted");

    // Nobody listening: retryable.
    drop(smtp);
    match channel.send(&reply("alice@customer.test")).await {
        Err(SendError::Retryable { .. }) => {}
        other => panic!("a refused connection must be retryable, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_replies_carry_attachments() {
    use mail_parser::MimeHeaders as _;
    let Some(smtp) = SmtpSink::start() else {
        return;
    };
    let settings = serde_json::json!({
        "address": USER,
        "imap": {"host": "127.0.0.1", "port": 1, "tls": "none", "username": USER, "password": "x"},
        "smtp": {"host": "127.0.0.1", "port": smtp.port, "tls": "none"},
        "max_attachment_bytes": 200_000
    });
    let channel = build(settings);
    // A real JPEG from the fixtures and a generated binary file with a Chinese name.
    let jpeg = {
        let raw = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/long-multiple-text-blocks-iphone-01.eml"
        ))
        .expect("fixture");
        let env = kefu_channel_email::parse::parse_message(
            &raw,
            &kefu_channel_email::parse::ParseOptions::new(INBOX),
        );
        env.content.attachments[0]
            .data
            .clone()
            .expect("the image's bytes")
    };
    let sheet: Vec<u8> = (0..150_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let file = |name: &str, mime: &str, data: Option<&[u8]>| kefu_channel::Attachment {
        id: Some(5),
        name: name.into(),
        mime: mime.into(),
        size: data.map(|d| d.len() as u64),
        data: data.map(bytes::Bytes::copy_from_slice),
        ..Default::default()
    };
    let mut msg = reply("alice@customer.test");
    msg.content.attachments = vec![
        file("image1.jpeg", "image/jpeg", Some(&jpeg)),
        file(
            "退款明细.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Some(&sheet),
        ),
    ];
    channel.send(&msg).await.expect("sent with attachments");
    let sent = smtp.messages();
    assert_eq!(sent.len(), 1);
    let m = mail_parser::MessageParser::default()
        .parse(&sent[0][..])
        .expect("parses");
    assert!(
        m.body_text(0)
            .is_some_and(|t| t.contains("退款今天已经发出"))
    );
    let got: Vec<(&str, Vec<u8>)> = m
        .attachments()
        .map(|p| (p.attachment_name().unwrap_or(""), p.contents().to_vec()))
        .collect();
    assert_eq!(got.len(), 2, "two attachments arrived");
    assert_eq!(got[0].0, "image1.jpeg");
    assert!(got[0].1 == jpeg[..], "the JPEG arrived byte for byte");
    assert_eq!(got[1].0, "退款明细.xlsx");
    assert!(got[1].1 == sheet, "the spreadsheet arrived byte for byte");
    // What Kefu's own inbound parser makes of it, as if the customer forwarded it back.
    let env = kefu_channel_email::parse::parse_message(
        &sent[0],
        &kefu_channel_email::parse::ParseOptions::new(INBOX),
    );
    let names: Vec<&str> = env
        .content
        .attachments
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(names, ["image1.jpeg", "退款明细.xlsx"]);

    // A file without its bytes, or too large: refused before anything is submitted.
    msg.content.attachments = vec![file("合同.pdf", "application/pdf", None)];
    match channel.send(&msg).await {
        Err(SendError::Permanent { code, .. }) => assert_eq!(code, "attachment_unavailable"),
        other => panic!("a file without bytes must fail permanently, got {other:?}"),
    }
    msg.content.attachments = vec![file(
        "big.bin",
        "application/octet-stream",
        Some(&[0; 200_001]),
    )];
    match channel.send(&msg).await {
        Err(SendError::Permanent { code, .. }) => assert_eq!(code, "attachment_too_large"),
        other => panic!("an oversized file must fail permanently, got {other:?}"),
    }
    assert_eq!(smtp.messages().len(), 1, "nothing else was submitted");
}

/// The conformance suite over real servers: injecting = a mail server APPENDing to Dovecot;
/// acknowledging = the channel advancing its persisted UID cursor; forged = wrong IMAP
/// credentials; sends = the SMTP sink's scripted answers.
struct EmailHarness {
    dovecot: Dovecot,
    smtp: SmtpSink,
    channel: Arc<dyn Channel>,
    run: Running,
}

impl EmailHarness {
    async fn cursor(&self) -> u32 {
        self.run
            .state
            .get(INBOX, "imap.cursor.INBOX")
            .await
            .ok()
            .flatten()
            .and_then(|v| v.split_once(':').and_then(|(_, u)| u.parse().ok()))
            .unwrap_or(0)
    }
}

#[async_trait]
impl Harness for EmailHarness {
    fn channel(&self) -> Arc<dyn Channel> {
        self.channel.clone()
    }

    fn inbox_id(&self) -> i64 {
        INBOX
    }

    fn sink(&self) -> &RecordingSink {
        &self.run.sink.inner
    }

    async fn inject(&self, sample: &Sample) -> Result<(), Rejection> {
        let failures = self.run.sink.failures();
        let raw = mail(
            &format!("{}@conformance.kefu.test", sample.provider_id),
            &sample.sender,
            "conformance",
            &sample.text,
        );
        let uid = self.dovecot.append("INBOX", &raw).await;
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if self.run.sink.failures() > failures {
                return Err(Rejection(
                    "Kefu could not store it; the UID was not acknowledged".into(),
                ));
            }
            if self.cursor().await >= uid {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Rejection(format!("UID {uid} not taken in within {WAIT:?}")));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn inject_forged(&self, _sample: &Sample) -> Result<(), Rejection> {
        match self.dovecot.login("not-the-password").await {
            Ok(_) => Ok(()),
            Err(e) => Err(Rejection(e.to_string())),
        }
    }

    async fn script_send(&self, outcome: ProviderOutcome) {
        self.smtp.script(&[match outcome {
            ProviderOutcome::Accept => "accept",
            ProviderOutcome::Transient => "tempfail",
            ProviderOutcome::RateLimited { .. } => "ratelimit",
            ProviderOutcome::InvalidRecipient => "reject",
        }]);
    }

    fn recipient(&self) -> Recipient {
        Recipient {
            external_id: "customer@example.test".into(),
            display_name: None,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_the_conformance_testkit() {
    let (Some(dovecot), Some(smtp)) = (Dovecot::start(), SmtpSink::start()) else {
        return;
    };
    let channel = build(dovecot.settings("INBOX", smtp.port));
    let run = start(channel.clone(), Arc::new(MemoryState::default()));
    let h = EmailHarness {
        dovecot,
        smtp,
        channel,
        run,
    };
    run_conformance(&h).await;
    assert_eq!(
        h.smtp.messages().len(),
        1,
        "exactly the accepted send was delivered"
    );
    h.run.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_and_starttls_with_a_private_root_certificate() {
    let opts = support::Options {
        tls: true,
        ..support::Options::default()
    };
    let Some(dovecot) = Dovecot::start_with(opts) else {
        return;
    };
    let Some(smtp) = SmtpSink::start_with_cert(Some(dovecot.dir())) else {
        return;
    };
    let factory = EmailFactory::new()
        .with_timing(timing())
        .with_extra_root_certs_pem(&dovecot.ca_pem())
        .expect("PEM parses");
    let build_with = |factory: &EmailFactory, imap_tls: &str, imap_port: u16| {
        let mut settings = dovecot.settings("INBOX", smtp.port);
        settings["imap"]["tls"] = imap_tls.into();
        settings["imap"]["port"] = imap_port.into();
        settings["smtp"]["tls"] = "starttls".into();
        factory
            .build(
                &InboxConfig {
                    id: INBOX,
                    name: "support".into(),
                    kind: ChannelKind::new("email"),
                    settings,
                    public_token: "pub".into(),
                    public_url: "http://127.0.0.1".into(),
                },
                &kefu_channel::testkit::build_context(),
            )
            .expect("channel builds")
    };

    dovecot
        .append(
            "INBOX",
            &mail("tls@customer.test", "a@customer.test", "TLS", "over TLS"),
        )
        .await;
    for (mode, port) in [("tls", dovecot.tls_port), ("starttls", dovecot.port)] {
        let run = start(
            build_with(&factory, mode, port),
            Arc::new(MemoryState::default()),
        );
        let got = run.wait_envelopes(1).await;
        assert_eq!(got[0].content.text, "over TLS", "{mode}");
        run.stop().await;
    }

    let channel = build_with(&factory, "tls", dovecot.tls_port);
    channel
        .send(&reply("alice@customer.test"))
        .await
        .expect("sent over STARTTLS");
    assert_eq!(smtp.messages().len(), 1);

    // The certificate is really checked: without the private root, nothing gets through.
    let untrusting = build_with(
        &EmailFactory::new().with_timing(timing()),
        "tls",
        dovecot.tls_port,
    );
    match untrusting.send(&reply("alice@customer.test")).await {
        Err(SendError::Permanent { code, .. }) => assert_eq!(code, "smtp_tls_failed"),
        other => panic!("an untrusted certificate must fail (permanently), got {other:?}"),
    }
    let run = start(untrusting, Arc::new(MemoryState::default()));
    dovecot
        .append(
            "INBOX",
            &mail("tls2@customer.test", "a@customer.test", "TLS", "again"),
        )
        .await;
    let trusting = start(
        build_with(&factory, "tls", dovecot.tls_port),
        Arc::new(MemoryState::default()),
    );
    trusting.wait_envelopes(2).await;
    assert!(
        run.sink.inner.is_empty(),
        "no mail over an untrusted connection"
    );
    run.stop().await;
    trusting.stop().await;
    assert_eq!(smtp.messages().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_without_idle_are_polled() {
    let opts = support::Options {
        no_idle: true,
        ..support::Options::default()
    };
    let Some(dovecot) = Dovecot::start_with(opts) else {
        return;
    };
    let run = start(
        build(dovecot.settings("INBOX", 1)),
        Arc::new(MemoryState::default()),
    );
    // Let the first (empty) sync happen, so the next mail can only arrive by polling.
    wait_for("the cursor", WAIT, || {
        futures::executor::block_on(run.state.get(INBOX, "imap.cursor.INBOX"))
            .ok()
            .flatten()
    })
    .await;
    dovecot
        .append(
            "INBOX",
            &mail("poll@customer.test", "a@customer.test", "Poll", "polled"),
        )
        .await;
    let got = run.wait_envelopes(1).await;
    assert_eq!(got[0].content.text, "polled");
    run.stop().await;
}
