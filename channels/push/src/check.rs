//! "Test push" for an app inbox: send one notification to a device token an admin enters,
//! through FCM or APNs as configured, and report the provider's answer.

use kefu_channel::{CHECK_TIMEOUT, Check, Probe};

use crate::channel::PushChannel;
use crate::notification::Notification;
use crate::outcome::DeviceOutcome;

const NAME: &str = "push";

/// The `push` check.
pub(crate) async fn run(channel: &PushChannel, probe: &Probe) -> Check {
    let Some(token) = probe
        .device_token
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    else {
        return Check::failed(NAME, "Enter a device token to send a test push to.");
    };
    let platform = match probe.platform.as_deref().map(str::trim) {
        Some("fcm") => "fcm",
        Some("apns") => "apns",
        Some(other) => {
            return Check::failed(
                NAME,
                format!("platform {other:?} is unknown; use fcm or apns."),
            );
        }
        None => match (&channel.fcm, &channel.apns) {
            (Some(_), None) => "fcm",
            (None, Some(_)) => "apns",
            _ => {
                return Check::failed(
                    NAME,
                    "Say whether the device token is for fcm or apns (platform).",
                );
            }
        },
    };
    let n = Notification {
        title: "Kefu".to_owned(),
        body: "This is a test notification from Kefu.".to_owned(),
        preview: None,
        conversation_id: 0,
        message_id: 0,
        seq: None,
        collapse_id: "kefu-test".to_owned(),
        expires_at: chrono::Utc::now().timestamp() + 3600,
    };
    let (provider, outcome) = match platform {
        "fcm" => match &channel.fcm {
            Some(fcm) => ("FCM", bounded(fcm.send(token, &n)).await),
            None => return Check::failed(NAME, "The inbox has no FCM settings."),
        },
        _ => match &channel.apns {
            Some(apns) => ("APNs", bounded(apns.send(token, &n)).await),
            None => return Check::failed(NAME, "The inbox has no APNs settings."),
        },
    };
    match outcome {
        Some(DeviceOutcome::Sent { id }) => Check::ok(
            NAME,
            match id {
                Some(id) => format!("{provider} accepted the test push ({id})."),
                None => format!("{provider} accepted the test push."),
            },
        ),
        Some(DeviceOutcome::Stale { code, reason }) => Check::failed(
            NAME,
            format!("{provider} says the device token is not valid for this app: {code}: {reason}"),
        ),
        Some(DeviceOutcome::Failed { code, reason }) => {
            Check::failed(NAME, format!("{provider}: {code}: {reason}"))
        }
        Some(DeviceOutcome::Retry { reason, .. } | DeviceOutcome::RateLimited { reason, .. }) => {
            Check::failed(NAME, format!("{provider}: {reason}"))
        }
        // The test push goes to the provider directly, past Kefu's per-device pacing.
        Some(DeviceOutcome::Paced { after }) => Check::failed(
            NAME,
            format!(
                "Kefu is pacing pushes to this device; try again in {} seconds.",
                after.as_secs().max(1)
            ),
        ),
        None => Check::failed(
            NAME,
            format!(
                "{provider} did not answer within {} seconds.",
                CHECK_TIMEOUT.as_secs()
            ),
        ),
    }
}

async fn bounded(send: impl Future<Output = DeviceOutcome>) -> Option<DeviceOutcome> {
    tokio::time::timeout(CHECK_TIMEOUT, send).await.ok()
}
