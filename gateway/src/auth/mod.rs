//! Authentication: argon2 password hashes, signed session tokens from login, hashed long-lived
//! API tokens, and the [`Authed`] extractor with role checks.
//!
//! A session token is `kefu_s_<agent_id>.<expires>.<pwtag>.<sig>`: `pwtag` is derived from the
//! password hash, so changing a password ends every session; `sig` is an HMAC under a key
//! derived from `secret_key`. API tokens are random (`kefu_...`) and stored as SHA-256 hashes.

use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chrono::Utc;
use kefu_normalizer::entity::{agent, api_token};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use sha2::{Digest, Sha256};

use crate::crypto::Keys;
use crate::error::ApiError;
use crate::state::AppState;

/// An agent's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Answers conversations.
    Agent,
    /// Also assigns, transfers and sees everyone's conversations.
    Supervisor,
    /// Also manages agents, inboxes and settings.
    Admin,
}

impl Role {
    /// Parses a stored or submitted role name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "agent" => Some(Self::Agent),
            "supervisor" => Some(Self::Supervisor),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Agent => "agent",
            Self::Supervisor => "supervisor",
            Self::Admin => "admin",
        }
    }
}

/// Hashes a password with argon2id (default parameters) in a blocking thread.
pub async fn hash_password(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)
}

/// Checks a password against a stored hash in a blocking thread.
pub async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).is_ok_and(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
    })
    .await
    .unwrap_or(false)
}

fn pw_tag(password_hash: &str) -> String {
    hex::encode(&Sha256::digest(password_hash.as_bytes())[..6])
}

/// Issues a session token for `agent`, valid for `ttl_hours`.
pub fn issue_session(keys: &Keys, agent: &agent::Model, ttl_hours: u64) -> String {
    let expires = Utc::now().timestamp() + (ttl_hours as i64) * 3600;
    let payload = format!("{}.{}.{}", agent.id, expires, pw_tag(&agent.password_hash));
    format!("kefu_s_{payload}.{}", keys.sign(&payload))
}

/// SHA-256 of an API token, as stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The agent behind a request's bearer token.
#[derive(Debug, Clone)]
pub struct Authed {
    /// The authenticated agent.
    pub agent: agent::Model,
    /// Their role.
    pub role: Role,
}

impl Authed {
    /// Fails with 403 unless the agent has at least `role`.
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.role >= role {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this needs the {} role",
                role.as_str()
            )))
        }
    }

    /// Fails with 403 unless the agent is `id` or has at least `role`.
    pub fn require_self_or(&self, id: i64, role: Role) -> Result<(), ApiError> {
        if self.agent.id == id {
            Ok(())
        } else {
            self.require(role)
        }
    }
}

/// Resolves a bearer token (session or API token) to its agent.
pub async fn authenticate(state: &AppState, token: &str) -> Result<Authed, ApiError> {
    let invalid = || ApiError::unauthorized("the token is invalid or expired; log in again");
    let agent = if let Some(rest) = token.strip_prefix("kefu_s_") {
        let (payload, sig) = rest.rsplit_once('.').ok_or_else(invalid)?;
        if !state.keys.verify(payload, sig) {
            return Err(invalid());
        }
        let mut parts = payload.splitn(3, '.');
        let id: i64 = parts
            .next()
            .and_then(|p| p.parse().ok())
            .ok_or_else(invalid)?;
        let expires: i64 = parts
            .next()
            .and_then(|p| p.parse().ok())
            .ok_or_else(invalid)?;
        let tag = parts.next().ok_or_else(invalid)?;
        if expires < Utc::now().timestamp() {
            return Err(invalid());
        }
        let agent = find_agent(state, id).await?.ok_or_else(invalid)?;
        if pw_tag(&agent.password_hash) != tag {
            return Err(invalid());
        }
        agent
    } else {
        let row = api_token::Entity::find()
            .filter(api_token::Column::TokenHash.eq(token_hash(token)))
            .one(state.db.conn())
            .await?
            .ok_or_else(invalid)?;
        find_agent(state, row.agent_id).await?.ok_or_else(invalid)?
    };
    let role = Role::parse(&agent.role).unwrap_or(Role::Agent);
    Ok(Authed { agent, role })
}

async fn find_agent(state: &AppState, id: i64) -> Result<Option<agent::Model>, ApiError> {
    Ok(agent::Entity::find_by_id(id)
        .filter(agent::Column::DeletedAt.is_null())
        .one(state.db.conn())
        .await?)
}

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthorized("missing Authorization: Bearer <token>"))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::unauthorized("the Authorization header must be `Bearer <token>`")
            })?;
        authenticate(state, token).await
    }
}
