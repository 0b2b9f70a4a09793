//! The channel passes `kefu_channel::testkit`.

use std::sync::Arc;

use async_trait::async_trait;
use kefu_channel::testkit::{
    Harness, ProviderOutcome, RecordingSink, Rejection, Sample, run_conformance,
};
use kefu_channel::{Channel, Recipient};
use kefu_channel_push::user_hash;
use serde_json::json;

use crate::support::{INBOX, Options, SECRET, TestApp, fcm, fcm_token};

const RECIPIENT: &str = "kefu-ck-recipient";

struct PushHarness {
    app: TestApp,
    sink: Arc<RecordingSink>,
}

impl PushHarness {
    async fn start() -> Self {
        let sink = Arc::new(RecordingSink::new());
        let app = TestApp::start(Options {
            sink: sink.clone(),
            history: None,
            tweak: Box::new(|_| {}),
            device_limit: (600, 100),
        })
        .await;
        app.register(RECIPIENT, "fcm", &fcm_token(1)).await;
        Self { app, sink }
    }

    async fn post(&self, s: &Sample, hash: String) -> Result<(), Rejection> {
        let (status, body) = self
            .app
            .call(
                "POST",
                &format!("/{INBOX}/messages"),
                Some(json!({"external_id": s.sender, "user_hash": hash, "client_id": s.provider_id, "text": s.text})),
            )
            .await;
        if status.is_success() {
            Ok(())
        } else {
            Err(Rejection(format!("{status} {body}")))
        }
    }
}

#[async_trait]
impl Harness for PushHarness {
    fn channel(&self) -> Arc<dyn Channel> {
        self.app.channel.clone()
    }
    fn inbox_id(&self) -> i64 {
        INBOX
    }
    fn sink(&self) -> &RecordingSink {
        &self.sink
    }
    async fn inject(&self, s: &Sample) -> Result<(), Rejection> {
        self.post(s, user_hash(SECRET, &s.sender)).await
    }
    async fn inject_forged(&self, s: &Sample) -> Result<(), Rejection> {
        self.post(s, user_hash("not-the-app-secret", &s.sender))
            .await
    }
    async fn script_send(&self, outcome: ProviderOutcome) {
        match outcome {
            ProviderOutcome::Accept => {}
            ProviderOutcome::Transient => self.app.fcm.script(fcm::Reply::unavailable(None)),
            ProviderOutcome::RateLimited { after } => {
                self.app.fcm.script(fcm::Reply::quota(after.as_secs()))
            }
            ProviderOutcome::InvalidRecipient => self.app.fcm.script(fcm::Reply::unregistered()),
        }
    }
    fn recipient(&self) -> Recipient {
        Recipient {
            external_id: RECIPIENT.into(),
            display_name: None,
        }
    }
}

#[tokio::test]
async fn passes_the_testkit() {
    let h = PushHarness::start().await;
    run_conformance(&h).await;
    assert_eq!(
        h.app.fcm.sent().len(),
        1,
        "exactly the accepted conformance push arrived"
    );
    assert_eq!(
        h.app.fcm.attempts(),
        4,
        "one provider call per conformance send"
    );
}
