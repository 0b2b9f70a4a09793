//! The kefu-channel conformance suite against the real ingress routers and the local API mock.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use axum::Router;
use axum::http::StatusCode;
use kefu_channel::testkit::{
    Harness, MemoryState, ProviderOutcome, RecordingSink, Rejection, Sample, run_conformance,
};
use kefu_channel::{Channel, ChannelFactory, Recipient};
use serde_json::json;

use crate::crypto::{MsgCrypt, signature};
use crate::mock::{self, Inboxes, MockWeChat, Scripted};
use crate::official::{self, OfficialAccountFactory};

const INBOX: i64 = 11;
const TOKEN: &str = "kefuConformance";
const KEY: &str = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR";

fn now() -> String {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
        .to_string()
}

/// Official Account harness; `safe` selects encrypted callbacks.
struct OfficialHarness {
    api: MockWeChat,
    channel: Arc<dyn Channel>,
    router: Router,
    sink: Arc<RecordingSink>,
    safe: bool,
}

impl OfficialHarness {
    async fn start(safe: bool) -> Self {
        let api = MockWeChat::start().await;
        let mut settings = json!({"app_id": mock::APP_ID, "app_secret": mock::SECRET,
            "token": TOKEN, "api_base": api.base});
        if safe {
            settings["encoding_aes_key"] = json!(KEY);
        }
        let inboxes = Inboxes::default().with(INBOX, official::KIND, settings);
        let factory = OfficialAccountFactory::new();
        let channel = factory
            .build(&inboxes.0[&INBOX], &kefu_channel::testkit::build_context())
            .expect("builds");
        let sink = Arc::new(RecordingSink::new());
        let router = factory
            .ingress(mock::ingress_cx(
                sink.clone(),
                inboxes,
                Arc::new(MemoryState::default()),
            ))
            .expect("ingress");
        Self {
            api,
            channel,
            router,
            sink,
            safe,
        }
    }

    async fn post(&self, sample: &Sample, token: &str) -> Result<(), Rejection> {
        let ts = now();
        // WeChat draws a nonce per callback and repeats it only when it retries that callback.
        let nonce = sample
            .provider_id
            .bytes()
            .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)))
            .to_string();
        let nonce = nonce.as_str();
        let xml = format!(
            "<xml><ToUserName><![CDATA[gh_kefu]]></ToUserName>\
             <FromUserName><![CDATA[{}]]></FromUserName><CreateTime>{ts}</CreateTime>\
             <MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{}]]></Content>\
             <MsgId>{}</MsgId></xml>",
            sample.sender, sample.text, sample.provider_id
        );
        let sig = signature(&[token, &ts, nonce]);
        let (uri, body) = if self.safe {
            let crypt = MsgCrypt::new(token, KEY, mock::APP_ID).expect("key");
            let encrypt = crypt.encrypt(&xml);
            let msg_sig = crypt.msg_signature(&ts, nonce, &encrypt);
            (
                format!(
                    "/{INBOX}?signature={sig}&timestamp={ts}&nonce={nonce}&openid={}\
                     &encrypt_type=aes&msg_signature={msg_sig}",
                    sample.sender
                ),
                format!(
                    "<xml><ToUserName><![CDATA[gh_kefu]]></ToUserName>\
                     <Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
                ),
            )
        } else {
            (
                format!("/{INBOX}?signature={sig}&timestamp={ts}&nonce={nonce}"),
                xml,
            )
        };
        match mock::call(&self.router, "POST", &uri, body).await {
            (StatusCode::OK, body) if body == "success" => Ok(()),
            (status, body) => Err(Rejection(format!("{status}: {body}"))),
        }
    }
}

fn script(api: &MockWeChat, outcome: ProviderOutcome, invalid_recipient: i64) {
    match outcome {
        ProviderOutcome::Accept => {}
        ProviderOutcome::Transient => api.script(Scripted::Errcode(-1)),
        ProviderOutcome::RateLimited { .. } => api.script(Scripted::Errcode(45009)),
        ProviderOutcome::InvalidRecipient => api.script(Scripted::Errcode(invalid_recipient)),
    }
}

#[async_trait]
impl Harness for OfficialHarness {
    fn channel(&self) -> Arc<dyn Channel> {
        self.channel.clone()
    }

    fn inbox_id(&self) -> i64 {
        INBOX
    }

    fn sink(&self) -> &RecordingSink {
        &self.sink
    }

    async fn inject(&self, sample: &Sample) -> Result<(), Rejection> {
        self.post(sample, TOKEN).await
    }

    async fn inject_forged(&self, sample: &Sample) -> Result<(), Rejection> {
        self.post(sample, "notTheInboxToken").await
    }

    async fn script_send(&self, outcome: ProviderOutcome) {
        script(&self.api, outcome, 40003);
    }

    fn recipient(&self) -> Recipient {
        Recipient {
            external_id: "kefu-ck-user".into(),
            display_name: None,
        }
    }
}

#[tokio::test]
async fn official_account_plain_mode_passes_the_testkit() {
    let h = OfficialHarness::start(false).await;
    run_conformance(&h).await;
    assert_eq!(
        h.api.sends().len(),
        1,
        "exactly the accepted send reached WeChat"
    );
}

#[tokio::test]
async fn official_account_safe_mode_passes_the_testkit() {
    let h = OfficialHarness::start(true).await;
    run_conformance(&h).await;
    assert_eq!(
        h.api.sends().len(),
        1,
        "exactly the accepted send reached WeChat"
    );
}

/// WeCom kf harness: a sample becomes a message in the mock's kf log plus a signed
/// `kf_msg_or_event` callback that makes the adapter pull it.
struct WecomHarness {
    api: MockWeChat,
    channel: Arc<dyn Channel>,
    router: Router,
    sink: Arc<RecordingSink>,
}

const KFID: &str = "wkKefuConformance";

impl WecomHarness {
    async fn start() -> Self {
        let api = MockWeChat::start().await;
        let settings = json!({"corp_id": mock::CORP_ID, "secret": mock::SECRET, "token": TOKEN,
            "encoding_aes_key": KEY, "open_kfid": KFID, "api_base": api.base});
        let inboxes = Inboxes::default().with(INBOX, crate::wecom::KIND, settings);
        let factory = crate::wecom::WecomKfFactory::new();
        let channel = factory
            .build(&inboxes.0[&INBOX], &kefu_channel::testkit::build_context())
            .expect("builds");
        let sink = Arc::new(RecordingSink::new());
        let router = factory
            .ingress(mock::ingress_cx(
                sink.clone(),
                inboxes,
                Arc::new(MemoryState::default()),
            ))
            .expect("ingress");
        Self {
            api,
            channel,
            router,
            sink,
        }
    }

    async fn notify(&self, token: &str) -> Result<(), Rejection> {
        let ts = now();
        let event = format!(
            "<xml><ToUserName><![CDATA[{}]]></ToUserName><CreateTime>{ts}</CreateTime>\
             <MsgType><![CDATA[event]]></MsgType><Event><![CDATA[kf_msg_or_event]]></Event>\
             <Token><![CDATA[cbtoken]]></Token><OpenKfId><![CDATA[{KFID}]]></OpenKfId></xml>",
            mock::CORP_ID
        );
        let crypt = MsgCrypt::new(token, KEY, mock::CORP_ID).expect("key");
        let encrypt = crypt.encrypt(&event);
        let sig = crypt.msg_signature(&ts, "5", &encrypt);
        let uri = format!("/{INBOX}?msg_signature={sig}&timestamp={ts}&nonce=5");
        let body = format!("<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>");
        match mock::call(&self.router, "POST", &uri, body).await {
            (StatusCode::OK, body) if body == "success" => Ok(()),
            (status, body) => Err(Rejection(format!("{status}: {body}"))),
        }
    }
}

#[async_trait]
impl Harness for WecomHarness {
    fn channel(&self) -> Arc<dyn Channel> {
        self.channel.clone()
    }

    fn inbox_id(&self) -> i64 {
        INBOX
    }

    fn sink(&self) -> &RecordingSink {
        &self.sink
    }

    async fn inject(&self, sample: &Sample) -> Result<(), Rejection> {
        self.api.push_kf_message(json!({
            "msgid": sample.provider_id, "open_kfid": KFID, "external_userid": sample.sender,
            "send_time": 1, "origin": 3, "msgtype": "text", "text": {"content": sample.text},
        }));
        self.notify(TOKEN).await
    }

    async fn inject_forged(&self, _sample: &Sample) -> Result<(), Rejection> {
        // A WeCom callback carries no message; forging one means forging the notification.
        self.notify("notTheInboxToken").await
    }

    async fn script_send(&self, outcome: ProviderOutcome) {
        script(&self.api, outcome, 40096);
    }

    fn recipient(&self) -> Recipient {
        Recipient {
            external_id: "kefu-ck-user".into(),
            display_name: None,
        }
    }
}

#[tokio::test]
async fn wecom_kf_passes_the_testkit() {
    let h = WecomHarness::start().await;
    run_conformance(&h).await;
    assert_eq!(
        h.api.sends().len(),
        1,
        "exactly the accepted send reached WeCom"
    );
    assert!(
        h.api
            .send_paths()
            .iter()
            .all(|p| p == "/cgi-bin/kf/send_msg")
    );
}
