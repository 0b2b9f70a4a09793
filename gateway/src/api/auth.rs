//! `POST /api/v1/auth/login` (throttled) and `POST /api/v1/auth/logout`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use axum::Json;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::agents::{AgentView, agent_view};
use crate::auth::{self, Authed};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiJson;
use crate::state::AppState;

/// Login credentials.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The agent's email.
    pub email: String,
    /// The agent's password.
    pub password: String,
}

/// A session.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Bearer token for `Authorization: Bearer <token>`.
    pub token: String,
    /// The logged-in agent.
    pub agent: AgentView,
}

/// The client's address for login throttling: the connection's peer, or, when the peer is a
/// loopback or private address (a reverse proxy such as the one in `compose.yaml`), the
/// nearest address in `X-Forwarded-For` that is not: like Rails' `remote_ip`, proxies on
/// private networks are trusted to append the address they saw. The unspecified address when
/// the server was started without connection info.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join(",");
        Ok(Self(client_addr(peer, &forwarded)))
    }
}

fn trusted_proxy(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| trusted_proxy(IpAddr::V4(v4)))
        }
    }
}

/// Walks `X-Forwarded-For` from the nearest hop outwards while the hops are trusted proxies.
fn client_addr(peer: IpAddr, forwarded: &str) -> IpAddr {
    let mut client = peer;
    for hop in forwarded.rsplit(',') {
        if !trusted_proxy(client) {
            break;
        }
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) => client = ip,
            Err(_) => break,
        }
    }
    client
}

/// A login refused before or after checking the password.
#[derive(Debug)]
pub enum LoginError {
    /// Any API error.
    Api(ApiError),
    /// Too many attempts: 429 with `Retry-After`.
    Throttled(Duration),
}

impl From<ApiError> for LoginError {
    fn from(e: ApiError) -> Self {
        Self::Api(e)
    }
}

impl IntoResponse for LoginError {
    fn into_response(self) -> Response {
        match self {
            Self::Api(e) => e.into_response(),
            Self::Throttled(wait) => {
                let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                let secs = secs.max(1);
                let body = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too_many_attempts",
                    format!("too many sign-in attempts; try again in {secs} seconds"),
                );
                let mut resp = body.into_response();
                if let Ok(v) = header::HeaderValue::from_str(&secs.to_string()) {
                    resp.headers_mut().insert(header::RETRY_AFTER, v);
                }
                resp
            }
        }
    }
}

/// Logs in with email and password. Repeated failures for an account or from an address
/// answer 429 `too_many_attempts` with `Retry-After`, the wait doubling with each failure.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn login(
    State(st): State<AppState>,
    ClientAddr(addr): ClientAddr,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Json<LoginResponse>, LoginError> {
    let wrong = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "wrong email or password",
        )
    };
    let throttle = &st.accounts.throttle;
    throttle
        .admit(&req.email, addr)
        .await
        .map_err(LoginError::Throttled)?;
    let found = st
        .accounts
        .agents
        .by_email(&req.email)
        .await
        .map_err(ApiError::from)?;
    let Some(agent) = found else {
        // As long as a real check takes, so response times do not reveal which emails exist,
        // but without hashing: guessed emails cannot queue ahead of real users' checks.
        kefu_normalizer::accounts::pretend_verify(req.password, DUMMY_HASH.to_owned()).await;
        throttle.failed(&req.email, addr).await;
        return Err(wrong().into());
    };
    if !auth::verify_password(req.password, agent.password_hash.clone()).await {
        throttle.failed(&req.email, addr).await;
        return Err(wrong().into());
    }
    throttle.succeeded(&req.email).await;
    if !agent.active {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "account_deactivated",
            "this account is deactivated; ask an admin to reactivate it",
        )
        .into());
    }
    let (token, _) = st
        .accounts
        .sessions
        .create(agent.id)
        .await
        .map_err(ApiError::from)?;
    Ok(Json(LoginResponse {
        token,
        agent: agent_view(&st, &agent).await?,
    }))
}

const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2x4lDqJ5Yx3f3oR7m8pZ0b1CSeVq4Nqf9aQd9mK2m1E";

/// Ends the calling session: its token stops working at once.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    responses((status = 204), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn logout(State(st): State<AppState>, me: Authed) -> ApiResult<StatusCode> {
    let Some(session) = me.session_id else {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_a_session",
            "logout ends a console session; revoke an API token with DELETE /api/v1/api-tokens/{id}",
        ));
    };
    st.accounts.sessions.revoke(session).await?;
    let _ = st.accounts.changed.send(me.agent.id);
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_address_comes_from_trusted_proxies_only() {
        let ip = |s: &str| s.parse::<IpAddr>().expect("address");
        let cases = [
            ("203.0.113.9", "", "203.0.113.9"),
            ("203.0.113.9", "198.51.100.1", "203.0.113.9"),
            ("172.18.0.3", "198.51.100.1", "198.51.100.1"),
            ("127.0.0.1", "", "127.0.0.1"),
            (
                "10.0.0.2",
                "198.51.100.7, 198.51.100.1, 10.0.0.5",
                "198.51.100.1",
            ),
            ("10.0.0.2", "10.0.0.9", "10.0.0.9"),
            ("10.0.0.2", "junk", "10.0.0.2"),
        ];
        for (peer, header, want) in cases {
            assert_eq!(client_addr(ip(peer), header), ip(want), "{peer} {header}");
        }
    }

    #[test]
    fn the_dummy_hash_is_a_real_argon2_hash() {
        // Unknown emails spend the time of a real verification only if this parses.
        assert!(argon2::password_hash::PasswordHash::new(super::DUMMY_HASH).is_ok());
    }
}
