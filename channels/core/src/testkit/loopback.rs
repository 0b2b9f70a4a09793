//! The loopback channel: a complete in-memory channel for tests and the smallest example of an
//! adapter.
//!
//! - Ingress: `POST /channels/loopback/{inbox_id}/messages` with header `x-loopback-secret`
//!   equal to the inbox's `secret` setting and a JSON [`LoopbackMessage`] body.
//! - Outbound: replies are recorded in the shared [`LoopbackProvider`]; a test scripts how the
//!   next sends fail with [`LoopbackProvider::script`].

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use super::ProviderOutcome;
use crate::{
    Capabilities, Channel, ChannelError, ChannelFactory, ChannelKind, Content, ExternalIdentity,
    InboundEnvelope, InboxConfig, IngestError, IngressContext, OutboundMessage, Quota, Recipient,
    SendError, SendReceipt, ThreadHints,
};

mod harness;

pub use harness::LoopbackHarness;

/// The channel type name.
pub const KIND: &str = "loopback";

/// The body of a loopback ingress request.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoopbackMessage {
    /// Provider message id (the dedupe key).
    pub id: String,
    /// Sender id.
    pub sender: String,
    /// Sender display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Message text.
    pub text: String,
    /// Contact attributes.
    #[serde(default)]
    pub attributes: serde_json::Map<String, serde_json::Value>,
    /// Thread hints.
    #[serde(default)]
    pub thread: ThreadHints,
    /// Attached files.
    #[serde(default)]
    pub attachments: Vec<LoopbackFile>,
}

/// A file attached to a loopback message: with its bytes, or only a media id the provider
/// serves on request (see [`LoopbackProvider::put_media`]).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoopbackFile {
    /// File name.
    pub name: String,
    /// MIME type.
    pub mime: String,
    /// The bytes, when sent along.
    #[serde(default)]
    pub data: Option<Vec<u8>>,
    /// The provider's media id, when the bytes stay with the provider.
    #[serde(default)]
    pub media_id: Option<String>,
}

/// The fake provider shared by every loopback inbox: records sends, plays scripted failures.
#[derive(Debug, Default)]
pub struct LoopbackProvider {
    state: Mutex<ProviderState>,
    sent: Notify,
}

#[derive(Debug, Default)]
struct ProviderState {
    script: VecDeque<ProviderOutcome>,
    delivered: Vec<OutboundMessage>,
    attempts: usize,
    attempt_times: Vec<std::time::Instant>,
    accepted_times: Vec<std::time::Instant>,
    media: std::collections::HashMap<String, (bytes::Bytes, String)>,
    media_fetches: usize,
}

impl LoopbackProvider {
    /// A provider that accepts everything until scripted otherwise.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Queues how the next sends are answered; after the script runs out, sends are accepted.
    pub fn script(&self, outcomes: impl IntoIterator<Item = ProviderOutcome>) {
        self.lock().script.extend(outcomes);
    }

    /// Keeps a file the provider serves by media id (like a WeChat `MediaId`).
    pub fn put_media(&self, media_id: &str, data: impl Into<bytes::Bytes>, mime: &str) {
        self.lock()
            .media
            .insert(media_id.to_owned(), (data.into(), mime.to_owned()));
    }

    /// How many times a file was downloaded by media id.
    pub fn media_fetches(&self) -> usize {
        self.lock().media_fetches
    }

    /// Replies accepted so far.
    pub fn delivered(&self) -> Vec<OutboundMessage> {
        self.lock().delivered.clone()
    }

    /// Send attempts so far, failed ones included.
    pub fn attempts(&self) -> usize {
        self.lock().attempts
    }

    /// When each send attempt arrived, failed ones included.
    pub fn attempt_times(&self) -> Vec<std::time::Instant> {
        self.lock().attempt_times.clone()
    }

    /// When each accepted reply arrived.
    pub fn accepted_times(&self) -> Vec<std::time::Instant> {
        self.lock().accepted_times.clone()
    }

    /// Waits until at least `n` replies were accepted, or `timeout` passes.
    pub async fn wait_delivered(&self, n: usize, timeout: Duration) -> Vec<OutboundMessage> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.sent.notified();
            let got = self.delivered();
            if got.len() >= n || tokio::time::Instant::now() >= deadline {
                return got;
            }
            let _ = tokio::time::timeout_at(deadline, notified).await;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ProviderState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Builds loopback channels that share one [`LoopbackProvider`].
#[derive(Debug, Clone)]
pub struct LoopbackFactory {
    provider: Arc<LoopbackProvider>,
}

impl LoopbackFactory {
    /// A factory whose channels send through `provider`.
    pub fn new(provider: Arc<LoopbackProvider>) -> Self {
        Self { provider }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    secret: String,
    /// How long this inbox's provider takes to answer a send, in milliseconds (a slow
    /// provider, for isolation tests).
    #[serde(default)]
    answer_after_ms: u64,
}

fn settings(v: &serde_json::Value) -> Result<Settings, ChannelError> {
    let s: Settings = serde_json::from_value(v.clone())
        .map_err(|e| ChannelError::InvalidSettings(format!("loopback: {e}")))?;
    if s.secret.len() < 8 {
        return Err(ChannelError::InvalidSettings(
            "secret: must be at least 8 characters".into(),
        ));
    }
    Ok(s)
}

impl ChannelFactory for LoopbackFactory {
    fn kind(&self) -> ChannelKind {
        ChannelKind::new(KIND)
    }

    fn secret_fields(&self) -> &'static [&'static str] {
        &["/secret"]
    }

    fn validate(&self, v: serde_json::Value) -> Result<serde_json::Value, ChannelError> {
        settings(&v)?;
        Ok(v)
    }

    fn build(
        &self,
        inbox: &InboxConfig,
        _cx: &crate::BuildContext,
    ) -> Result<Arc<dyn Channel>, ChannelError> {
        let s = settings(&inbox.settings)?;
        Ok(Arc::new(LoopbackChannel {
            provider: self.provider.clone(),
            caps: capabilities(),
            answer_after: std::time::Duration::from_millis(s.answer_after_ms),
        }))
    }

    fn ingress(&self, cx: IngressContext) -> Option<Router> {
        Some(
            Router::new()
                .route("/{inbox_id}/messages", post(ingress))
                .with_state(cx),
        )
    }
}

fn capabilities() -> Capabilities {
    Capabilities {
        max_text_chars: 10_000,
        attachments: true,
        send_quota: Some(Quota {
            per_second: 1000,
            burst: 1000,
        }),
        ..Capabilities::default()
    }
}

async fn ingress(
    State(cx): State<IngressContext>,
    Path(inbox_id): Path<i64>,
    headers: HeaderMap,
    Json(body): Json<LoopbackMessage>,
) -> Result<Json<crate::Accepted>, (StatusCode, String)> {
    let inbox = cx
        .inboxes
        .inbox(inbox_id)
        .await
        .ok_or((StatusCode::NOT_FOUND, "no such inbox".into()))?;
    let secret = settings(&inbox.settings)
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .secret;
    let given = headers
        .get("x-loopback-secret")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if given != secret {
        return Err((StatusCode::UNAUTHORIZED, "bad x-loopback-secret".into()));
    }
    let envelope = InboundEnvelope {
        inbox_id,
        sender: ExternalIdentity {
            external_id: body.sender,
            display_name: body.name,
            attributes: body.attributes,
            ..ExternalIdentity::default()
        },
        dedupe_key: Some(body.id),
        thread: body.thread,
        content: Content {
            attachments: body
                .attachments
                .into_iter()
                .map(|f| crate::Attachment {
                    name: f.name,
                    mime: f.mime,
                    size: f.data.as_ref().map(|d| d.len() as u64),
                    provider_ref: f.media_id,
                    data: f.data.map(bytes::Bytes::from),
                    ..crate::Attachment::default()
                })
                .collect(),
            ..Content::text(body.text)
        },
        sent_at: None,
    };
    match cx.inbound.accept(envelope).await {
        Ok(a) => Ok(Json(a)),
        Err(IngestError::Rejected(r)) => Err((StatusCode::UNPROCESSABLE_ENTITY, r)),
        Err(IngestError::Unavailable(r)) => Err((StatusCode::SERVICE_UNAVAILABLE, r)),
    }
}

struct LoopbackChannel {
    provider: Arc<LoopbackProvider>,
    caps: Capabilities,
    answer_after: std::time::Duration,
}

#[async_trait]
impl Channel for LoopbackChannel {
    fn kind(&self) -> ChannelKind {
        ChannelKind::new(KIND)
    }

    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    async fn send(&self, msg: &OutboundMessage) -> Result<SendReceipt, SendError> {
        if !self.answer_after.is_zero() {
            tokio::time::sleep(self.answer_after).await;
        }
        let outcome = {
            let mut st = self.provider.lock();
            let now = std::time::Instant::now();
            st.attempts += 1;
            st.attempt_times.push(now);
            let outcome = st.script.pop_front().unwrap_or(ProviderOutcome::Accept);
            if outcome == ProviderOutcome::Accept {
                st.delivered.push(msg.clone());
                st.accepted_times.push(now);
            }
            outcome
        };
        match outcome {
            ProviderOutcome::Accept => {
                self.provider.sent.notify_waiters();
                Ok(SendReceipt {
                    provider_ref: Some(format!("loopback-{}", msg.message_id)),
                    delivered: false,
                    ..SendReceipt::default()
                })
            }
            ProviderOutcome::Transient => Err(SendError::retryable(
                "loopback provider: 503 service unavailable",
            )),
            ProviderOutcome::RateLimited { after } => {
                Err(SendError::RateLimited { after: Some(after) })
            }
            ProviderOutcome::InvalidRecipient => Err(SendError::permanent(
                "invalid_recipient",
                format!(
                    "loopback provider does not know recipient {:?}",
                    msg.recipient.external_id
                ),
            )),
        }
    }

    async fn fetch_attachment(
        &self,
        attachment: &crate::Attachment,
    ) -> Result<crate::FetchedFile, SendError> {
        let id = attachment.provider_ref.as_deref().unwrap_or_default();
        let mut st = self.provider.lock();
        let Some((data, mime)) = st.media.get(id).cloned() else {
            return Err(SendError::permanent(
                "media_not_found",
                format!("loopback provider has no media {id:?}"),
            ));
        };
        st.media_fetches += 1;
        Ok(crate::FetchedFile {
            data,
            mime: Some(mime),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{Harness, RecordingSink, Rejection, Sample};

    #[tokio::test]
    async fn loopback_passes_the_testkit() {
        let h = LoopbackHarness::start().await.expect("harness starts");
        super::super::run_conformance(&h).await;
        assert_eq!(
            h.provider.delivered().len(),
            1,
            "exactly the accepted conformance send is recorded"
        );
    }

    #[tokio::test]
    async fn a_channel_that_acknowledges_forged_traffic_fails_the_testkit() {
        struct Lax(LoopbackHarness);
        #[async_trait]
        impl Harness for Lax {
            fn channel(&self) -> Arc<dyn Channel> {
                self.0.channel()
            }
            fn inbox_id(&self) -> i64 {
                self.0.inbox_id()
            }
            fn sink(&self) -> &RecordingSink {
                self.0.sink()
            }
            async fn inject(&self, s: &Sample) -> Result<(), Rejection> {
                self.0.inject(s).await
            }
            async fn inject_forged(&self, s: &Sample) -> Result<(), Rejection> {
                self.0.inject(s).await
            }
            async fn script_send(&self, o: ProviderOutcome) {
                self.0.script_send(o).await
            }
            fn recipient(&self) -> Recipient {
                self.0.recipient()
            }
        }
        let lax = Lax(LoopbackHarness::start().await.expect("harness starts"));
        let result = tokio::spawn(async move { super::super::run_conformance(&lax).await }).await;
        let panic =
            result.expect_err("the testkit must catch a channel that accepts forged traffic");
        let msg = panic.into_panic();
        let msg = msg
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| msg.downcast_ref::<&str>().copied())
            .unwrap_or_default();
        assert!(msg.contains("forged"), "unexpected failure: {msg}");
    }
}
