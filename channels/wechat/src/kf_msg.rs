//! WeCom customer-service (微信客服) messages as `sync_msg` returns them, and their
//! normalization into envelopes.
//!
//! Only `origin == 3` items are the customer's own messages; 4 are system events and 5 are
//! replies an agent typed in the WeCom client. The dedupe key is `msgid`, so a re-sync after a
//! lost cursor stores nothing twice.

use chrono::{DateTime, Utc};
use kefu_channel::{Attachment, Content, ExternalIdentity, InboundEnvelope};
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// A customer's message.
pub(crate) const ORIGIN_CUSTOMER: i64 = 3;

/// One `msg_list` item.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct KfMessage {
    pub(crate) msgid: String,
    #[serde(default)]
    pub(crate) external_userid: String,
    #[serde(default)]
    pub(crate) send_time: i64,
    #[serde(default)]
    pub(crate) origin: i64,
    pub(crate) msgtype: String,
    /// The type object (`text`, `image`, ...), looked up by `msgtype`.
    #[serde(flatten)]
    pub(crate) rest: Map<String, Value>,
}

/// One `sync_msg` page.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct SyncPage {
    #[serde(default)]
    pub(crate) next_cursor: String,
    #[serde(default)]
    pub(crate) has_more: i64,
    #[serde(default)]
    pub(crate) msg_list: Vec<Value>,
}

fn attachment(name: &str, mime: &str, media_id: Option<&str>) -> Vec<Attachment> {
    vec![Attachment {
        name: name.to_owned(),
        mime: mime.to_owned(),
        size: None,
        url: None,
        provider_ref: media_id.map(str::to_owned),
        ..Attachment::default()
    }]
}

impl KfMessage {
    /// The envelope for a customer's message; `None` for system events, agents' own messages
    /// and items without a sender.
    pub(crate) fn into_envelope(self, inbox_id: i64) -> Option<InboundEnvelope> {
        if self.origin != ORIGIN_CUSTOMER
            || self.external_userid.is_empty()
            || self.msgid.is_empty()
        {
            return None;
        }
        let obj = self
            .rest
            .get(&self.msgtype)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let s = |k: &str| obj.get(k).and_then(Value::as_str).filter(|v| !v.is_empty());
        let mut extra = obj.clone();
        extra.insert("type".into(), json!(self.msgtype));
        let (text, attachments) = match self.msgtype.as_str() {
            "text" => (s("content").unwrap_or_default().to_owned(), Vec::new()),
            "image" => (
                String::new(),
                attachment("image.jpg", "image/jpeg", s("media_id")),
            ),
            "voice" => (
                String::new(),
                attachment("voice.amr", "audio/amr", s("media_id")),
            ),
            "video" => (
                String::new(),
                attachment("video.mp4", "video/mp4", s("media_id")),
            ),
            "file" => (
                String::new(),
                attachment("file", "application/octet-stream", s("media_id")),
            ),
            "location" => {
                let place = [s("name"), s("address")]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                (
                    format!("[location] {place}").trim_end().to_owned(),
                    Vec::new(),
                )
            }
            "link" => (
                format!(
                    "[link] {}\n{}",
                    s("title").unwrap_or_default(),
                    s("url").unwrap_or_default()
                ),
                Vec::new(),
            ),
            "miniprogram" => (
                format!("[mini program] {}", s("title").unwrap_or_default()),
                Vec::new(),
            ),
            "business_card" => ("[business card]".to_owned(), Vec::new()),
            other => (format!("[unsupported message type: {other}]"), Vec::new()),
        };
        // Media ids are in the attachment; the rest of the type object stays for the console.
        extra.remove("media_id");
        if self.msgtype == "text" {
            extra.remove("content");
        }
        Some(InboundEnvelope {
            inbox_id,
            sender: ExternalIdentity::new(self.external_userid),
            dedupe_key: Some(msgid_key(self.msgid)),
            thread: Default::default(),
            content: Content {
                text,
                html: None,
                attachments,
                extra: Value::Object(extra),
            },
            sent_at: DateTime::<Utc>::from_timestamp(self.send_time, 0),
        })
    }
}

/// The dedupe key of a message with this `msgid`: the `msgid` itself, as stored so far (a
/// re-sync may re-read three days later), unless it has a `:` and so could pass for one of
/// Kefu's own keys in the inbox (`reply:<conversation>:<client_id>`); WeChat's ids never do,
/// and such an id gets its own namespace.
fn msgid_key(msgid: String) -> String {
    if msgid.contains(':') {
        format!("msgid:{msgid}")
    } else {
        msgid
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(v: Value) -> Option<InboundEnvelope> {
        serde_json::from_value::<KfMessage>(v)
            .expect("item parses")
            .into_envelope(5)
    }

    #[test]
    fn text_from_a_customer() {
        let e = env(json!({"msgid": "from_msgid_4622416642169452483", "open_kfid": "wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw",
            "external_userid": "wmAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw", "send_time": 1615478585, "origin": 3,
            "msgtype": "text", "text": {"content": "你好", "menu_id": "101"}}))
        .expect("envelope");
        assert_eq!(e.inbox_id, 5);
        assert_eq!(e.sender.external_id, "wmAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw");
        assert_eq!(
            e.dedupe_key.as_deref(),
            Some("from_msgid_4622416642169452483")
        );
        assert_eq!(e.content.text, "你好");
        assert_eq!(e.content.extra, json!({"type": "text", "menu_id": "101"}));
        assert_eq!(e.sent_at.map(|t| t.timestamp()), Some(1615478585));
        let odd = env(
            json!({"msgid": "reply:7:x", "external_userid": "wm1", "send_time": 1,
            "origin": 3, "msgtype": "text", "text": {"content": "x"}}),
        )
        .expect("envelope");
        assert_eq!(
            odd.dedupe_key.as_deref(),
            Some("msgid:reply:7:x"),
            "an id cannot pass for an agent reply's key"
        );
    }

    #[test]
    fn media_and_location() {
        let e = env(json!({"msgid": "m1", "external_userid": "wm1", "send_time": 1, "origin": 3,
            "msgtype": "image", "image": {"media_id": "2iSLeVyqzk4eX0IB5kTi9Ljfa2rt9dwfq5WKRQ4Nvvgw"}}))
        .expect("envelope");
        assert_eq!(
            e.content.attachments[0].provider_ref.as_deref(),
            Some("2iSLeVyqzk4eX0IB5kTi9Ljfa2rt9dwfq5WKRQ4Nvvgw")
        );
        let e = env(
            json!({"msgid": "m2", "external_userid": "wm1", "send_time": 1, "origin": 3,
            "msgtype": "location", "location": {"latitude": 23.1, "longitude": 113.3,
            "name": "广州国际媒体港", "address": "广州市海珠区滨江东路"}}),
        )
        .expect("envelope");
        assert_eq!(
            e.content.text,
            "[location] 广州国际媒体港 广州市海珠区滨江东路"
        );
        assert_eq!(e.content.extra["latitude"], 23.1);
    }

    #[test]
    fn events_agents_and_unknown_types() {
        assert!(
            env(
                json!({"msgid": "e", "send_time": 1, "origin": 4, "msgtype": "event",
            "event": {"event_type": "enter_session", "external_userid": "wm1"}})
            )
            .is_none()
        );
        assert!(
            env(
                json!({"msgid": "a", "external_userid": "wm1", "send_time": 1, "origin": 5,
            "msgtype": "text", "text": {"content": "agent typed this"}})
            )
            .is_none()
        );
        let e = env(
            json!({"msgid": "u", "external_userid": "wm1", "send_time": 1, "origin": 3,
            "msgtype": "channels_shop_product", "channels_shop_product": {"product_id": "1"}}),
        )
        .expect("envelope");
        assert_eq!(
            e.content.text,
            "[unsupported message type: channels_shop_product]"
        );
    }
}
