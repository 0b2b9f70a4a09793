//! What happened at each device, and what that means for the reply as a whole.

use std::time::Duration;

use kefu_channel::{SendError, SendReceipt};
use serde_json::{Value, json};

use crate::devices::Device;

/// A provider's answer for one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DeviceOutcome {
    /// Accepted; the provider's id for the notification.
    Sent { id: Option<String> },
    /// The token is dead (uninstalled app, wrong environment): remove the device.
    Stale { code: String, reason: String },
    /// A transient failure.
    Retry {
        reason: String,
        after: Option<Duration>,
    },
    /// The provider's rate limit (its 429 or quota error).
    RateLimited {
        reason: String,
        after: Option<Duration>,
    },
    /// This device's own limit in Kefu is used up: nothing was sent; a token is free again
    /// after `after`.
    Paced { after: Duration },
    /// Retrying cannot help (bad configuration, refused payload).
    Failed { code: String, reason: String },
}

impl DeviceOutcome {
    pub(crate) fn failed(code: &str, reason: impl Into<String>) -> Self {
        Self::Failed {
            code: code.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn retry(reason: impl Into<String>, after: Option<Duration>) -> Self {
        Self::Retry {
            reason: reason.into(),
            after,
        }
    }

    fn status(&self) -> &'static str {
        match self {
            Self::Sent { .. } => "sent",
            Self::Stale { .. } => "removed",
            Self::Retry { .. } => "retryable",
            Self::RateLimited { .. } => "rate_limited",
            Self::Paced { .. } => "paced",
            Self::Failed { .. } => "failed",
        }
    }

    fn describe(&self) -> String {
        match self {
            Self::Sent { .. } => "sent".into(),
            Self::Stale { code, reason } | Self::Failed { code, reason } => {
                format!("{code}: {reason}")
            }
            Self::Retry { reason, .. } | Self::RateLimited { reason, .. } => reason.clone(),
            Self::Paced { .. } => PACED.into(),
        }
    }

    fn detail(&self, device: &Device) -> Value {
        let mut v = json!({"device": device.label(), "status": self.status()});
        match self {
            Self::Sent { id: Some(id) } => v["id"] = json!(id),
            Self::Sent { id: None } => {}
            Self::Stale { code, reason } | Self::Failed { code, reason } => {
                v["code"] = json!(code);
                v["reason"] = json!(reason);
            }
            Self::Retry { reason, after } | Self::RateLimited { reason, after } => {
                v["reason"] = json!(reason);
                if let Some(a) = after {
                    v["retry_after_secs"] = json!(a.as_secs());
                }
            }
            Self::Paced { after } => {
                v["reason"] = json!(PACED);
                v["retry_after_secs"] = json!(after.as_secs());
            }
        }
        v
    }
}

const PACED: &str = "waiting for the device's push limit in Kefu";

/// The reply's result from every device's: sent when any device got it; otherwise retryable
/// when a provider's failure may pass (rate limited when all of them were the provider's rate
/// limits), with the longest delay asked for; otherwise [`SendError::Paced`] when a device
/// only waits for its limit in Kefu, so the dispatcher sends later without counting an attempt;
/// otherwise permanent.
pub(crate) fn summarize(results: &[(Device, DeviceOutcome)]) -> Result<SendReceipt, SendError> {
    let details = json!({
        "devices": results.iter().map(|(d, o)| o.detail(d)).collect::<Vec<_>>(),
    });
    let sent: Vec<&Option<String>> = results
        .iter()
        .filter_map(|(_, o)| match o {
            DeviceOutcome::Sent { id } => Some(id),
            _ => None,
        })
        .collect();
    if !sent.is_empty() {
        return Ok(SendReceipt {
            provider_ref: sent.iter().find_map(|id| (*id).clone()),
            delivered: false,
            details: Some(details),
        });
    }
    let summary = results
        .iter()
        .map(|(d, o)| format!("{} {}", d.label(), o.describe()))
        .collect::<Vec<_>>()
        .join("; ");
    let mut transient = false;
    let mut only_limits = true;
    let mut after: Option<Duration> = None;
    let mut paced: Option<Duration> = None;
    for (_, o) in results {
        match o {
            DeviceOutcome::Retry { after: a, .. } | DeviceOutcome::RateLimited { after: a, .. } => {
                transient = true;
                only_limits &= matches!(o, DeviceOutcome::RateLimited { .. });
                after = after.max(*a);
            }
            DeviceOutcome::Paced { after: a } => paced = paced.max(Some(*a)),
            _ => {}
        }
    }
    // A provider's answer was a real attempt; a paced device is tried again with it.
    after = after.max(paced.filter(|_| transient));
    if let (false, Some(after)) = (transient, paced) {
        return Err(SendError::Paced {
            reason: format!("no device reached yet: {summary}"),
            after,
        });
    }
    if transient {
        return Err(if only_limits {
            SendError::RateLimited { after }
        } else {
            SendError::Retryable {
                reason: format!("no device reached yet: {summary}"),
                after,
            }
        });
    }
    if results.is_empty() {
        return Err(SendError::permanent(
            "no_devices",
            "The app user has no registered device to push to; they will see the reply when they open the app.",
        ));
    }
    let all_stale = results
        .iter()
        .all(|(_, o)| matches!(o, DeviceOutcome::Stale { .. }));
    let code = if all_stale {
        "devices_unregistered".to_owned()
    } else {
        results
            .iter()
            .find_map(|(_, o)| match o {
                DeviceOutcome::Failed { code, .. } => Some(code.clone()),
                _ => None,
            })
            .unwrap_or_else(|| "push_failed".into())
    };
    let reason = if all_stale {
        format!(
            "Every device of the app user is no longer registered with its push service and was removed ({summary}); they will see the reply when they open the app."
        )
    } else {
        format!("No device could be notified: {summary}")
    };
    Err(SendError::Permanent { code, reason })
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::devices::Platform;

    fn dev(t: &str) -> Device {
        Device {
            platform: Platform::Fcm,
            token: format!("token-{t}"),
            registered_at: Utc::now(),
        }
    }

    fn secs(s: u64) -> Option<Duration> {
        Some(Duration::from_secs(s))
    }

    #[test]
    fn classifies_the_reply_from_its_devices() {
        use DeviceOutcome as O;
        let sent = O::Sent {
            id: Some("m1".into()),
        };
        let stale = O::Stale {
            code: "UNREGISTERED".into(),
            reason: "gone".into(),
        };
        let retry = |a| O::retry("503", a);
        let limited = |a| O::RateLimited {
            reason: "429".into(),
            after: a,
        };
        let failed = O::failed("INVALID_ARGUMENT", "bad");
        let paced = |s| O::Paced {
            after: Duration::from_secs(s),
        };
        type Want = fn(&Result<SendReceipt, SendError>) -> bool;
        let cases: Vec<(Vec<O>, Want)> = vec![
            (vec![sent.clone(), retry(None)], |r| {
                r.as_ref()
                    .is_ok_and(|s| s.provider_ref.as_deref() == Some("m1"))
            }),
            (vec![stale.clone(), sent.clone()], |r| r.is_ok()),
            (
                vec![retry(secs(3)), limited(secs(9)), stale.clone()],
                |r| matches!(r, Err(SendError::Retryable { after, .. }) if *after == secs(9)),
            ),
            (
                vec![limited(secs(2)), limited(secs(7))],
                |r| matches!(r, Err(SendError::RateLimited { after }) if *after == secs(7)),
            ),
            // Kefu's own limit is not the provider's: wait, without an attempt.
            (
                vec![paced(4), paced(6), stale.clone(), failed.clone()],
                |r| matches!(r, Err(SendError::Paced { after, .. }) if *after == Duration::from_secs(6)),
            ),
            (vec![paced(4), sent.clone()], |r| r.is_ok()),
            // A provider's 429 next to a paced device was an attempt; the retry waits for both.
            (
                vec![paced(8), limited(secs(2))],
                |r| matches!(r, Err(SendError::RateLimited { after }) if *after == secs(8)),
            ),
            (
                vec![stale.clone(), stale.clone()],
                |r| matches!(r, Err(SendError::Permanent { code, .. }) if code == "devices_unregistered"),
            ),
            (
                vec![stale.clone(), failed.clone()],
                |r| matches!(r, Err(SendError::Permanent { code, .. }) if code == "INVALID_ARGUMENT"),
            ),
            (
                vec![],
                |r| matches!(r, Err(SendError::Permanent { code, .. }) if code == "no_devices"),
            ),
        ];
        for (i, (outcomes, want)) in cases.into_iter().enumerate() {
            let results: Vec<_> = outcomes
                .into_iter()
                .enumerate()
                .map(|(j, o)| (dev(&j.to_string()), o))
                .collect();
            let got = summarize(&results);
            assert!(want(&got), "case {i}: {got:?}");
        }
    }

    #[test]
    fn the_receipt_lists_every_device() {
        let results = vec![
            (
                dev("a"),
                DeviceOutcome::Sent {
                    id: Some("x".into()),
                },
            ),
            (dev("b"), DeviceOutcome::retry("busy", secs(4))),
        ];
        let r = summarize(&results).expect("one device got it");
        let devices = r.details.expect("details")["devices"].clone();
        assert_eq!(devices[0]["status"], "sent");
        assert_eq!(devices[0]["device"], "fcm:…token-a");
        assert_eq!(devices[1]["status"], "retryable");
        assert_eq!(devices[1]["retry_after_secs"], 4);
    }
}
