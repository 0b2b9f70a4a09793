//! The one API error type: every failure answers `{"code": "snake_case", "detail": "..."}`
//! with a fitting status. 5xx causes are logged, never sent.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kefu_normalizer::StoreError;
use kefu_normalizer::accounts::AccountError;
use kefu_normalizer::attributes::AttributeError;
use kefu_normalizer::canned::{CannedError, TemplateError};
use serde::Serialize;
use utoipa::ToSchema;

/// An error as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code.
    pub code: &'static str,
    /// A sentence for humans.
    pub detail: String,
    /// The JSON path of the one field the error is about (`channel.imap.host`,
    /// `rules[2].when.regex`), so a form can show it next to that field.
    pub field: Option<String>,
}

/// The JSON body of every error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `not_found`, `invalid_body`.
    pub code: String,
    /// What was wrong, for humans.
    pub detail: String,
    /// The JSON path of the field the error is about, when it is about one field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ApiError {
    /// An error with the given status, code and detail.
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
            field: None,
        }
    }

    /// The same error, about one field (a JSON path such as `channel.imap.host`).
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// 400 / 422: the request is malformed or a value is invalid.
    pub fn invalid(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request", detail)
    }

    /// 401.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
    }

    /// 403.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    /// 404.
    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    /// 409.
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", detail)
    }

    /// 500, logging the cause.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "Request failed.");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "an internal error occurred; see the server log",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(ErrorBody {
                code: self.code.to_owned(),
                detail: self.detail,
                field: self.field,
            }),
        )
            .into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => Self::not_found(what),
            StoreError::Invalid(d) => Self::invalid(d),
            StoreError::IllegalTransition(t) => {
                Self::new(StatusCode::CONFLICT, "illegal_transition", t.to_string())
            }
            StoreError::Conflict(d) => Self::conflict(d),
            StoreError::Unavailable(d) => {
                tracing::error!(error = %d, "Database unavailable.");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the database is unavailable; try again",
                )
            }
            e if e.is_unique_violation() => {
                Self::conflict("this conflicts with an existing record")
            }
            StoreError::Db(e) => Self::internal(e),
        }
    }
}

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> Self {
        let detail = e.to_string();
        match e {
            AccountError::Invalid { field, .. } => {
                let err = Self::invalid(detail);
                match field {
                    Some(f) => err.with_field(f),
                    None => err,
                }
            }
            AccountError::WeakPassword { field } => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "weak_password", detail)
                    .with_field(field)
            }
            AccountError::EmailTaken(_) => Self::conflict(detail).with_field("email"),
            AccountError::Hashing(_) => Self::internal(detail),
            AccountError::Store(e) => e.into(),
        }
    }
}

impl From<CannedError> for ApiError {
    fn from(e: CannedError) -> Self {
        let detail = e.to_string();
        match e {
            CannedError::Invalid { field, .. } => Self::invalid(detail).with_field(field),
            CannedError::Template(TemplateError::UnknownVariable(_)) => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "unknown_variable", detail)
                    .with_field("content")
            }
            CannedError::Template(TemplateError::Unclosed) => {
                Self::invalid(detail).with_field("content")
            }
            CannedError::Forbidden(_) => Self::forbidden(detail),
            CannedError::ShortcutTaken(_) => Self::conflict(detail).with_field("shortcut"),
            CannedError::Store(e) => e.into(),
        }
    }
}

impl From<AttributeError> for ApiError {
    fn from(e: AttributeError) -> Self {
        let detail = e.to_string();
        match e {
            AttributeError::Invalid { field, .. } => Self::invalid(detail).with_field(field),
            AttributeError::Unknown(key) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_attribute",
                detail,
            )
            .with_field(format!("attributes.{key}")),
            AttributeError::BadValue { key, .. } => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_attribute",
                detail,
            )
            .with_field(format!("attributes.{key}")),
            AttributeError::KeyTaken(_) => Self::conflict(detail).with_field("key"),
            AttributeError::Store(e) => e.into(),
        }
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(e: sea_orm::DbErr) -> Self {
        StoreError::from(e).into()
    }
}

/// The result type of handlers.
pub type ApiResult<T> = Result<T, ApiError>;
