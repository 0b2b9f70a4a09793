//! FCM HTTP v1: `POST {api_base}/v1/projects/{project_id}/messages:send`.
//!
//! Errors come as `{"error": {"code", "message", "status", "details": [{"@type":
//! "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode"}]}}`; the FCM-specific
//! `errorCode` wins over the generic `status`. See
//! <https://firebase.google.com/docs/reference/fcm/rest/v1/ErrorCode>.

use reqwest::StatusCode;
use serde_json::Value;

use crate::notification::Notification;
use crate::oauth::TokenSource;
use crate::outcome::DeviceOutcome;
use crate::retry_after::retry_after;

/// One Firebase project.
pub(crate) struct Fcm {
    http: reqwest::Client,
    url: String,
    auth: TokenSource,
}

impl Fcm {
    pub(crate) fn new(
        http: reqwest::Client,
        api_base: &str,
        project_id: &str,
        auth: TokenSource,
    ) -> Self {
        Self {
            http,
            url: format!("{api_base}/v1/projects/{project_id}/messages:send"),
            auth,
        }
    }

    /// Pushes `n` to one registration token.
    pub(crate) async fn send(&self, token: &str, n: &Notification) -> DeviceOutcome {
        let body = match n.fcm_message(token) {
            Ok(b) => b,
            Err(too_large) => {
                return DeviceOutcome::failed(
                    "payload_too_large",
                    format!(
                        "the notification needs {} bytes, FCM allows 4096",
                        too_large.0
                    ),
                );
            }
        };
        // A 401 means the access token was revoked or expired early: fetch a new one, once.
        let mut first = true;
        loop {
            let access = match self.auth.token().await {
                Ok(t) => t,
                Err(outcome) => return outcome,
            };
            let resp = match self
                .http
                .post(&self.url)
                .bearer_auth(&access)
                .json(&body)
                .send()
                .await
            {
                Ok(r) => r,
                Err(e) => return DeviceOutcome::retry(format!("FCM unreachable: {e}"), None),
            };
            let status = resp.status();
            let after = retry_after(resp.headers());
            let text = resp.text().await.unwrap_or_default();
            if status.is_success() {
                let v: Value = serde_json::from_str(&text).unwrap_or_default();
                return DeviceOutcome::Sent {
                    id: v["name"].as_str().map(str::to_owned),
                };
            }
            let err = FcmError::parse(status, &text);
            if status == StatusCode::UNAUTHORIZED && err.code != "THIRD_PARTY_AUTH_ERROR" {
                if first {
                    first = false;
                    self.auth.invalidate(&access).await;
                    continue;
                }
                return DeviceOutcome::failed(
                    "fcm_auth_failed",
                    "FCM refused a fresh access token; check that the service account may send messages (cloudmessaging.messages.create)",
                );
            }
            return err.classify(after);
        }
    }
}

/// An FCM error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FcmError {
    status: StatusCode,
    code: String,
    message: String,
}

impl FcmError {
    fn parse(status: StatusCode, body: &str) -> Self {
        let v: Value = serde_json::from_str(body).unwrap_or_default();
        let e = &v["error"];
        let fcm_code = e["details"].as_array().and_then(|d| {
            d.iter()
                .filter(|x| {
                    x["@type"]
                        .as_str()
                        .is_some_and(|t| t.ends_with("google.firebase.fcm.v1.FcmError"))
                })
                .find_map(|x| x["errorCode"].as_str())
        });
        Self {
            status,
            code: fcm_code
                .or_else(|| e["status"].as_str())
                .unwrap_or("UNSPECIFIED_ERROR")
                .to_owned(),
            message: e["message"]
                .as_str()
                .unwrap_or_else(|| status.canonical_reason().unwrap_or("error"))
                .to_owned(),
        }
    }

    fn classify(self, after: Option<std::time::Duration>) -> DeviceOutcome {
        let reason = format!(
            "FCM {} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        );
        let about_token = {
            let m = self.message.to_ascii_lowercase();
            m.contains("registration token") || m.contains("message.token")
        };
        match self.code.as_str() {
            "UNREGISTERED" | "SENDER_ID_MISMATCH" => DeviceOutcome::Stale {
                code: self.code,
                reason,
            },
            "INVALID_ARGUMENT" if about_token => DeviceOutcome::Stale {
                code: self.code,
                reason,
            },
            "QUOTA_EXCEEDED" => DeviceOutcome::RateLimited { reason, after },
            "UNAVAILABLE" | "INTERNAL" => DeviceOutcome::Retry { reason, after },
            _ if self.status.is_server_error() => DeviceOutcome::Retry { reason, after },
            _ if self.status == StatusCode::TOO_MANY_REQUESTS => {
                DeviceOutcome::RateLimited { reason, after }
            }
            _ => DeviceOutcome::Failed {
                code: self.code,
                reason,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn body(status: &str, code: Option<&str>, message: &str) -> String {
        let details = code
            .map(|c| {
                serde_json::json!([{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": c}])
            })
            .unwrap_or_default();
        serde_json::json!({"error": {"code": 400, "message": message, "status": status, "details": details}})
            .to_string()
    }

    #[test]
    fn classifies_every_documented_error() {
        let after = Some(Duration::from_secs(30));
        let cases: [(u16, String, &str); 10] = [
            (
                404,
                body(
                    "NOT_FOUND",
                    Some("UNREGISTERED"),
                    "Requested entity was not found.",
                ),
                "removed",
            ),
            (
                400,
                body(
                    "INVALID_ARGUMENT",
                    Some("INVALID_ARGUMENT"),
                    "The registration token is not a valid FCM registration token",
                ),
                "removed",
            ),
            (
                400,
                body(
                    "INVALID_ARGUMENT",
                    Some("INVALID_ARGUMENT"),
                    "Invalid value at 'message.data[0].value' (TYPE_STRING), 12",
                ),
                "failed",
            ),
            (
                403,
                body(
                    "PERMISSION_DENIED",
                    Some("SENDER_ID_MISMATCH"),
                    "SenderId mismatch",
                ),
                "removed",
            ),
            (
                401,
                body(
                    "UNAUTHENTICATED",
                    Some("THIRD_PARTY_AUTH_ERROR"),
                    "APNs auth",
                ),
                "failed",
            ),
            (
                429,
                body("RESOURCE_EXHAUSTED", Some("QUOTA_EXCEEDED"), "quota"),
                "rate_limited",
            ),
            (
                503,
                body("UNAVAILABLE", Some("UNAVAILABLE"), "busy"),
                "retry",
            ),
            (500, body("INTERNAL", Some("INTERNAL"), "oops"), "retry"),
            (502, "<html>bad gateway</html>".to_owned(), "retry"),
            (
                400,
                body(
                    "INVALID_ARGUMENT",
                    None,
                    "Request contains an invalid argument.",
                ),
                "failed",
            ),
        ];
        for (status, text, want) in cases {
            let got = FcmError::parse(StatusCode::from_u16(status).expect("status"), &text)
                .classify(after);
            let kind = match &got {
                DeviceOutcome::Stale { .. } => "removed",
                DeviceOutcome::Failed { .. } => "failed",
                DeviceOutcome::RateLimited { after: a, .. } => {
                    assert_eq!(*a, after);
                    "rate_limited"
                }
                DeviceOutcome::Retry { after: a, .. } => {
                    assert_eq!(*a, after);
                    "retry"
                }
                DeviceOutcome::Sent { .. } => "sent",
                DeviceOutcome::Paced { .. } => "paced",
            };
            assert_eq!(kind, want, "{status} {text}: {got:?}");
        }
    }
}
