//! Channel fallback: when a reply or a notification cannot reach the customer through its
//! conversation's channel for a reason another channel does not share (WeChat's 48-hour
//! window closed, the customer unfollowed or blocked the account, no app device), and the
//! inbox has fallback on, a copy goes out through the contact's next identity, in the inbox's
//! order of channel types (e.g. WeChat → app → email).
//!
//! The copy is stored in that identity's open conversation (or a new one) and delivered and
//! tracked like any reply. The two messages point at each other through `messages.fallback`,
//! so both threads can say "sent by email instead: WeChat window closed":
//! - the failed one gets `{"to": {message_id, conversation_id, channel}}`;
//! - the copy gets `{"from": {message_id, conversation_id, channel, code, reason}}`.
//!
//! A web chat reply the visitor never saw (they left the page) is sent by email too, to the
//! address they left in the pre-chat form, where the web chat inbox has fallback on (see
//! [`Fallbacks::unseen_web_replies`]). Where the contact has no identity in an email inbox yet
//! but an email address, one is made in the first email inbox. While no agent is online the
//! widget asks a visitor without one for an address ([`Fallbacks::offline`]).
//!
//! A copy that fails too falls back further, never to an inbox already tried, and always in
//! the order of the inbox the first message left from. The work is driven by the outbox
//! (`message.failed`), so it survives a crash; every step is idempotent (the copy's dedupe key
//! is `fallback:<failed message id>`).

mod offline;
mod store;
mod unseen;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::StoreError;

pub use offline::Offline;
pub use store::{Fallbacks, FellBack};

/// The failure codes another channel can overcome: the channel's own window, subscription
/// or devices, not the content.
pub const CODES: &[&str] = &[
    "reply_window_closed",
    "reply_quota_exhausted",
    "recipient_not_subscribed",
    "recipient_refuses_messages",
    "no_devices",
    "devices_unregistered",
    "invalid_recipient",
    "inbox_unavailable",
];

/// The most channel types an order may name.
pub const MAX_ORDER: usize = 10;

/// An inbox's channel fallback (stored on the inbox as `fallback`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FallbackSettings {
    /// Whether a reply that cannot reach the customer here is sent through another of their
    /// channels. Off by default.
    #[serde(default)]
    pub enabled: bool,
    /// Channel types to try, in order (`["app_push", "email"]`); empty tries the contact's other
    /// identities, most recently active first.
    #[serde(default)]
    pub order: Vec<String>,
}

impl FallbackSettings {
    /// The settings as stored, `Invalid` (naming the field) when `order` repeats a type,
    /// names one `known` does not, or is too long.
    pub fn checked(mut self, known: impl Fn(&str) -> bool) -> Result<Self, StoreError> {
        self.order = self.order.iter().map(|t| t.trim().to_owned()).collect();
        if self.order.len() > MAX_ORDER {
            return Err(StoreError::Invalid(format!(
                "fallback.order may name at most {MAX_ORDER} channel types"
            )));
        }
        for (i, t) in self.order.iter().enumerate() {
            if !known(t) {
                return Err(StoreError::Invalid(format!(
                    "fallback.order[{i}] {t:?} is not a channel type of this server"
                )));
            }
            if self.order[..i].contains(t) {
                return Err(StoreError::Invalid(format!(
                    "fallback.order[{i}] names {t:?} twice"
                )));
            }
        }
        Ok(self)
    }

    /// The settings stored on an inbox row (off when none are).
    pub fn of(row: &crate::entity::inbox::Model) -> Self {
        row.fallback
            .as_ref()
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default()
    }
}

/// One end of a fallback, as a message's `delivery` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FallbackLink {
    /// The other message.
    pub message_id: i64,
    /// Its conversation.
    pub conversation_id: i64,
    /// Its channel type.
    pub channel: String,
    /// Why the first one failed (`reply_window_closed`); on `fallback_from` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The failure's sentence; on `fallback_from` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What `messages.fallback` holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Stored {
    /// The message this one is a copy of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<FallbackLink>,
    /// The copy of this one sent another way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<FallbackLink>,
    /// The inbox whose order decides, the first message's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_inbox_id: Option<i64>,
    /// Inboxes the chain already went through.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tried: Vec<i64>,
}

impl Stored {
    /// What a message row holds (nothing when it was never part of a fallback).
    pub(crate) fn of(value: Option<&serde_json::Value>) -> Self {
        value
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default()
    }
}

/// The code of a stored delivery error (`"code: reason"`), if it is one another channel can
/// overcome.
pub fn fallback_code(delivery_error: Option<&str>) -> Option<(&'static str, &str)> {
    let (code, reason) = delivery_error?.split_once(": ")?;
    CODES
        .iter()
        .find(|c| **c == code)
        .map(|c| (*c, reason.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_failures_another_channel_can_overcome_fall_back() {
        assert_eq!(
            fallback_code(Some("reply_window_closed: 48 hours passed")),
            Some(("reply_window_closed", "48 hours passed"))
        );
        assert_eq!(
            fallback_code(Some("no_devices: none")),
            Some(("no_devices", "none"))
        );
        assert_eq!(fallback_code(Some("content_too_long: too long")), None);
        assert_eq!(fallback_code(Some("reply_window_closed")), None);
        assert_eq!(fallback_code(None), None);
    }

    #[test]
    fn an_order_names_known_types_once() {
        let known = |t: &str| ["wechat", "app_push", "email"].contains(&t);
        let ok = FallbackSettings {
            enabled: true,
            order: vec![" app_push".into(), "email".into()],
        }
        .checked(known)
        .expect("a good order");
        assert_eq!(ok.order, ["app_push", "email"]);
        let twice = FallbackSettings {
            enabled: true,
            order: vec!["email".into(), "email".into()],
        };
        let e = twice.checked(known).expect_err("refused").to_string();
        assert!(
            e.contains("fallback.order[1]") && e.contains("twice"),
            "{e}"
        );
        let unknown = FallbackSettings {
            enabled: true,
            order: vec!["fax".into()],
        };
        let e = unknown.checked(known).expect_err("refused").to_string();
        assert!(e.contains("fallback.order[0]") && e.contains("fax"), "{e}");
    }
}
