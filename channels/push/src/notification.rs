//! The notification for one agent reply, and its FCM and APNs payloads within 4096 bytes.

use std::collections::BTreeMap;

use kefu_channel::OutboundMessage;
use serde_json::{Value, json};

/// APNs refuses payloads over 4096 bytes (413 `PayloadTooLarge`); FCM counts the notification
/// and data strings, keys included, against the same number.
pub(crate) const MAX_PAYLOAD_BYTES: usize = 4096;
/// Lock screens show two or three lines; a longer preview only costs bytes.
const PREVIEW_CHARS: usize = 240;
const TITLE_CHARS: usize = 64;
/// Shown instead of the text when the inbox hides previews.
pub(crate) const HIDDEN_BODY: &str = "You have a new reply.";
/// How long providers keep trying to deliver to an offline device.
const EXPIRY_SECS: i64 = 24 * 3600;

/// The payload cannot be made small enough.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TooLarge(pub(crate) usize);

/// What every device of the user is told about one reply.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Notification {
    pub(crate) title: String,
    pub(crate) body: String,
    /// `None` when previews are hidden.
    pub(crate) preview: Option<String>,
    pub(crate) conversation_id: i64,
    pub(crate) message_id: i64,
    pub(crate) seq: Option<i64>,
    /// Collapses a burst of replies to one notification per conversation on the device.
    pub(crate) collapse_id: String,
    /// Unix seconds after which providers stop trying.
    pub(crate) expires_at: i64,
}

fn truncate(s: &str, chars: usize) -> String {
    match s.char_indices().nth(chars) {
        Some((i, _)) => format!("{}…", s[..i].trim_end()),
        None => s.to_owned(),
    }
}

impl Notification {
    pub(crate) fn for_reply(msg: &OutboundMessage, show_preview: bool, seq: Option<i64>) -> Self {
        let title = match msg.agent_name.as_deref().map(str::trim) {
            Some(name) if !name.is_empty() => truncate(name, TITLE_CHARS),
            _ => "New reply".to_owned(),
        };
        let preview = show_preview.then(|| truncate(msg.content.text.trim(), PREVIEW_CHARS));
        Self {
            title,
            body: preview.clone().unwrap_or_else(|| HIDDEN_BODY.to_owned()),
            preview,
            conversation_id: msg.conversation_id,
            message_id: msg.message_id,
            seq,
            collapse_id: format!("kefu-conv-{}", msg.conversation_id),
            expires_at: chrono::Utc::now().timestamp() + EXPIRY_SECS,
        }
    }

    /// FCM `data`: string values only.
    fn fcm_data(&self) -> BTreeMap<&'static str, String> {
        let mut data = BTreeMap::from([
            ("conversation_id", self.conversation_id.to_string()),
            ("message_id", self.message_id.to_string()),
        ]);
        if let Some(seq) = self.seq {
            data.insert("seq", seq.to_string());
        }
        if let Some(p) = &self.preview {
            data.insert("preview", p.clone());
        }
        data
    }

    fn fcm_size(&self) -> usize {
        self.title.len()
            + self.body.len()
            + self
                .fcm_data()
                .iter()
                .map(|(k, v)| k.len() + v.len())
                .sum::<usize>()
    }

    fn apns_json(&self) -> Value {
        let mut kefu = json!({
            "conversation_id": self.conversation_id,
            "message_id": self.message_id,
        });
        if let Some(seq) = self.seq {
            kefu["seq"] = json!(seq);
        }
        json!({
            "aps": {
                "alert": {"title": self.title, "body": self.body},
                "sound": "default",
                "thread-id": self.collapse_id,
            },
            "kefu": kefu,
        })
    }

    /// Shortens the preview until `size` fits, or says by how much it cannot.
    fn fit(&self, size: impl Fn(&Self) -> usize) -> Result<Self, TooLarge> {
        let mut n = self.clone();
        while size(&n) > MAX_PAYLOAD_BYTES {
            let Some(p) = n.preview.as_ref().filter(|p| !p.is_empty()) else {
                return Err(TooLarge(size(&n)));
            };
            let chars = p.chars().count();
            let shorter = if chars <= 1 {
                String::new()
            } else {
                truncate(p, chars / 2)
            };
            n.body = if shorter.is_empty() {
                HIDDEN_BODY.to_owned()
            } else {
                shorter.clone()
            };
            n.preview = Some(shorter);
        }
        Ok(n)
    }

    /// The FCM v1 `message` for one registration token.
    pub(crate) fn fcm_message(&self, token: &str) -> Result<Value, TooLarge> {
        let n = self.fit(Self::fcm_size)?;
        let ttl = (n.expires_at - chrono::Utc::now().timestamp()).max(0);
        Ok(json!({
            "message": {
                "token": token,
                "notification": {"title": n.title, "body": n.body},
                "data": n.fcm_data(),
                "android": {
                    "collapse_key": n.collapse_id,
                    "priority": "high",
                    "ttl": format!("{ttl}s"),
                },
                "apns": {"headers": {"apns-collapse-id": n.collapse_id}},
            }
        }))
    }

    /// The APNs JSON payload.
    pub(crate) fn apns_payload(&self) -> Result<Vec<u8>, TooLarge> {
        let n = self.fit(|n| n.apns_json().to_string().len())?;
        Ok(n.apns_json().to_string().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use kefu_channel::{Content, Recipient};

    use super::*;

    fn reply(text: &str, agent: Option<&str>) -> OutboundMessage {
        OutboundMessage {
            message_id: 9,
            conversation_id: 42,
            inbox_id: 1,
            recipient: Recipient::default(),
            content: Content::text(text),
            agent_name: agent.map(str::to_owned),
            references: Vec::new(),
            subject: None,
            conversation_token: None,
            last_inbound_at: None,
            system: false,
        }
    }

    #[test]
    fn carries_what_the_app_needs_to_sync() {
        let n = Notification::for_reply(
            &reply("Your refund is on its way.", Some("Alice")),
            true,
            Some(7),
        );
        let m = n.fcm_message("tok").expect("fits");
        assert_eq!(m["message"]["notification"]["title"], "Alice");
        assert_eq!(m["message"]["data"]["conversation_id"], "42");
        assert_eq!(m["message"]["data"]["seq"], "7");
        assert_eq!(
            m["message"]["data"]["preview"],
            "Your refund is on its way."
        );
        assert_eq!(m["message"]["android"]["collapse_key"], "kefu-conv-42");
        let a: Value = serde_json::from_slice(&n.apns_payload().expect("fits")).expect("json");
        assert_eq!(a["aps"]["alert"]["body"], "Your refund is on its way.");
        assert_eq!(a["kefu"]["seq"], 7);
    }

    #[test]
    fn hidden_previews_leave_the_text_out() {
        let n = Notification::for_reply(&reply("secret order 1234", None), false, None);
        let m = n.fcm_message("tok").expect("fits").to_string();
        let a = String::from_utf8(n.apns_payload().expect("fits")).expect("utf8");
        for payload in [m, a] {
            assert!(!payload.contains("1234"), "{payload}");
            assert!(payload.contains(HIDDEN_BODY));
        }
    }

    #[test]
    fn long_previews_are_shortened_to_fit_4096_bytes() {
        let mut n = Notification::for_reply(&reply("x", Some("Bob")), true, Some(1));
        // A preview far beyond what any payload allows, as a custom limit could produce.
        n.preview = Some("汉".repeat(3000));
        n.body = n.preview.clone().expect("set");
        let apns = n.apns_payload().expect("fits after shortening");
        assert!(apns.len() <= MAX_PAYLOAD_BYTES, "{}", apns.len());
        let fcm = n.fcm_message("tok").expect("fits after shortening");
        let preview = fcm["message"]["data"]["preview"].as_str().expect("preview");
        assert!(preview.starts_with("汉汉"), "some preview survives");
        assert!(n.fcm_size() > MAX_PAYLOAD_BYTES);
    }

    #[test]
    fn a_payload_without_preview_that_does_not_fit_is_refused() {
        let mut n = Notification::for_reply(&reply("x", None), false, None);
        n.title = "t".repeat(MAX_PAYLOAD_BYTES + 1);
        assert!(matches!(n.apns_payload(), Err(TooLarge(s)) if s > MAX_PAYLOAD_BYTES));
        assert!(matches!(n.fcm_message("tok"), Err(TooLarge(_))));
    }

    #[test]
    fn truncates_by_characters() {
        assert_eq!(truncate("héllo wörld", 5), "héllo…");
        assert_eq!(truncate("short", 10), "short");
    }
}
