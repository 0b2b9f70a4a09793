//! Errors crossing the channel seam.

use std::time::Duration;

/// Why a reply could not be sent, and whether retrying can help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// A transient failure (timeout, 5xx, provider busy, expired access token): retry with
    /// backoff, no earlier than `after` when the provider said so.
    #[error("temporary failure: {reason}")]
    Retryable {
        /// What went wrong, for the delivery log.
        reason: String,
        /// The provider's `Retry-After`, when it gave one.
        after: Option<Duration>,
    },
    /// The provider refused because of its rate limit: retry after `after` (or a backoff).
    #[error("rate limited by the provider")]
    RateLimited {
        /// The provider's `Retry-After`, when it gave one.
        after: Option<Duration>,
    },
    /// Kefu's own pacing, not the provider, holds the reply back (a push device's limit in
    /// Kefu): send it again after `after`. Pacing is not failure: the dispatcher waits without
    /// spending an attempt.
    #[error("waiting for Kefu's own pacing: {reason}")]
    Paced {
        /// What is being waited for, for the delivery log.
        reason: String,
        /// When a send may go through.
        after: Duration,
    },
    /// Retrying cannot help (invalid recipient, reply window closed, content refused).
    #[error("permanent failure: {reason}")]
    Permanent {
        /// A machine-readable code, e.g. `reply_window_closed` or the provider's error code.
        code: String,
        /// A sentence an agent can act on.
        reason: String,
    },
}

impl SendError {
    /// Whether the dispatcher should try again.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, Self::Permanent { .. })
    }

    /// A transient failure without a provider hint.
    pub fn retryable(reason: impl Into<String>) -> Self {
        Self::Retryable {
            reason: reason.into(),
            after: None,
        }
    }

    /// A permanent failure.
    pub fn permanent(code: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Permanent {
            code: code.into(),
            reason: reason.into(),
        }
    }
}

/// Kefu could not take an inbound envelope. The adapter must not acknowledge the provider, so
/// that the provider retries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IngestError {
    /// The envelope itself is unacceptable (unknown inbox, empty sender...). Retrying the same
    /// envelope will fail again.
    #[error("rejected: {0}")]
    Rejected(String),
    /// Storage is unavailable or overloaded; the provider should retry later.
    #[error("unavailable: {0}")]
    Unavailable(String),
}

/// A channel failed to start or run.
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    /// The inbox's settings are invalid; the message says which field and why.
    #[error("invalid settings: {0}")]
    InvalidSettings(String),
    /// The channel stopped because of an error it could not recover from.
    #[error("{0}")]
    Fatal(String),
}
