//! Accounts: who may sign in and how. Server-side [`Sessions`] (with a short in-process cache,
//! because every request verifies one), one-time [`Invites`], long-lived [`ApiTokens`],
//! [`Agents`] (the one owner of agent rows: administration, profile, presence, the first
//! admin) and [`Teams`].
//!
//! Validation lives here, each refusal an [`AccountError`] naming its field; so does password
//! hashing ([`hash_password`], argon2id). Secrets (session tokens, invite tokens, API tokens)
//! are random and stored only as their SHA-256, so a database dump signs nobody in.

mod agent_input;
mod agent_writes;
mod agents;
mod error;
mod invites;
pub mod login_failures;
mod password;
mod sessions;
mod teams;
mod tokens;

use sha2::{Digest, Sha256};

pub use agent_input::{
    AgentPatch, NewAgent, ROLES, check_email, check_max, check_name, check_role, check_skills,
};
pub use agent_writes::GeneratedAdmin;
pub use agents::{AgentFlags, Agents};
pub use error::AccountError;
pub use invites::{InviteLookup, Invites};
pub use login_failures::LoginFailures;
pub use password::{check_password, hash_password, pretend_verify, verify_password};
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

#[cfg(test)]
mod agent_tests;
