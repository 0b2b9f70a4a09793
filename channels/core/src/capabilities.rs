//! What a channel can do, so the dispatcher and the console can adapt before sending.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A sustained rate with a burst allowance, e.g. WeChat's customer-service API at 20/s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quota {
    /// Sustained sends per second.
    pub per_second: u32,
    /// How many sends may go out at once before the sustained rate applies.
    pub burst: u32,
}

impl Quota {
    /// A quota of `per_second` with a burst of the same size.
    pub const fn per_second(per_second: u32) -> Self {
        Self {
            per_second,
            burst: per_second,
        }
    }
}

/// Limits and features of one channel account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// Longest text the provider accepts in one message, in characters.
    pub max_text_chars: usize,
    /// Whether replies may carry attachments.
    pub attachments: bool,
    /// Whether replies may carry HTML (email) besides plain text.
    pub html: bool,
    /// How long after the customer's last message a reply is still allowed
    /// (WeChat: 48 hours). `None` means replies are always allowed.
    #[serde(with = "opt_secs")]
    pub reply_window: Option<Duration>,
    /// Provider quota for the whole account; the dispatcher paces sends to it.
    pub send_quota: Option<Quota>,
    /// Provider quota per recipient.
    pub per_recipient_quota: Option<Quota>,
}

impl Default for Capabilities {
    fn default() -> Self {
        Self {
            max_text_chars: 4096,
            attachments: false,
            html: false,
            reply_window: None,
            send_quota: None,
            per_recipient_quota: None,
        }
    }
}

mod opt_secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(v: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(d) => s.serialize_some(&d.as_secs()),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_secs))
    }
}
