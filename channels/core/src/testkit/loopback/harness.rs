//! [`LoopbackHarness`]: the loopback channel driven through the conformance suite, its
//! ingress router called in memory.

use std::sync::Arc;

use async_trait::async_trait;
use axum::Router;

use super::*;
use crate::testkit::{Harness, ProviderOutcome, RecordingSink, Rejection, Sample};

/// A [`Harness`] for the loopback channel that calls its ingress router in memory. Kefu's own
/// tests use it to check the testkit itself.
pub struct LoopbackHarness {
    pub(super) provider: Arc<LoopbackProvider>,
    channel: Arc<dyn Channel>,
    router: Router,
    sink: Arc<RecordingSink>,
}

const HARNESS_INBOX: i64 = 7;
const HARNESS_SECRET: &str = "loopback-secret";

struct OneInbox;

#[async_trait]
impl crate::InboxLookup for OneInbox {
    async fn inbox(&self, id: i64) -> Option<InboxConfig> {
        (id == HARNESS_INBOX).then(|| InboxConfig {
            id,
            name: "loopback".into(),
            kind: ChannelKind::new(KIND),
            settings: serde_json::json!({ "secret": HARNESS_SECRET }),
            public_token: "pub".into(),
            public_url: "http://127.0.0.1".into(),
        })
    }
}

impl LoopbackHarness {
    /// A harness with one loopback inbox.
    pub async fn start() -> Result<Self, ChannelError> {
        let provider = LoopbackProvider::new();
        let factory = LoopbackFactory::new(provider.clone());
        let sink = Arc::new(RecordingSink::new());
        let lookup = OneInbox;
        let inbox = crate::InboxLookup::inbox(&lookup, HARNESS_INBOX)
            .await
            .ok_or_else(|| ChannelError::Fatal("harness inbox missing".into()))?;
        let channel = factory.build(&inbox, &crate::testkit::build_context())?;
        let router = factory
            .ingress(IngressContext {
                inbound: sink.clone(),
                inboxes: Arc::new(lookup),
                state: Arc::new(crate::testkit::MemoryState::default()),
                history: None,
                shutdown: tokio_util::sync::CancellationToken::new(),
            })
            .ok_or_else(|| ChannelError::Fatal("loopback has ingress".into()))?;
        Ok(Self {
            provider,
            channel,
            router,
            sink,
        })
    }

    async fn post(&self, sample: &Sample, secret: &str) -> Result<(), Rejection> {
        use tower_service::Service as _;
        let body = serde_json::to_vec(&LoopbackMessage {
            id: sample.provider_id.clone(),
            sender: sample.sender.clone(),
            text: sample.text.clone(),
            ..LoopbackMessage::default()
        })
        .map_err(|e| Rejection(e.to_string()))?;
        let req = axum::http::Request::post(format!("/{HARNESS_INBOX}/messages"))
            .header("content-type", "application/json")
            .header("x-loopback-secret", secret)
            .body(axum::body::Body::from(body))
            .map_err(|e| Rejection(e.to_string()))?;
        let resp = self
            .router
            .clone()
            .call(req)
            .await
            .map_err(|e| Rejection(e.to_string()))?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(Rejection(resp.status().to_string()))
        }
    }
}

#[async_trait]
impl Harness for LoopbackHarness {
    fn channel(&self) -> Arc<dyn Channel> {
        self.channel.clone()
    }

    fn inbox_id(&self) -> i64 {
        HARNESS_INBOX
    }

    fn sink(&self) -> &RecordingSink {
        &self.sink
    }

    async fn inject(&self, sample: &Sample) -> Result<(), Rejection> {
        self.post(sample, HARNESS_SECRET).await
    }

    async fn inject_forged(&self, sample: &Sample) -> Result<(), Rejection> {
        self.post(sample, "not-the-secret").await
    }

    async fn script_send(&self, outcome: ProviderOutcome) {
        self.provider.script([outcome]);
    }

    fn recipient(&self) -> Recipient {
        Recipient {
            external_id: "kefu-ck-user".into(),
            display_name: None,
        }
    }
}
