//! One app inbox's [`Channel`]: pushes an agent reply to every device of the user.

use std::sync::Arc;

use async_trait::async_trait;
use futures::future::join_all;
use kefu_channel::{
    Capabilities, Channel, ChannelContext, ChannelError, ChannelKind, ConversationHistory,
    LivePresence, OutboundMessage, Quota, SendError, SendReceipt,
};
use serde_json::json;
use tracing::Instrument as _;

use crate::apns::Apns;
use crate::devices::{Device, DeviceStore, Platform};
use crate::factory::KIND;
use crate::fcm::Fcm;
use crate::notification::Notification;
use crate::outcome::{DeviceOutcome, summarize};
use crate::wiring::Wiring;

pub(crate) struct PushChannel {
    pub(crate) inbox_id: i64,
    pub(crate) show_preview: bool,
    pub(crate) fcm: Option<Fcm>,
    pub(crate) apns: Option<Apns>,
    pub(crate) wiring: Arc<Wiring>,
    pub(crate) store: Arc<DeviceStore>,
    pub(crate) history: Option<Arc<dyn ConversationHistory>>,
    pub(crate) presence: Option<Arc<dyn LivePresence>>,
    pub(crate) caps: Capabilities,
}

pub(crate) fn capabilities() -> Capabilities {
    Capabilities {
        // The app shows the whole reply after syncing; only the preview travels by push.
        max_text_chars: 10_000,
        attachments: false,
        html: false,
        reply_window: None,
        // FCM allows 600,000 messages a minute per project; APNs publishes no number. This
        // paces one inbox well below both. Per-device limits live in the channel.
        send_quota: Some(Quota {
            per_second: 500,
            burst: 1000,
        }),
        per_recipient_quota: None,
    }
}

impl PushChannel {
    async fn push(&self, device: &Device, n: &Notification) -> DeviceOutcome {
        if let Err(wait) = self.wiring.admit(device) {
            return DeviceOutcome::Paced { after: wait };
        }
        match device.platform {
            Platform::Fcm => match &self.fcm {
                Some(fcm) => fcm.send(&device.token, n).await,
                None => not_configured("FCM"),
            },
            Platform::Apns => match &self.apns {
                Some(apns) => apns.send(&device.token, n).await,
                None => not_configured("APNs"),
            },
        }
    }

    async fn seq_of(&self, message_id: i64) -> Option<i64> {
        self.history
            .as_ref()?
            .seq_of(message_id)
            .await
            .inspect_err(|e| tracing::debug!(error = %e, "Push goes out without seq."))
            .ok()
            .flatten()
    }
}

fn not_configured(provider: &str) -> DeviceOutcome {
    DeviceOutcome::failed(
        "platform_not_configured",
        format!("the inbox has no {provider} settings any more"),
    )
}

#[async_trait]
impl Channel for PushChannel {
    fn kind(&self) -> ChannelKind {
        ChannelKind::new(KIND)
    }

    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    #[tracing::instrument(name = "app_push_check", skip_all, fields(inbox = self.inbox_id))]
    async fn check(&self, probe: &kefu_channel::Probe) -> Vec<kefu_channel::Check> {
        vec![crate::check::run(self, probe).await]
    }

    async fn run(self: Arc<Self>, cx: ChannelContext) -> Result<(), ChannelError> {
        cx.shutdown.cancelled().await;
        Ok(())
    }

    async fn send(&self, msg: &OutboundMessage) -> Result<SendReceipt, SendError> {
        let span = tracing::debug_span!(
            "app_push_send",
            inbox = self.inbox_id,
            message = msg.message_id
        );
        async {
            if let Some(p) = &self.presence
                && p.is_live(self.inbox_id, msg.conversation_id).await
            {
                // The reply reaches the open app through Kefu's realtime hub, like a web chat
                // reply; the app's read receipt later marks it delivered.
                tracing::debug!("User is live; reply not pushed.");
                return Ok(SendReceipt {
                    provider_ref: None,
                    delivered: false,
                    details: Some(json!({"via": "live"})),
                });
            }
            let store = &self.store;
            let user = &msg.recipient.external_id;
            let devices = store.devices(self.inbox_id, user).await.map_err(|e| {
                SendError::retryable(format!("cannot read the user's devices: {e}"))
            })?;
            let seq = self.seq_of(msg.message_id).await;
            let n = Notification::for_reply(msg, self.show_preview, seq);
            let outcomes = join_all(devices.iter().map(|d| self.push(d, &n))).await;
            let results: Vec<(Device, DeviceOutcome)> = devices.into_iter().zip(outcomes).collect();
            let stale: Vec<(Platform, String)> = results
                .iter()
                .filter(|(_, o)| matches!(o, DeviceOutcome::Stale { .. }))
                .map(|(d, _)| (d.platform, d.token.clone()))
                .collect();
            if !stale.is_empty() {
                match store.remove(self.inbox_id, user, &stale).await {
                    Ok(n) => tracing::info!(
                        removed = n,
                        "Removed devices the push service no longer knows."
                    ),
                    // The next send meets the same answer and tries again.
                    Err(e) => tracing::warn!(error = %e, "Could not remove stale devices."),
                }
            }
            let result = summarize(&results);
            tracing::debug!(
                devices = results.len(),
                ok = result.is_ok(),
                "Reply pushed."
            );
            result
        }
        .instrument(span)
        .await
    }
}
