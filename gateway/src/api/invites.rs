//! Public invite links (no token): an invited agent reads who the link is for, then sets their
//! password and is signed in. A link works once, until it expires or is replaced.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kefu_normalizer::StoreError;
use kefu_normalizer::accounts::InviteLookup;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::agents::{agent_view, check_password};
use super::auth::LoginResponse;
use crate::auth;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

/// Who an invite is for.
#[derive(Debug, Serialize, ToSchema)]
pub struct InviteView {
    /// The invited agent's login email.
    pub email: String,
    /// Their display name.
    pub name: String,
}

/// The password the invited agent chooses.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInvite {
    /// At least 8 characters.
    pub password: String,
}

fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "invite_not_found",
        "this invite link is unknown or was already used; ask an admin for a new one",
    )
}

fn expired() -> ApiError {
    ApiError::new(
        StatusCode::GONE,
        "invite_expired",
        "this invite link has expired; ask an admin for a new one",
    )
}

async fn lookup(
    st: &AppState,
    token: &str,
) -> Result<
    (
        kefu_normalizer::entity::invite::Model,
        kefu_normalizer::entity::agent::Model,
    ),
    ApiError,
> {
    match st.accounts.invites.lookup(token).await? {
        InviteLookup::Valid(found) => Ok(*found),
        InviteLookup::Expired => Err(expired()),
        InviteLookup::NotFound => Err(not_found()),
    }
}

/// Who an invite link is for.
#[utoipa::path(get, path = "/api/v1/invites/{token}", tag = "auth",
    params(("token" = String, Path, description = "The token from the invite link")),
    responses((status = 200, body = InviteView), (status = 404, body = ErrorBody), (status = 410, body = ErrorBody)))]
pub async fn get(
    State(st): State<AppState>,
    ApiPath(token): ApiPath<String>,
) -> ApiResult<Json<InviteView>> {
    let (_, agent) = lookup(&st, &token).await?;
    Ok(Json(InviteView {
        email: agent.email,
        name: agent.name,
    }))
}

/// Sets the invited agent's password and signs them in; the link stops working.
#[utoipa::path(post, path = "/api/v1/invites/{token}/accept", tag = "auth", request_body = AcceptInvite,
    params(("token" = String, Path, description = "The token from the invite link")),
    responses((status = 200, body = LoginResponse), (status = 404, body = ErrorBody),
        (status = 410, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn accept(
    State(st): State<AppState>,
    ApiPath(token): ApiPath<String>,
    ApiJson(req): ApiJson<AcceptInvite>,
) -> ApiResult<Json<LoginResponse>> {
    check_password(&req.password, "password")?;
    let (invite, agent) = lookup(&st, &token).await?;
    if !agent.active {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "account_deactivated",
            "this account is deactivated; ask an admin to reactivate it",
        ));
    }
    let hash = auth::hash_password(req.password).await?;
    let agent = match st.accounts.invites.accept(invite.id, hash).await {
        Ok(a) => a,
        Err(StoreError::NotFound(_)) => return Err(not_found()),
        Err(e) => return Err(e.into()),
    };
    // A link re-issued to an agent who had a password ends their earlier sessions.
    st.accounts.end_sessions(agent.id, None).await?;
    let (token, _) = st.accounts.sessions.create(agent.id).await?;
    Ok(Json(LoginResponse {
        token,
        agent: agent_view(&st, &agent).await?,
    }))
}
