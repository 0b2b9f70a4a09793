//! `POST /api/v1/auth/login` and long-lived API tokens.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use kefu_normalizer::entity::{agent, api_token};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, ModelTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::agents::{AgentView, agent_view};
use crate::auth::{self, Authed};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath};
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

/// Logs in with email and password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorBody)))]
pub async fn login(
    State(st): State<AppState>,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let wrong = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "wrong email or password",
        )
    };
    let found = agent::Entity::find()
        .filter(agent::Column::Email.eq(req.email.trim().to_lowercase()))
        .filter(agent::Column::DeletedAt.is_null())
        .one(st.db.conn())
        .await?;
    let Some(agent) = found else {
        // Spend the same time as a real check, so response times do not reveal which emails exist.
        let _ = auth::verify_password(req.password, DUMMY_HASH.to_owned()).await;
        return Err(wrong());
    };
    if !auth::verify_password(req.password, agent.password_hash.clone()).await {
        return Err(wrong());
    }
    let token = auth::issue_session(&st.keys, &agent, st.config.session_ttl_hours);
    Ok(Json(LoginResponse {
        token,
        agent: agent_view(&st, &agent).await?,
    }))
}

const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2x4lDqJ5Yx3f3oR7m8pZ0b1CSeVq4Nqf9aQd9mK2m1E";

/// A new API token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// What the token is for, e.g. "CRM sync".
    pub name: String,
}

/// An API token; `token` is present only in the creation response.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    /// Token id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// The secret token, shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// A list of tokens.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    /// Tokens of the calling agent.
    pub items: Vec<TokenView>,
}

/// Creates a long-lived API token acting as the calling agent. The token is shown once.
#[utoipa::path(post, path = "/api/v1/api-tokens", tag = "auth", request_body = NewToken,
    responses((status = 201, body = TokenView), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn create_token(
    State(st): State<AppState>,
    me: Authed,
    ApiJson(req): ApiJson<NewToken>,
) -> ApiResult<(StatusCode, Json<TokenView>)> {
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::invalid("name must be 1 to 100 characters"));
    }
    let token = format!("kefu_{}", kefu_normalizer::token::random(40));
    let row = api_token::ActiveModel {
        agent_id: Set(me.agent.id),
        name: Set(name.to_owned()),
        token_hash: Set(auth::token_hash(&token)),
        created_at: Set(Utc::now()),
        last_used_at: Set(None),
        ..Default::default()
    }
    .insert(st.db.conn())
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(TokenView {
            id: row.id,
            name: row.name,
            token: Some(token),
            created_at: row.created_at,
        }),
    ))
}

/// Lists the calling agent's API tokens (without their secrets).
#[utoipa::path(get, path = "/api/v1/api-tokens", tag = "auth",
    responses((status = 200, body = TokenList)), security(("bearer" = [])))]
pub async fn list_tokens(State(st): State<AppState>, me: Authed) -> ApiResult<Json<TokenList>> {
    let rows = api_token::Entity::find()
        .filter(api_token::Column::AgentId.eq(me.agent.id))
        .order_by_asc(api_token::Column::Id)
        .all(st.db.conn())
        .await?;
    let items = rows
        .into_iter()
        .map(|r| TokenView {
            id: r.id,
            name: r.name,
            token: None,
            created_at: r.created_at,
        })
        .collect();
    Ok(Json(TokenList { items }))
}

/// Revokes one of the calling agent's API tokens.
#[utoipa::path(delete, path = "/api/v1/api-tokens/{id}", tag = "auth",
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn delete_token(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    let row = api_token::Entity::find_by_id(id)
        .filter(api_token::Column::AgentId.eq(me.agent.id))
        .one(st.db.conn())
        .await?
        .ok_or_else(|| ApiError::not_found("api token"))?;
    row.delete(st.db.conn()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_dummy_hash_is_a_real_argon2_hash() {
        // Unknown emails spend the time of a real verification only if this parses.
        assert!(argon2::password_hash::PasswordHash::new(super::DUMMY_HASH).is_ok());
    }
}
