//! Why the IMAP side of a channel stopped; the loop logs it and reconnects.

/// An IMAP session failure.
#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    /// The TCP connection could not be made.
    #[error("cannot connect to {0}: {1}")]
    Connect(String, std::io::Error),
    /// The TLS handshake or configuration failed.
    #[error("TLS: {0}")]
    Tls(String),
    /// The server refused the login.
    #[error("login refused: {0}")]
    Login(String),
    /// The mailbox could not be selected.
    #[error("mailbox {0:?} cannot be selected: {1}")]
    Select(String, String),
    /// The IMAP conversation failed.
    #[error("IMAP: {0}")]
    Imap(#[from] async_imap::error::Error),
    /// Kefu could not store a message or the sync cursor; the message is fetched again later.
    #[error("Kefu could not store mail: {0}")]
    Ingest(String),
    /// The server took too long.
    #[error("timed out {0}")]
    Timeout(&'static str),
}
