//! Long-lived API tokens: created by an agent, acting as them within their `scopes`, with an
//! optional expiry; revocable by their owner and by admins.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use kefu_normalizer::accounts::NewApiToken;
use kefu_normalizer::entity::api_token;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Authed, Role, Scope};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

/// A new API token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// What the token is for, e.g. "CRM sync".
    pub name: String,
    /// When it stops working; never when absent.
    pub expires_at: Option<DateTime<Utc>>,
    /// A subset of `read` (GET requests), `conversations` (conversation, message, contact and
    /// attachment endpoints) and `admin` (everything the owner's role allows); all three when
    /// absent.
    pub scopes: Option<Vec<String>>,
}

/// An API token; `token` is present only in the creation response.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    /// Token id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// The agent it acts as.
    pub agent_id: i64,
    /// The secret token, shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last used (to the minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it stops working; `null` never.
    pub expires_at: Option<DateTime<Utc>>,
    /// What it may do.
    pub scopes: Vec<String>,
}

/// A list of tokens.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    /// Tokens, oldest first.
    pub items: Vec<TokenView>,
    /// Always `null`: the list is complete.
    pub next_cursor: Option<String>,
}

/// Which tokens to list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct TokenQuery {
    /// Admins: everyone's tokens instead of their own.
    pub all: Option<bool>,
}

fn view(r: api_token::Model, token: Option<String>) -> TokenView {
    TokenView {
        id: r.id,
        name: r.name,
        agent_id: r.agent_id,
        token,
        created_at: r.created_at,
        last_used_at: r.last_used_at,
        expires_at: r.expires_at,
        scopes: Scope::parse_list(&r.scopes)
            .into_iter()
            .map(|s| s.as_str().to_owned())
            .collect(),
    }
}

fn check_scopes(given: Option<Vec<String>>) -> Result<Vec<String>, ApiError> {
    let Some(given) = given else {
        return Ok(Scope::ALL.iter().map(|s| s.as_str().to_owned()).collect());
    };
    if given.is_empty() {
        return Err(ApiError::invalid(
            "scopes must name at least one of read, conversations, admin",
        )
        .with_field("scopes"));
    }
    let mut scopes = Vec::new();
    for (i, s) in given.iter().enumerate() {
        let scope = Scope::parse(s).ok_or_else(|| {
            ApiError::invalid(format!(
                "scope {s:?} is unknown; use read, conversations or admin"
            ))
            .with_field(format!("scopes[{i}]"))
        })?;
        scopes.push(scope);
    }
    scopes.sort_unstable();
    scopes.dedup();
    Ok(scopes.iter().map(|s| s.as_str().to_owned()).collect())
}

/// Creates an API token acting as the calling agent. The token is shown once.
#[utoipa::path(post, path = "/api/v1/api-tokens", tag = "auth", request_body = NewToken,
    responses((status = 201, body = TokenView), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn create(
    State(st): State<AppState>,
    me: Authed,
    ApiJson(req): ApiJson<NewToken>,
) -> ApiResult<(StatusCode, Json<TokenView>)> {
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::invalid("name must be 1 to 100 characters").with_field("name"));
    }
    if req.expires_at.is_some_and(|e| e <= Utc::now()) {
        return Err(ApiError::invalid("expires_at must be in the future").with_field("expires_at"));
    }
    let scopes = check_scopes(req.scopes)?;
    let (token, row) = st
        .accounts
        .tokens
        .create(NewApiToken {
            agent_id: me.agent.id,
            name: name.to_owned(),
            expires_at: req.expires_at,
            scopes,
        })
        .await?;
    Ok((StatusCode::CREATED, Json(view(row, Some(token)))))
}

/// Lists the calling agent's API tokens (without their secrets); admins may ask for
/// everyone's with `?all=true`.
#[utoipa::path(get, path = "/api/v1/api-tokens", tag = "auth", params(TokenQuery),
    responses((status = 200, body = TokenList), (status = 403, body = ErrorBody)), security(("bearer" = [])))]
pub async fn list(
    State(st): State<AppState>,
    me: Authed,
    ApiQuery(q): ApiQuery<TokenQuery>,
) -> ApiResult<Json<TokenList>> {
    let owner = if q.all.unwrap_or(false) {
        me.require(Role::Admin)?;
        None
    } else {
        Some(me.agent.id)
    };
    let items = st
        .accounts
        .tokens
        .list(owner)
        .await?
        .into_iter()
        .map(|r| view(r, None))
        .collect();
    Ok(Json(TokenList {
        items,
        next_cursor: None,
    }))
}

/// Revokes an API token: the caller's own, or anyone's for an admin.
#[utoipa::path(delete, path = "/api/v1/api-tokens/{id}", tag = "auth",
    params(("id" = i64, Path, description = "Token id")),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn delete(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    let row = st
        .accounts
        .tokens
        .get(id)
        .await?
        .filter(|r| r.agent_id == me.agent.id || me.role >= Role::Admin)
        .ok_or_else(|| ApiError::not_found("api token"))?;
    st.accounts.tokens.delete(row.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
