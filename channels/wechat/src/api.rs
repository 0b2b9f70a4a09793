//! The WeChat and WeCom server APIs: access tokens, JSON calls and error classification.
//!
//! Both APIs answer HTTP 200 with `{"errcode": N, "errmsg": "..."}`; `errcode` 0 (or absent)
//! means success. An access token is fetched with the account's secret, cached until shortly
//! before it expires, refreshed by one caller while concurrent callers wait for it
//! (single-flight), and refreshed once more when the API says it is invalid or expired
//! (40001, 40014, 42001) — the classic `cgi-bin/token` endpoint invalidates the previous token
//! after a five-minute overlap, so another node refreshing is an expected cause.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use kefu_channel::{ChannelState, FetchedFile, SendError};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::token_store::{SharedToken, TokenStore, unix_now};

use crate::errcode::{TOKEN_ERRORS, classify, classify_token_error};

/// How long to wait for the provider before calling a send transient.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// The HTTP client the factories use unless the gateway hands in its own.
pub(crate) fn default_http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
}

/// How an account obtains access tokens.
#[derive(Clone)]
pub(crate) enum Credentials {
    /// `GET /cgi-bin/token?grant_type=client_credential&appid=&secret=`.
    OfficialAccount {
        app_id: String,
        secret: SecretString,
    },
    /// `GET /cgi-bin/gettoken?corpid=&corpsecret=`.
    WeCom {
        corp_id: String,
        secret: SecretString,
    },
}

struct Cached {
    token: String,
    refresh_at: Instant,
}

/// One account's API client with its access-token cache.
pub(crate) struct Api {
    http: reqwest::Client,
    base: String,
    credentials: Credentials,
    token: Mutex<Option<Cached>>,
    /// Where the nodes serving this account share its token (none in adapter tests).
    shared: Option<Arc<TokenStore>>,
    /// Fetch a token from the provider on first use instead of reading the shared one.
    ask_provider_first: bool,
}

/// When to refresh a token that lives `expires_in` seconds: five minutes early, or halfway for
/// short-lived tokens, so a send never races the expiry.
pub(crate) fn refresh_after(expires_in: u64) -> Duration {
    Duration::from_secs(expires_in.saturating_sub(300).max(expires_in / 2))
}

impl Api {
    pub(crate) fn new(http: reqwest::Client, base: &str, credentials: Credentials) -> Self {
        Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            credentials,
            token: Mutex::new(None),
            shared: None,
            ask_provider_first: false,
        }
    }

    /// Shares this account's token with the other nodes through the inbox's state.
    pub(crate) fn shared_through(mut self, state: Arc<dyn ChannelState>, inbox_id: i64) -> Self {
        let (id, secret) = match &self.credentials {
            Credentials::OfficialAccount { app_id, secret } => (app_id, secret),
            Credentials::WeCom { corp_id, secret } => (corp_id, secret),
        };
        self.shared = Some(Arc::new(TokenStore::new(state, inbox_id, id, secret)));
        self
    }

    /// A client for the same account without the cached token, so that a credentials test
    /// ([`crate::check`]) really asks the provider. The token it gets is shared as usual.
    pub(crate) fn uncached(&self) -> Self {
        Self {
            shared: self.shared.clone(),
            ask_provider_first: true,
            ..Self::new(self.http.clone(), &self.base, self.credentials.clone())
        }
    }

    /// A valid access token, fetched when the cached one is missing or due.
    pub(crate) async fn access_token(&self) -> Result<String, SendError> {
        // Holding the lock across the fetch makes concurrent callers wait for one refresh
        // instead of each invalidating the token the others just got.
        let mut slot = self.token.lock().await;
        if let Some(c) = slot.as_ref().filter(|c| Instant::now() < c.refresh_at) {
            return Ok(c.token.clone());
        }
        // Another node may have fetched one already.
        if let Some(shared) = self
            .shared
            .as_ref()
            .filter(|_| slot.is_some() || !self.ask_provider_first)
            && let Some(t) = shared.load().await
            && let Some(fresh_for) = t.fresh_for()
        {
            *slot = Some(Cached {
                token: t.token.clone(),
                refresh_at: Instant::now() + fresh_for,
            });
            return Ok(t.token);
        }
        let req = match &self.credentials {
            Credentials::OfficialAccount { app_id, secret } => self
                .http
                .get(format!("{}/cgi-bin/token", self.base))
                .query(&[
                    ("grant_type", "client_credential"),
                    ("appid", app_id.as_str()),
                    ("secret", secret.expose_secret()),
                ]),
            Credentials::WeCom { corp_id, secret } => self
                .http
                .get(format!("{}/cgi-bin/gettoken", self.base))
                .query(&[
                    ("corpid", corp_id.as_str()),
                    ("corpsecret", secret.expose_secret()),
                ]),
        };
        let body = match send(req).await? {
            Reply::Ok(body) => body,
            Reply::Err { code, message } => return Err(classify_token_error(code, &message)),
        };
        let token = body
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| SendError::retryable("token response without access_token"))?
            .to_owned();
        let expires_in = body
            .get("expires_in")
            .and_then(Value::as_u64)
            .unwrap_or(7200);
        tracing::debug!(expires_in, "Fetched a WeChat access token.");
        let fresh_for = refresh_after(expires_in);
        *slot = Some(Cached {
            token: token.clone(),
            refresh_at: Instant::now() + fresh_for,
        });
        if let Some(shared) = &self.shared {
            shared
                .store(&SharedToken {
                    token: token.clone(),
                    refresh_at: unix_now() + fresh_for.as_secs(),
                })
                .await;
        }
        Ok(token)
    }

    /// Forgets `stale` unless another caller already replaced it.
    async fn invalidate(&self, stale: &str) {
        let mut slot = self.token.lock().await;
        if slot.as_ref().is_some_and(|c| c.token == stale) {
            *slot = None;
        }
        if let Some(shared) = &self.shared {
            shared.forget(stale).await;
        }
    }

    /// `POST {base}{path}?access_token=...` with a JSON body; refreshes the token and retries
    /// once when the provider rejects it.
    pub(crate) async fn post(&self, path: &str, body: &Value) -> Result<Value, SendError> {
        let url = format!("{}{path}", self.base);
        self.call(|token| {
            self.http
                .post(&url)
                .query(&[("access_token", token)])
                .json(body)
        })
        .await
    }

    /// Uploads temporary material: `POST {base}/cgi-bin/media/upload?access_token=&type=`
    /// with the file as multipart field `media`. Returns the `media_id`. Errors are classified
    /// like sends; size and type refusals are permanent.
    pub(crate) async fn upload(
        &self,
        media_type: &str,
        file_name: &str,
        mime: &str,
        data: &Bytes,
    ) -> Result<String, SendError> {
        let url = format!("{}/cgi-bin/media/upload", self.base);
        let resp = self
            .call(|token| {
                // A form is consumed by the request, so each attempt builds its own; cloning
                // `Bytes` does not copy the file.
                let part = || {
                    Part::stream_with_length(data.clone(), data.len() as u64)
                        .file_name(file_name.to_owned())
                };
                let part = part().mime_str(mime).unwrap_or_else(|_| part());
                self.http
                    .post(&url)
                    .query(&[("access_token", token), ("type", media_type)])
                    .multipart(Form::new().part("media", part))
            })
            .await?;
        resp.get("media_id")
            .and_then(Value::as_str)
            .filter(|m| !m.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| SendError::retryable("media upload answered without a media_id"))
    }

    /// Downloads media by id: `GET {base}/cgi-bin/media/get?access_token=&media_id=`. WeChat
    /// answers with the file, or with a JSON error (40007 for an unknown or expired id), or —
    /// for Official Account videos — with JSON `{"video_url": ...}` to fetch the file from.
    pub(crate) async fn download(&self, media_id: &str) -> Result<FetchedFile, SendError> {
        let url = format!("{}/cgi-bin/media/get", self.base);
        let mut retried = false;
        let resp = loop {
            let token = self.access_token().await?;
            let req = self
                .http
                .get(&url)
                .query(&[("access_token", token.as_str()), ("media_id", media_id)]);
            let resp = checked(req).await?;
            if !is_json(&resp) {
                break resp;
            }
            let body = read_limited(resp).await?;
            // A JSON answer is an error envelope, or a video's download address; a file that
            // happens to be JSON has no errcode and is returned as it is.
            let Ok(json) = serde_json::from_slice::<Value>(&body.data) else {
                return Ok(body);
            };
            let code = json.get("errcode").and_then(Value::as_i64).unwrap_or(0);
            if code != 0 {
                let message = json
                    .get("errmsg")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if TOKEN_ERRORS.contains(&code) && !retried {
                    self.invalidate(&token).await;
                    retried = true;
                    continue;
                }
                return Err(classify(code, message));
            }
            match json.get("video_url").and_then(Value::as_str) {
                Some(video) => break checked(self.http.get(video)).await?,
                None => return Ok(body),
            }
        };
        read_limited(resp).await
    }

    /// Runs the request `make` builds for a token, refreshing the token and retrying once
    /// when the provider rejects it; returns the successful JSON answer.
    async fn call(
        &self,
        make: impl Fn(&str) -> reqwest::RequestBuilder,
    ) -> Result<Value, SendError> {
        let mut retried = false;
        loop {
            let token = self.access_token().await?;
            match send(make(&token)).await? {
                Reply::Ok(v) => return Ok(v),
                Reply::Err { code, .. } if TOKEN_ERRORS.contains(&code) && !retried => {
                    tracing::debug!(code, "Access token rejected; refreshing it.");
                    self.invalidate(&token).await;
                    retried = true;
                }
                Reply::Err { code, message } => return Err(classify(code, &message)),
            }
        }
    }
}

/// The largest file [`Api::download`] reads; WeCom files are at most 20 MB.
pub(crate) const MAX_DOWNLOAD_BYTES: usize = 32 * 1024 * 1024;

fn is_json(resp: &reqwest::Response) -> bool {
    // WeChat sends its JSON errors as `application/json` or `text/plain`.
    resp.headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            let v = v.to_ascii_lowercase();
            v.starts_with("application/json") || v.starts_with("text/plain")
        })
}

/// Reads a file response, refusing more than [`MAX_DOWNLOAD_BYTES`].
async fn read_limited(mut resp: reqwest::Response) -> Result<FetchedFile, SendError> {
    let mime = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or(v).trim().to_owned())
        .filter(|v| !v.is_empty());
    let too_large = || {
        SendError::permanent(
            "attachment_too_large",
            format!(
                "The file is larger than the {} MiB Kefu downloads.",
                MAX_DOWNLOAD_BYTES >> 20
            ),
        )
    };
    if resp
        .content_length()
        .is_some_and(|n| n > MAX_DOWNLOAD_BYTES as u64)
    {
        return Err(too_large());
    }
    let mut data = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| {
        SendError::retryable(format!(
            "WeChat media download broke off: {}",
            e.without_url()
        ))
    })? {
        if data.len() + chunk.len() > MAX_DOWNLOAD_BYTES {
            return Err(too_large());
        }
        data.extend_from_slice(&chunk);
    }
    Ok(FetchedFile {
        data: Bytes::from(data),
        mime,
    })
}

enum Reply {
    Ok(Value),
    Err { code: i64, message: String },
}

/// Sends a request and classifies transport failures and HTTP errors; the response is a
/// success status.
async fn checked(req: reqwest::RequestBuilder) -> Result<reqwest::Response, SendError> {
    // `without_url`: the URL carries the access token or the secret.
    let resp = req.send().await.map_err(|e| {
        SendError::retryable(format!("WeChat API unreachable: {}", e.without_url()))
    })?;
    let status = resp.status();
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    if status == StatusCode::TOO_MANY_REQUESTS {
        return Err(SendError::RateLimited { after: retry_after });
    }
    if status.is_server_error() {
        return Err(SendError::Retryable {
            reason: format!("WeChat API answered HTTP {status}"),
            after: retry_after,
        });
    }
    if !status.is_success() {
        return Err(SendError::permanent(
            format!("http_{}", status.as_u16()),
            format!("WeChat API answered HTTP {status}"),
        ));
    }
    Ok(resp)
}

/// Sends a request and reads the `errcode` envelope.
async fn send(req: reqwest::RequestBuilder) -> Result<Reply, SendError> {
    let resp = checked(req).await?;
    let body: Value = resp.json().await.map_err(|e| {
        SendError::retryable(format!(
            "unreadable WeChat API response: {}",
            e.without_url()
        ))
    })?;
    let code = body.get("errcode").and_then(Value::as_i64).unwrap_or(0);
    if code == 0 {
        return Ok(Reply::Ok(body));
    }
    let message = body
        .get("errmsg")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    Ok(Reply::Err { code, message })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refreshes_early() {
        assert_eq!(refresh_after(7200), Duration::from_secs(6900));
        assert_eq!(refresh_after(400), Duration::from_secs(200));
        assert_eq!(refresh_after(0), Duration::ZERO);
    }
}
