//! Errors of the dispatcher's database operations.

use kefu_normalizer::{IllegalTransition, StoreError};
use sea_orm::DbErr;

/// Why a dispatcher operation failed. The gateway maps each variant to an HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    /// The named thing does not exist (404).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request is unacceptable; the message says why (422).
    #[error("{0}")]
    Invalid(String),
    /// The conversation is not in a state that allows this (409).
    #[error(transparent)]
    IllegalTransition(#[from] IllegalTransition),
    /// The agent already holds `max_concurrent` conversations (409).
    #[error("agent {agent_id} is at capacity ({active}/{max_concurrent} conversations)")]
    AtCapacity {
        /// The agent.
        agent_id: i64,
        /// Conversations they hold.
        active: u32,
        /// Their capacity.
        max_concurrent: u32,
    },
    /// The request conflicts with the current state or a policy (409).
    #[error("{0}")]
    Conflict(String),
    /// The request is not allowed for this caller (403).
    #[error("{0}")]
    Forbidden(String),
    /// A store operation failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<DbErr> for DispatchError {
    fn from(e: DbErr) -> Self {
        Self::Store(StoreError::from(e))
    }
}
