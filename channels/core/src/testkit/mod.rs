//! The conformance suite every channel adapter passes.
//!
//! Compiled with the crate's `testkit` feature, which adapters enable in their
//! dev-dependencies. An adapter's test implements [`Harness`] around its real ingress path and
//! a fake provider that speaks the provider's protocol, then calls [`run_conformance`]:
//!
//! ```ignore
//! #[tokio::test]
//! async fn passes_the_testkit() {
//!     let harness = MyHarness::start().await;
//!     kefu_channel::testkit::run_conformance(&harness).await;
//! }
//! ```
//!
//! The suite checks what every channel must get right, whatever its provider:
//! - inbound messages are normalized (inbox, sender, text) and carry a stable dedupe key;
//! - forged traffic (bad signature, wrong credentials) is rejected and nothing reaches the sink;
//! - when Kefu cannot store a message, the provider is *not* acknowledged;
//! - send failures are classified: transient → retryable, rate limit → rate limited with the
//!   provider's delay, invalid recipient → permanent (a channel without a provider, see
//!   [`Harness::has_provider`], only shows that `send` accepts a reply);
//! - capabilities are sane.
//!
//! [`loopback`] is a complete in-memory channel that passes the suite; Kefu's end-to-end tests
//! use it, and it doubles as the smallest example of an adapter.

pub mod loopback;
mod sink;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

pub use sink::{MemoryState, RecordingSink};

/// A [`BuildContext`](crate::BuildContext) on fresh in-memory state, without history: what
/// adapter tests pass to [`ChannelFactory::build`](crate::ChannelFactory::build).
pub fn build_context() -> crate::BuildContext {
    crate::BuildContext::new(std::sync::Arc::new(MemoryState::default()))
}

use crate::{Channel, OutboundMessage, Recipient, SendError};

/// One provider-side message the harness turns into real provider traffic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// The provider's message id.
    pub provider_id: String,
    /// The sender's id at the provider.
    pub sender: String,
    /// The message text.
    pub text: String,
}

/// How the fake provider answers the next send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderOutcome {
    /// Accept the message.
    Accept,
    /// Fail in a way a retry can fix (5xx, timeout, "system busy").
    Transient,
    /// Refuse because of a rate limit, asking to retry after the given delay.
    RateLimited {
        /// The delay the provider asks for.
        after: Duration,
    },
    /// Refuse because the recipient does not exist or cannot be reached.
    InvalidRecipient,
}

/// Why ingress refused provider traffic (an HTTP status, an IMAP fetch left unacknowledged...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection(pub String);

/// What an adapter's test provides to [`run_conformance`].
#[async_trait]
pub trait Harness: Send + Sync {
    /// The channel under test, built for the harness's inbox.
    fn channel(&self) -> Arc<dyn Channel>;

    /// The inbox id the harness configured.
    fn inbox_id(&self) -> i64;

    /// The sink the adapter's ingress hands envelopes to.
    fn sink(&self) -> &RecordingSink;

    /// Sends `sample` through the adapter's real ingress path, signed or authenticated as the
    /// provider would. `Ok` means the adapter acknowledged the provider.
    async fn inject(&self, sample: &Sample) -> Result<(), Rejection>;

    /// Sends `sample` with a forged signature or wrong credentials.
    async fn inject_forged(&self, sample: &Sample) -> Result<(), Rejection>;

    /// Makes the fake provider answer the next send with `outcome`.
    async fn script_send(&self, outcome: ProviderOutcome);

    /// A recipient the fake provider knows.
    fn recipient(&self) -> Recipient;

    /// The external id the adapter gives provider sender `sender`. Most adapters use the
    /// provider's id as it is (the default); one that namespaces ids (web chat's verified
    /// users are `user:<id>`) says how.
    fn external_id(&self, sender: &str) -> String {
        sender.to_owned()
    }

    /// Whether replies go through a provider that can fail. A channel whose replies reach the
    /// customer through Kefu itself (web chat: the realtime hub and the replay on return) has
    /// nothing to call, so nothing to classify: it returns `false`, and the suite checks only
    /// that [`Channel::send`] accepts a reply, without scripting outcomes.
    fn has_provider(&self) -> bool {
        true
    }
}

/// Runs every conformance check, panicking with a description of the first failure.
pub async fn run_conformance(h: &dyn Harness) {
    check_capabilities(h);
    check_inbound(h).await;
    check_forged(h).await;
    check_unacknowledged_when_storage_fails(h).await;
    check_send_classification(h).await;
}

fn check_capabilities(h: &dyn Harness) {
    let caps = h.channel().capabilities().clone();
    assert!(
        caps.max_text_chars > 0,
        "capabilities: max_text_chars must be positive"
    );
    for q in [caps.send_quota, caps.per_recipient_quota]
        .into_iter()
        .flatten()
    {
        assert!(
            q.per_second > 0 && q.burst > 0,
            "capabilities: a quota must allow sending: {q:?}"
        );
    }
}

async fn check_inbound(h: &dyn Harness) {
    let a = Sample {
        provider_id: "kefu-ck-1".into(),
        sender: "kefu-ck-user".into(),
        text: "Hello 你好".into(),
    };
    let b = Sample {
        provider_id: "kefu-ck-2".into(),
        ..a.clone()
    };
    let before = h.sink().len();
    h.inject(&a)
        .await
        .unwrap_or_else(|r| panic!("inbound: a valid message was rejected: {r:?}"));
    let got = h.sink().envelopes();
    assert_eq!(
        got.len(),
        before + 1,
        "inbound: one valid message must yield one envelope"
    );
    let env = &got[before];
    assert_eq!(
        env.inbox_id,
        h.inbox_id(),
        "inbound: envelope names the wrong inbox"
    );
    assert_eq!(
        env.sender.external_id,
        h.external_id(&a.sender),
        "inbound: sender identity not carried over"
    );
    assert!(
        env.content.text.contains(&a.text),
        "inbound: text {:?} not carried over: {:?}",
        a.text,
        env.content.text
    );
    let key_a = env.dedupe_key.clone().filter(|k| !k.is_empty());
    assert!(key_a.is_some(), "inbound: every message needs a dedupe key");

    // A provider retry must map to the same key, so Kefu stores it once.
    h.inject(&a)
        .await
        .unwrap_or_else(|r| panic!("inbound: a provider retry was rejected: {r:?}"));
    for env in &h.sink().envelopes()[before + 1..] {
        assert_eq!(
            env.dedupe_key, key_a,
            "inbound: a retry must carry the same dedupe key"
        );
    }
    assert_eq!(
        h.sink().distinct_keys_since(before),
        1,
        "inbound: a retry was stored twice"
    );

    h.inject(&b)
        .await
        .unwrap_or_else(|r| panic!("inbound: a second message was rejected: {r:?}"));
    assert_eq!(
        h.sink().distinct_keys_since(before),
        2,
        "inbound: two provider messages need two dedupe keys"
    );
}

async fn check_forged(h: &dyn Harness) {
    let forged = Sample {
        provider_id: "kefu-ck-forged".into(),
        sender: "mallory".into(),
        text: "forged".into(),
    };
    let before = h.sink().len();
    assert!(
        h.inject_forged(&forged).await.is_err(),
        "forged: traffic with a bad signature was acknowledged"
    );
    assert_eq!(
        h.sink().len(),
        before,
        "forged: traffic with a bad signature reached the sink"
    );
}

async fn check_unacknowledged_when_storage_fails(h: &dyn Harness) {
    let s = Sample {
        provider_id: "kefu-ck-3".into(),
        sender: "kefu-ck-user".into(),
        text: "stored later".into(),
    };
    h.sink().fail_next();
    assert!(
        h.inject(&s).await.is_err(),
        "ingress acknowledged the provider although storage failed: the message would be lost"
    );
    h.inject(&s)
        .await
        .unwrap_or_else(|r| panic!("inbound: the provider's retry was rejected: {r:?}"));
}

async fn check_send_classification(h: &dyn Harness) {
    let ch = h.channel();
    let msg = OutboundMessage {
        message_id: 1,
        conversation_id: 1,
        inbox_id: h.inbox_id(),
        recipient: h.recipient(),
        content: crate::Content::text("Thanks, we are on it."),
        agent_name: Some("Conformance".into()),
        references: Vec::new(),
        subject: Some("Conformance".into()),
        conversation_token: None,
        last_inbound_at: Some(chrono::Utc::now()),
        system: false,
    };

    h.script_send(ProviderOutcome::Accept).await;
    ch.send(&msg)
        .await
        .unwrap_or_else(|e| panic!("send: an accepted send failed: {e}"));
    if !h.has_provider() {
        return;
    }

    h.script_send(ProviderOutcome::Transient).await;
    match ch.send(&msg).await {
        Err(SendError::Retryable { .. }) => {}
        other => panic!("send: a transient provider failure must be Retryable, got {other:?}"),
    }

    let after = Duration::from_secs(7);
    h.script_send(ProviderOutcome::RateLimited { after }).await;
    match ch.send(&msg).await {
        Err(SendError::RateLimited { after: got })
        | Err(SendError::Retryable { after: got, .. }) => {
            if let Some(got) = got {
                assert!(
                    got >= after,
                    "send: rate limit delay {got:?} is shorter than the provider asked ({after:?})"
                );
            }
        }
        other => panic!("send: a provider rate limit must be RateLimited, got {other:?}"),
    }

    h.script_send(ProviderOutcome::InvalidRecipient).await;
    match ch.send(&msg).await {
        Err(SendError::Permanent { .. }) => {}
        other => panic!("send: an invalid recipient must be Permanent, got {other:?}"),
    }
}
