//! APNs provider API: `POST {api_base}/3/device/<token>` over HTTP/2 with token auth.
//!
//! The provider token is an ES256 JWT, header `{alg: ES256, kid: <key id>}`, claims
//! `{iss: <team id>, iat}`, signed with the `.p8` key. Apple rejects tokens older than an hour
//! and answers `TooManyProviderTokenUpdates` to refreshing more often than every 20 minutes,
//! so one token is reused for 40 minutes and re-signed early only after a 403 says it is
//! expired or invalid (once per failed token, however many sends saw the 403).

use std::sync::Mutex;
use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde::Serialize;
use tokio::time::Instant;

use crate::notification::Notification;
use crate::outcome::DeviceOutcome;
use crate::retry_after::retry_after;

/// Re-sign after this long: within Apple's 20–60 minute window.
const TOKEN_LIFETIME: Duration = Duration::from_secs(40 * 60);

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    iat: i64,
}

/// Signs and caches provider tokens.
pub(crate) struct Signer {
    team_id: String,
    key_id: String,
    key: EncodingKey,
    cached: Mutex<Option<(String, Instant)>>,
}

impl Signer {
    pub(crate) fn new(team_id: String, key_id: String, key: EncodingKey) -> Self {
        Self {
            team_id,
            key_id,
            key,
            cached: Mutex::new(None),
        }
    }

    fn sign(&self) -> Result<String, DeviceOutcome> {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.key_id.clone());
        let claims = Claims {
            iss: &self.team_id,
            iat: chrono::Utc::now().timestamp(),
        };
        jsonwebtoken::encode(&header, &claims, &self.key).map_err(|e| {
            DeviceOutcome::failed(
                "apns_auth_failed",
                format!("cannot sign the APNs provider token: {e}"),
            )
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(String, Instant)>> {
        self.cached.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The current token, re-signed when it is 40 minutes old or when `failed` is the one
    /// APNs just refused.
    pub(crate) fn token(&self, failed: Option<&str>) -> Result<String, DeviceOutcome> {
        let mut cached = self.lock();
        if let Some((t, at)) = cached.as_ref() {
            let refused = failed.is_some_and(|f| f == t);
            if !refused && at.elapsed() < TOKEN_LIFETIME {
                return Ok(t.clone());
            }
        }
        let t = self.sign()?;
        *cached = Some((t.clone(), Instant::now()));
        Ok(t)
    }
}

/// One app (bundle id) at one APNs environment.
pub(crate) struct Apns {
    http: reqwest::Client,
    base: String,
    topic: String,
    signer: Signer,
}

impl Apns {
    pub(crate) fn new(http: reqwest::Client, base: &str, topic: String, signer: Signer) -> Self {
        Self {
            http,
            base: base.to_owned(),
            topic,
            signer,
        }
    }

    /// Pushes `n` to one device token (hex).
    pub(crate) async fn send(&self, token: &str, n: &Notification) -> DeviceOutcome {
        let payload = match n.apns_payload() {
            Ok(p) => p,
            Err(too_large) => {
                return DeviceOutcome::failed(
                    "PayloadTooLarge",
                    format!(
                        "the notification needs {} bytes, APNs allows 4096",
                        too_large.0
                    ),
                );
            }
        };
        let url = format!("{}/3/device/{token}", self.base);
        let mut refused: Option<String> = None;
        loop {
            let jwt = match self.signer.token(refused.as_deref()) {
                Ok(t) => t,
                Err(outcome) => return outcome,
            };
            let resp = match self
                .http
                .post(&url)
                .header("authorization", format!("bearer {jwt}"))
                .header("apns-topic", &self.topic)
                .header("apns-push-type", "alert")
                .header("apns-priority", "10")
                .header("apns-expiration", n.expires_at.to_string())
                .header("apns-collapse-id", &n.collapse_id)
                .header("content-type", "application/json")
                .body(payload.clone())
                .send()
                .await
            {
                Ok(r) => r,
                Err(e) => return DeviceOutcome::retry(format!("APNs unreachable: {e}"), None),
            };
            let status = resp.status();
            let after = retry_after(resp.headers());
            let apns_id = resp
                .headers()
                .get("apns-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            if status.is_success() {
                return DeviceOutcome::Sent { id: apns_id };
            }
            let body: serde_json::Value = resp.json().await.unwrap_or_default();
            let reason = body["reason"].as_str().unwrap_or("").to_owned();
            let token_refused = status == StatusCode::FORBIDDEN
                && matches!(
                    reason.as_str(),
                    "ExpiredProviderToken" | "InvalidProviderToken"
                );
            if token_refused && refused.is_none() {
                refused = Some(jwt);
                continue;
            }
            if token_refused {
                return DeviceOutcome::failed(
                    "apns_auth_failed",
                    format!(
                        "APNs refused a freshly signed provider token ({reason}); check the inbox's APNs team id, key id and .p8 key"
                    ),
                );
            }
            return classify(status, reason, after);
        }
    }
}

/// Maps an APNs error answer to what Kefu does about it.
fn classify(status: StatusCode, reason: String, after: Option<Duration>) -> DeviceOutcome {
    let text = format!("APNs {} {reason}", status.as_u16());
    match (status.as_u16(), reason.as_str()) {
        (410, _) | (400, "BadDeviceToken") => DeviceOutcome::Stale {
            code: reason_or(&reason, "Unregistered"),
            reason: text,
        },
        (429, "TooManyProviderTokenUpdates") => DeviceOutcome::Retry {
            reason: text,
            after,
        },
        (429, _) => DeviceOutcome::RateLimited {
            reason: text,
            after,
        },
        (500..=599, _) => DeviceOutcome::Retry {
            reason: text,
            after,
        },
        (403, _) => DeviceOutcome::failed(
            &reason_or(&reason, "Forbidden"),
            format!("{text}: check the inbox's APNs team id, key id, .p8 key and topic"),
        ),
        _ => DeviceOutcome::failed(&reason_or(&reason, "apns_error"), text),
    }
}

fn reason_or(reason: &str, default: &str) -> String {
    if reason.is_empty() {
        default.to_owned()
    } else {
        reason.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_every_documented_answer() {
        let after = Some(Duration::from_secs(5));
        let cases = [
            (410, "Unregistered", "removed"),
            (410, "ExpiredToken", "removed"),
            (400, "BadDeviceToken", "removed"),
            (400, "DeviceTokenNotForTopic", "failed"),
            (400, "BadTopic", "failed"),
            (413, "PayloadTooLarge", "failed"),
            (403, "BadCertificate", "failed"),
            (429, "TooManyRequests", "rate_limited"),
            (429, "TooManyProviderTokenUpdates", "retry"),
            (500, "InternalServerError", "retry"),
            (503, "ServiceUnavailable", "retry"),
            (503, "", "retry"),
        ];
        for (status, reason, want) in cases {
            let got = classify(
                StatusCode::from_u16(status).expect("status"),
                reason.into(),
                after,
            );
            let kind = match &got {
                DeviceOutcome::Stale { .. } => "removed",
                DeviceOutcome::Failed { .. } => "failed",
                DeviceOutcome::RateLimited { after: a, .. }
                | DeviceOutcome::Retry { after: a, .. } => {
                    assert_eq!(*a, after, "{status} {reason}");
                    if matches!(got, DeviceOutcome::Retry { .. }) {
                        "retry"
                    } else {
                        "rate_limited"
                    }
                }
                DeviceOutcome::Sent { .. } => "sent",
                DeviceOutcome::Paced { .. } => "paced",
            };
            assert_eq!(kind, want, "{status} {reason}: {got:?}");
        }
    }
}
