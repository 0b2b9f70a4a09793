//! The app API's error answer: `{"code": "snake_case", "detail": "sentence"}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kefu_channel::IngestError;
use serde_json::json;

/// Why a call to the app API failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) detail: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
        }
    }

    /// A field is present but wrong.
    pub(crate) fn invalid(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail)
    }

    pub(crate) fn unknown_inbox(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("there is no app inbox with id {id:?}"),
        )
    }

    pub(crate) fn bad_user_hash() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_user_hash",
            "user_hash does not match external_id; compute it on your server as hex(HMAC-SHA256(app_secret, external_id)).",
        )
    }

    pub(crate) fn storage(e: IngestError) -> Self {
        match e {
            IngestError::Rejected(r) => Self::invalid("message_rejected", r),
            IngestError::Unavailable(r) => {
                tracing::warn!(error = %r, "App API: storage unavailable.");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "Kefu cannot store this right now; retry later with the same request",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({"code": self.code, "detail": self.detail})),
        )
            .into_response()
    }
}
