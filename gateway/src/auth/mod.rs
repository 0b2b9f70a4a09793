//! Authentication: argon2 password hashes (with bounded concurrency), server-side sessions,
//! hashed long-lived API tokens with scopes, login throttling ([`throttle`]), and the
//! [`Authed`] extractor with role and scope checks.
//!
//! A session token is `kefu_s_<random>`; an API token `kefu_<random>`. Both are stored as
//! SHA-256 hashes (see [`kefu_normalizer::accounts`]). Deactivated and deleted agents are
//! refused whatever they present.

pub mod throttle;

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use kefu_normalizer::Db;
use kefu_normalizer::access::Access;
use kefu_normalizer::accounts::{Agents, ApiTokens, Invites, SessionLifetimes, Sessions, Teams};
use kefu_normalizer::entity::agent;
use tokio::sync::broadcast;

use crate::config::Config;
use crate::error::ApiError;
use crate::state::AppState;

pub use throttle::LoginThrottle;

pub use kefu_normalizer::access::Role;

/// What an API token may do. Sessions may do everything their role allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// `GET` requests only.
    Read,
    /// Conversation, message, contact and attachment endpoints.
    Conversations,
    /// Everything the owner's role allows.
    Admin,
}

impl Scope {
    /// Every scope, in their documented order.
    pub const ALL: [Scope; 3] = [Scope::Read, Scope::Conversations, Scope::Admin];

    /// Parses a scope name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "read" => Some(Self::Read),
            "conversations" => Some(Self::Conversations),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }

    /// The name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Conversations => "conversations",
            Self::Admin => "admin",
        }
    }

    /// Parses a stored comma-separated list, skipping unknown names.
    pub fn parse_list(stored: &str) -> Vec<Scope> {
        stored
            .split(',')
            .filter_map(|s| Self::parse(s.trim()))
            .collect()
    }
}

/// Whether `scopes` let a request with `method` reach `path`.
pub fn scopes_allow(scopes: &[Scope], method: &Method, path: &str) -> bool {
    if scopes.contains(&Scope::Admin) {
        return true;
    }
    if scopes.contains(&Scope::Read) && (method == Method::GET || method == Method::HEAD) {
        return true;
    }
    const CONVERSATIONS: [&str; 4] = [
        "/api/v1/conversations",
        "/api/v1/contacts",
        "/api/v1/messages",
        "/api/v1/attachments",
    ];
    scopes.contains(&Scope::Conversations)
        && CONVERSATIONS.iter().any(|p| {
            path.strip_prefix(p)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
}

/// Hashes a password with argon2id (default parameters) in a blocking thread; see
/// [`kefu_normalizer::accounts::hash_password`].
pub async fn hash_password(password: String) -> Result<String, ApiError> {
    Ok(kefu_normalizer::accounts::hash_password(password).await?)
}

/// Checks a password against a stored hash in a blocking thread. An agent invited but without
/// a password yet has an empty hash, which nothing matches.
pub async fn verify_password(password: String, hash: String) -> bool {
    kefu_normalizer::accounts::verify_password(password, hash).await
}

/// The account stores and login protections, shared by every handler.
#[derive(Debug, Clone)]
pub struct Accounts {
    /// Console sessions.
    pub sessions: Sessions,
    /// Invite links.
    pub invites: Invites,
    /// API tokens.
    pub tokens: ApiTokens,
    /// Agents: administration, profile, presence.
    pub agents: Agents,
    /// Teams.
    pub teams: Teams,
    /// Inbox membership: who may see which conversations.
    pub access: Access,
    /// Failed-login backoff.
    pub throttle: Arc<LoginThrottle>,
    /// Agent ids whose sessions or access just changed on this node: their open sockets check
    /// their token and what they may see again.
    pub changed: broadcast::Sender<i64>,
}

impl Accounts {
    /// Stores over `db` with the session lifetimes of `config`.
    pub fn new(db: &Db, config: &Config) -> Self {
        // Capped at a century, so adding it to a date cannot overflow.
        let hours =
            |h: u64| chrono::TimeDelta::hours(i64::try_from(h.min(876_000)).unwrap_or(876_000));
        Self {
            sessions: Sessions::new(
                db.clone(),
                SessionLifetimes {
                    idle: hours(config.session_ttl_hours),
                    max: hours(config.session_max_hours),
                },
            ),
            invites: Invites::new(db.clone()),
            tokens: ApiTokens::new(db.clone()),
            agents: Agents::new(db.clone()),
            teams: Teams::new(db.clone()),
            access: Access::new(db.clone()),
            throttle: Arc::new(LoginThrottle::new(
                kefu_normalizer::accounts::LoginFailures::new(db.clone()),
            )),
            changed: broadcast::channel(64).0,
        }
    }

    /// Ends the sessions of `agent_id` (all, or all but `keep`) and tells its sockets.
    pub async fn end_sessions(&self, agent_id: i64, keep: Option<i64>) -> Result<(), ApiError> {
        self.sessions.revoke_agent(agent_id, keep).await?;
        let _ = self.changed.send(agent_id);
        Ok(())
    }
}

/// Sets a new password for the agent with `email` (a generated one when `password` is `None`)
/// and ends all their sessions: `kefu admin reset-password`. Returns the password set.
pub async fn reset_password(
    db: &Db,
    email: &str,
    password: Option<String>,
) -> Result<String, ApiError> {
    let password = password.unwrap_or_else(|| kefu_normalizer::token::random(16));
    kefu_normalizer::accounts::check_password(&password, "password")?;
    let agents = Agents::new(db.clone());
    let agent = agents
        .by_email(email)
        .await?
        .ok_or_else(|| ApiError::not_found("agent"))?;
    let hash = hash_password(password.clone()).await?;
    agents.set_password_hash(agent.id, hash).await?;
    // Lifetimes do not matter for revoking.
    let lifetimes = SessionLifetimes {
        idle: chrono::TimeDelta::zero(),
        max: chrono::TimeDelta::zero(),
    };
    Sessions::new(db.clone(), lifetimes)
        .revoke_agent(agent.id, None)
        .await?;
    Ok(password)
}

/// The agent behind a request's bearer token.
#[derive(Debug, Clone)]
pub struct Authed {
    /// The authenticated agent.
    pub agent: agent::Model,
    /// Their role.
    pub role: Role,
    /// The session, when signed in with a session token.
    pub session_id: Option<i64>,
    /// The API token, when using one.
    pub token_id: Option<i64>,
    /// What the credential may do (all scopes for a session).
    pub scopes: Vec<Scope>,
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

/// Resolves a bearer token (session or API token) to its active agent.
pub async fn authenticate(state: &AppState, token: &str) -> Result<Authed, ApiError> {
    let invalid = || ApiError::unauthorized("the token is invalid or expired; log in again");
    let accounts = &state.accounts;
    let (agent_id, session_id, token_id, scopes) = if token.starts_with("kefu_s_") {
        let s = accounts.sessions.verify(token).await?.ok_or_else(invalid)?;
        (s.agent_id, Some(s.id), None, Scope::ALL.to_vec())
    } else {
        let t = accounts.tokens.verify(token).await?.ok_or_else(invalid)?;
        (t.agent_id, None, Some(t.id), Scope::parse_list(&t.scopes))
    };
    let agent = accounts.agents.get(agent_id).await?.ok_or_else(invalid)?;
    if !agent.active {
        return Err(ApiError::unauthorized(
            "this account is deactivated; ask an admin",
        ));
    }
    let role = Role::parse(&agent.role).unwrap_or(Role::Agent);
    Ok(Authed {
        agent,
        role,
        session_id,
        token_id,
        scopes,
    })
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
        let authed = authenticate(state, token).await?;
        if !scopes_allow(&authed.scopes, &parts.method, parts.uri.path()) {
            let names: Vec<&str> = authed.scopes.iter().map(|s| s.as_str()).collect();
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                format!(
                    "this API token has the scopes [{}], which do not allow {} {}",
                    names.join(", "),
                    parts.method,
                    parts.uri.path()
                ),
            ));
        }
        Ok(authed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_map_to_requests() {
        let cases = [
            (&[Scope::Read][..], Method::GET, "/api/v1/agents", true),
            (
                &[Scope::Read][..],
                Method::POST,
                "/api/v1/conversations/1/messages",
                false,
            ),
            (
                &[Scope::Conversations][..],
                Method::POST,
                "/api/v1/conversations/1/messages",
                true,
            ),
            (
                &[Scope::Conversations][..],
                Method::GET,
                "/api/v1/contacts/3",
                true,
            ),
            (
                &[Scope::Conversations][..],
                Method::GET,
                "/api/v1/agents",
                false,
            ),
            (
                &[Scope::Conversations][..],
                Method::GET,
                "/api/v1/conversationsx",
                false,
            ),
            (
                &[Scope::Admin][..],
                Method::DELETE,
                "/api/v1/agents/2",
                true,
            ),
            (&[][..], Method::GET, "/api/v1/agents", false),
        ];
        for (scopes, method, path, allowed) in cases {
            assert_eq!(
                scopes_allow(scopes, &method, path),
                allowed,
                "{scopes:?} {method} {path}"
            );
        }
    }
}
