//! Accounts: who may sign in and how. Server-side [`Sessions`] (with a short in-process cache,
//! because every request verifies one), one-time [`Invites`], long-lived [`ApiTokens`] and
//! the per-agent reads and writes behind the profile and agent administration
//! ([`AgentAccounts`]), and [`Teams`].
//!
//! Secrets (session tokens, invite tokens, API tokens) are random and stored only as their
//! SHA-256, so a database dump signs nobody in.

mod agents;
mod invites;
mod sessions;
mod teams;
mod tokens;

use sha2::{Digest, Sha256};

pub use agents::{AgentAccounts, AgentFlags};
pub use invites::{InviteLookup, Invites};
pub use sessions::{SessionLifetimes, Sessions};
pub use teams::{TeamRecord, Teams};
pub use tokens::{ApiTokens, NewApiToken};

/// SHA-256 (hex) of a secret token, as stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A fresh random secret: `prefix` and 43 alphanumeric characters (over 250 bits).
pub fn new_secret(prefix: &str) -> String {
    format!("{prefix}{}", crate::token::random(43))
}
