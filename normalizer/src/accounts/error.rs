//! Why an account operation was refused. The gateway's `ApiError` maps each variant to a
//! `{code, detail, field}` answer.

use crate::error::StoreError;

/// An account store's refusal, naming the field it is about where there is one.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// A value is unacceptable (422 `invalid_request`).
    #[error("{detail}")]
    Invalid {
        /// The JSON path of the field, when the error is about one.
        field: Option<String>,
        /// What is wrong with it.
        detail: String,
    },
    /// The password is too short or too long (422 `weak_password`).
    #[error("the password must be at least 8 characters")]
    WeakPassword {
        /// The field that carried the password.
        field: String,
    },
    /// Another agent has this email (409 `conflict`, field `email`).
    #[error("an agent with email {0} already exists")]
    EmailTaken(String),
    /// Hashing a password failed (500).
    #[error("password hashing failed: {0}")]
    Hashing(String),
    /// The store failed or refused (not found, a team that does not exist, the database).
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AccountError {
    /// An [`Invalid`](Self::Invalid) error about `field`.
    pub fn invalid(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::Invalid {
            field: Some(field.into()),
            detail: detail.into(),
        }
    }
}

impl From<sea_orm::DbErr> for AccountError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Store(e.into())
    }
}
