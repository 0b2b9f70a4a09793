//! The SSRF-safe HTTP client of webhook attempts: no redirects, and every name resolved
//! through [`target::check_resolved`], so a name that passed the subscription check cannot be
//! re-pointed at an internal service between attempts.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::super::payload::RESPONSE_EXCERPT_BYTES;
use super::super::{WebhookHeaders, parse_retry_after, response_excerpt, target};

/// Resolves names for webhook requests and refuses private addresses after resolution, so a
/// name that passed the subscription check cannot be re-pointed at an internal service.
struct CheckedResolver {
    allow_private: bool,
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let addrs = target::check_resolved(&host, addrs, allow_private)?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// What an endpoint answered, or why it did not.
pub(super) struct Response {
    /// The HTTP status, when there was an answer.
    pub(super) status: Option<u16>,
    /// The start of the body, for the delivery log.
    pub(super) excerpt: Option<String>,
    /// The transport error, or why no request was made.
    pub(super) error: Option<String>,
    /// The receiver's `Retry-After`.
    pub(super) retry_after: Option<Duration>,
}

impl Response {
    /// No request was made, for this reason.
    pub(super) fn not_sent(error: String) -> Self {
        Self {
            status: None,
            excerpt: None,
            error: Some(error),
            retry_after: None,
        }
    }
}

/// Posts signed webhook bodies.
pub(super) struct Client {
    http: reqwest::Client,
}

impl Client {
    /// A client with time limit `timeout` per request; private and loopback targets only
    /// with `allow_private`.
    pub(super) fn new(timeout: Duration, allow_private: bool) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("Kefu-Webhooks/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(CheckedResolver { allow_private }))
            .build()
            .map_err(|e| format!("cannot build the webhook HTTP client: {e}"))?;
        Ok(Self { http })
    }

    /// Posts `body` with `headers` to `url`; reads at most the excerpt's worth of the answer.
    pub(super) async fn post(&self, url: &str, headers: &WebhookHeaders, body: String) -> Response {
        let mut req = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        for (k, v) in headers.pairs() {
            req = req.header(k, v);
        }
        match req.send().await {
            Ok(mut resp) => {
                let status = resp.status().as_u16();
                let retry_after = resp
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| parse_retry_after(v, Utc::now()));
                let mut buf = Vec::new();
                while buf.len() < RESPONSE_EXCERPT_BYTES {
                    match resp.chunk().await {
                        Ok(Some(c)) => buf.extend_from_slice(&c),
                        _ => break,
                    }
                }
                Response {
                    status: Some(status),
                    excerpt: (!buf.is_empty()).then(|| response_excerpt(&buf)),
                    error: None,
                    retry_after,
                }
            }
            Err(e) => Response {
                status: None,
                excerpt: None,
                error: Some(describe(&e)),
                retry_after: None,
            },
        }
    }
}

/// A transport error in words, including the cause chain (which carries the refused address).
fn describe(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() {
        "the endpoint did not answer in time".to_owned()
    } else if e.is_connect() {
        "cannot connect to the endpoint".to_owned()
    } else {
        "the request failed".to_owned()
    };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
