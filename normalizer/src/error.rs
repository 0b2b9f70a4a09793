//! Errors of the conversation store.

use sea_orm::DbErr;

use crate::status::IllegalTransition;

/// Why a store operation failed. The gateway maps each variant to an HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The named thing does not exist (404).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The input is unacceptable; the message says which field and why (422).
    #[error("{0}")]
    Invalid(String),
    /// The request conflicts with the current state (409).
    #[error(transparent)]
    IllegalTransition(#[from] IllegalTransition),
    /// The request conflicts with existing data, e.g. a duplicate email (409).
    #[error("{0}")]
    Conflict(String),
    /// The database is unreachable or failed (503/500).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Any other database error.
    #[error("database error: {0}")]
    Db(#[from] DbErr),
}

impl StoreError {
    /// `true` when the database refused a write because of a unique index, which a concurrent
    /// writer won: retrying the whole transaction finds the winner's row.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, Self::Db(e) if is_unique_violation(e))
    }
}

impl StoreError {
    /// `true` when retrying the whole transaction can succeed: a unique index won by a
    /// concurrent writer, or PostgreSQL aborting this transaction to break a deadlock
    /// (`40P01`) or a serialization conflict (`40001`) with writers on other nodes.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Db(e) => {
                is_unique_violation(e) || matches!(sqlstate(e).as_deref(), Some("40P01" | "40001"))
            }
            _ => false,
        }
    }
}

/// The SQLSTATE code the database answered with, if the error came from it.
fn sqlstate(e: &DbErr) -> Option<String> {
    use sea_orm::RuntimeErr;
    let (DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e))) = e else {
        return None;
    };
    match &**e {
        sea_orm::sqlx::Error::Database(d) => d.code().map(|c| c.into_owned()),
        _ => None,
    }
}

pub(crate) fn is_unique_violation(e: &DbErr) -> bool {
    matches!(
        e.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}
