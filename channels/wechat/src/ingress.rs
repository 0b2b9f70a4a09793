//! What the Official Account and WeCom callback routes share: options, rejections, the
//! timestamp window and the "store first, then acknowledge" step.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kefu_channel::{InboundEnvelope, InboundSink, IngestError};
use serde_json::json;

use crate::crypto::CryptoError;
use crate::xml::XmlError;

/// Callback bodies are a few hundred bytes; anything near this is not WeChat.
pub(crate) const BODY_LIMIT: usize = 64 * 1024;

/// Returns the current Unix time in seconds.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// Options shared by both factories.
#[derive(Clone)]
pub(crate) struct Options {
    pub(crate) http: reqwest::Client,
    pub(crate) clock: Clock,
    pub(crate) max_skew: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            http: crate::api::default_http_client(),
            clock: Arc::new(|| {
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
                    .unwrap_or(0)
            }),
            max_skew: Duration::from_secs(300),
        }
    }
}

/// A refused callback: status plus the API's `{code, detail}` body.
#[derive(Debug)]
pub(crate) struct Reject {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) detail: String,
}

impl Reject {
    pub(crate) fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
        }
    }

    pub(crate) fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    pub(crate) fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "inbox not found")
    }

    pub(crate) fn bad_signature() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "bad_signature",
            "the signature does not match the inbox token",
        )
    }

    pub(crate) fn misconfigured() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "inbox_misconfigured",
            "the inbox settings are invalid",
        )
    }
}

impl From<XmlError> for Reject {
    fn from(e: XmlError) -> Self {
        Self::bad_request("malformed_body", e.to_string())
    }
}

impl From<CryptoError> for Reject {
    fn from(e: CryptoError) -> Self {
        match e {
            CryptoError::BadSignature => Self::bad_signature(),
            CryptoError::ReceiverMismatch => Self::new(
                StatusCode::FORBIDDEN,
                "wrong_account",
                "the message is encrypted for another account",
            ),
            CryptoError::InvalidKey => Self::misconfigured(),
            CryptoError::Base64 | CryptoError::Malformed(_) => {
                Self::bad_request("malformed_ciphertext", e.to_string())
            }
        }
    }
}

impl IntoResponse for Reject {
    fn into_response(self) -> Response {
        let body = Json(json!({ "code": self.code, "detail": self.detail }));
        (self.status, body).into_response()
    }
}

/// The inbox id from the path; anything but a number is an unknown inbox.
pub(crate) fn inbox_id(raw: &str) -> Result<i64, Reject> {
    raw.parse().map_err(|_| Reject::not_found())
}

/// A required query parameter.
pub(crate) fn param<'a>(v: &'a Option<String>, name: &'static str) -> Result<&'a str, Reject> {
    v.as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Reject::bad_request("missing_parameter", format!("{name} is required")))
}

/// Refuses timestamps outside `±max_skew` of now, which bounds how long a captured callback
/// can be replayed.
pub(crate) fn check_fresh(opts: &Options, timestamp: &str) -> Result<(), Reject> {
    let ts: i64 = timestamp
        .parse()
        .map_err(|_| Reject::bad_request("invalid_timestamp", "timestamp must be an integer"))?;
    let skew = i64::try_from(opts.max_skew.as_secs()).unwrap_or(i64::MAX);
    if (opts.clock)().abs_diff(ts) > skew.unsigned_abs() {
        return Err(Reject::new(
            StatusCode::UNAUTHORIZED,
            "stale_timestamp",
            "the timestamp is outside the accepted window",
        ));
    }
    Ok(())
}

/// Hands an envelope to Kefu and answers WeChat only once it is stored: `success` stops the
/// provider's retries, 503 asks for them.
pub(crate) async fn store(
    sink: &dyn InboundSink,
    envelope: InboundEnvelope,
) -> Result<Response, Reject> {
    match sink.accept(envelope).await {
        Ok(a) => {
            tracing::debug!(
                message = a.message_id,
                duplicate = a.duplicate,
                "Stored a WeChat callback."
            );
            Ok(success())
        }
        Err(IngestError::Unavailable(reason)) => {
            tracing::warn!(%reason, "Storage unavailable; WeChat will retry the callback.");
            Err(Reject::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "storage_unavailable",
                "the message could not be stored; retry later",
            ))
        }
        Err(IngestError::Rejected(reason)) => {
            // Retrying the same callback cannot succeed; acknowledge so WeChat stops.
            tracing::warn!(%reason, "Kefu rejected a WeChat callback; acknowledging it anyway.");
            Ok(success())
        }
    }
}

/// The literal `success` WeChat expects when no passive reply follows.
pub(crate) fn success() -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; charset=utf-8",
        )],
        "success",
    )
        .into_response()
}
