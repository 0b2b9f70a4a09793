//! OAuth2 access tokens for FCM from a service account (Google's JWT-bearer grant).
//!
//! `POST token_uri` with `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` and an RS256
//! JWT `{iss: client_email, scope, aud: token_uri, iat, exp <= iat + 3600}` signed with the
//! account's key; the answer is `{access_token, expires_in, token_type}`. The token is cached
//! until five minutes before it expires and fetched by one caller while concurrent sends wait.
//! Docs: <https://developers.google.com/identity/protocols/oauth2/service-account#httprest>.

use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::outcome::DeviceOutcome;
use crate::retry_after::retry_after;

/// The scope FCM HTTP v1 needs.
pub(crate) const FCM_SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// Refresh this long before the token expires, so no request carries a token about to lapse.
const REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// The service account's identity and key.
pub(crate) struct ServiceAccount {
    pub(crate) client_email: String,
    pub(crate) key_id: Option<String>,
    pub(crate) key: EncodingKey,
    pub(crate) token_uri: String,
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

struct Cached {
    token: String,
    refresh_at: Instant,
}

/// Access tokens for one service account.
pub(crate) struct TokenSource {
    http: reqwest::Client,
    account: ServiceAccount,
    cached: tokio::sync::Mutex<Option<Cached>>,
}

impl TokenSource {
    pub(crate) fn new(http: reqwest::Client, account: ServiceAccount) -> Self {
        Self {
            http,
            account,
            cached: tokio::sync::Mutex::new(None),
        }
    }

    /// A valid access token, fetched when none is cached or the cached one is about to expire.
    /// The error is how every device of the platform fares: retryable when Google's endpoint
    /// is down, failed when it refuses the account.
    pub(crate) async fn token(&self) -> Result<String, DeviceOutcome> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref().filter(|c| Instant::now() < c.refresh_at) {
            return Ok(c.token.clone());
        }
        let (token, lifetime) = self.fetch().await?;
        let margin = REFRESH_MARGIN.min(lifetime / 2);
        *cached = Some(Cached {
            token: token.clone(),
            refresh_at: Instant::now() + lifetime.saturating_sub(margin),
        });
        Ok(token)
    }

    /// Forgets `token` after FCM refused it, unless another caller replaced it already.
    pub(crate) async fn invalidate(&self, token: &str) {
        let mut cached = self.cached.lock().await;
        if cached.as_ref().is_some_and(|c| c.token == token) {
            *cached = None;
        }
    }

    fn assertion(&self) -> Result<String, DeviceOutcome> {
        let now = chrono::Utc::now().timestamp();
        let a = &self.account;
        let mut header = Header::new(Algorithm::RS256);
        header.kid = a.key_id.clone();
        let claims = Claims {
            iss: &a.client_email,
            scope: FCM_SCOPE,
            aud: &a.token_uri,
            iat: now,
            exp: now + 3600,
        };
        jsonwebtoken::encode(&header, &claims, &a.key).map_err(|e| {
            DeviceOutcome::failed(
                "fcm_auth_failed",
                format!("cannot sign the service account assertion: {e}"),
            )
        })
    }

    async fn fetch(&self) -> Result<(String, Duration), DeviceOutcome> {
        let assertion = self.assertion()?;
        let resp = self
            .http
            .post(&self.account.token_uri)
            .form(&[("grant_type", GRANT_TYPE), ("assertion", &assertion)])
            .send()
            .await
            .map_err(|e| {
                DeviceOutcome::retry(format!("FCM token endpoint unreachable: {e}"), None)
            })?;
        let status = resp.status();
        let after = retry_after(resp.headers());
        let body = resp.text().await.unwrap_or_default();
        if status.is_server_error() || status.as_u16() == 429 {
            return Err(DeviceOutcome::retry(
                format!("FCM token endpoint answered {status}"),
                after,
            ));
        }
        if !status.is_success() {
            // invalid_grant: revoked key, wrong account, clock far off. An admin must act.
            let detail: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            return Err(DeviceOutcome::failed(
                "fcm_auth_failed",
                format!(
                    "Google refused the service account ({status} {}); check the inbox's FCM service account key",
                    detail["error"].as_str().unwrap_or("no error code")
                ),
            ));
        }
        let t: TokenResponse = serde_json::from_str(&body).map_err(|e| {
            DeviceOutcome::retry(format!("FCM token endpoint sent no token: {e}"), None)
        })?;
        Ok((
            t.access_token,
            Duration::from_secs(t.expires_in.unwrap_or(3600)),
        ))
    }
}
