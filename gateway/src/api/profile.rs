//! The signed-in agent's own profile: name, console language, notification preferences and
//! password.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kefu_normalizer::entity::agent;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::agents::{AgentView, agent_view, check_password};
use super::auth::{ClientAddr, LoginError};
use crate::auth::{self, Authed};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiJson;
use crate::state::AppState;
use kefu_normalizer::accounts::check_name;

/// The console languages.
const LANGUAGES: [&str; 2] = ["en", "zh-CN"];

/// What the console notifies the agent of, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Notifications {
    /// Play a sound.
    pub sound: bool,
    /// Show desktop notifications (the browser asks for permission).
    pub desktop: bool,
    /// When a conversation is assigned to the agent.
    pub new_assignment: bool,
    /// When a customer writes in one of the agent's conversations.
    pub new_message: bool,
    /// When another agent mentions them.
    pub mention: bool,
}

impl Default for Notifications {
    fn default() -> Self {
        Self {
            sound: true,
            desktop: false,
            new_assignment: true,
            new_message: true,
            mention: true,
        }
    }
}

/// Changes to notification preferences; absent ones stay.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationsPatch {
    /// Play a sound.
    pub sound: Option<bool>,
    /// Show desktop notifications.
    pub desktop: Option<bool>,
    /// On assignment.
    pub new_assignment: Option<bool>,
    /// On a customer's message.
    pub new_message: Option<bool>,
    /// On a mention.
    pub mention: Option<bool>,
}

impl Notifications {
    fn of(a: &agent::Model) -> Self {
        let stored: NotificationsPatch = a
            .notifications
            .clone()
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default();
        Self::default().patched(&stored)
    }

    fn patched(self, p: &NotificationsPatch) -> Self {
        Self {
            sound: p.sound.unwrap_or(self.sound),
            desktop: p.desktop.unwrap_or(self.desktop),
            new_assignment: p.new_assignment.unwrap_or(self.new_assignment),
            new_message: p.new_message.unwrap_or(self.new_message),
            mention: p.mention.unwrap_or(self.mention),
        }
    }
}

/// The signed-in agent with their preferences.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileView {
    /// The agent.
    #[serde(flatten)]
    pub agent: AgentView,
    /// Console language: `en` or `zh-CN`.
    pub language: String,
    /// Notification preferences.
    pub notifications: Notifications,
    /// Minutes the console may sit idle before it sets the agent `away` (0: never).
    pub away_after_minutes: i32,
}

/// The longest idle time before `away` an agent may choose (a working day).
const MAX_AWAY_AFTER_MINUTES: i32 = 480;

/// Profile changes; absent fields stay.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    /// Display name.
    pub name: Option<String>,
    /// `en` or `zh-CN`.
    pub language: Option<String>,
    /// Notification preferences to change.
    pub notifications: Option<NotificationsPatch>,
    /// Minutes the console may sit idle before it sets the agent `away`, 0 to 480 (0: never).
    pub away_after_minutes: Option<i32>,
}

/// A password change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    /// The password now.
    pub current_password: String,
    /// The new one, at least 8 characters.
    pub new_password: String,
}

async fn profile_view(st: &AppState, a: &agent::Model) -> Result<ProfileView, ApiError> {
    Ok(ProfileView {
        agent: agent_view(st, a).await?,
        language: a.language.clone(),
        notifications: Notifications::of(a),
        away_after_minutes: a.away_after_minutes,
    })
}

/// The signed-in agent's profile.
#[utoipa::path(get, path = "/api/v1/profile", tag = "profile",
    responses((status = 200, body = ProfileView), (status = 401, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get(State(st): State<AppState>, me: Authed) -> ApiResult<Json<ProfileView>> {
    Ok(Json(profile_view(&st, &me.agent).await?))
}

/// Changes the signed-in agent's name, language, notification preferences or idle time
/// before `away`.
#[utoipa::path(patch, path = "/api/v1/profile", tag = "profile", request_body = ProfilePatch,
    responses((status = 200, body = ProfileView), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn update(
    State(st): State<AppState>,
    me: Authed,
    ApiJson(req): ApiJson<ProfilePatch>,
) -> ApiResult<Json<ProfileView>> {
    let name = req.name.as_deref().map(check_name).transpose()?;
    if let Some(l) = req.language.as_deref().filter(|l| !LANGUAGES.contains(l)) {
        return Err(
            ApiError::invalid(format!("language {l:?} is not offered; use en or zh-CN"))
                .with_field("language"),
        );
    }
    if let Some(m) = req
        .away_after_minutes
        .filter(|m| !(0..=MAX_AWAY_AFTER_MINUTES).contains(m))
    {
        return Err(ApiError::invalid(format!(
            "away_after_minutes must be between 0 (never) and {MAX_AWAY_AFTER_MINUTES}, not {m}"
        ))
        .with_field("away_after_minutes"));
    }
    let notifications = req
        .notifications
        .map(|p| Notifications::of(&me.agent).patched(&p))
        .map(serde_json::to_value)
        .transpose()
        .map_err(ApiError::internal)?;
    let a = st
        .accounts
        .agents
        .set_profile(
            me.agent.id,
            name,
            req.language,
            notifications,
            req.away_after_minutes,
        )
        .await?;
    Ok(Json(profile_view(&st, &a).await?))
}

/// Changes the signed-in agent's password after checking the current one. Every other
/// session of the agent ends; the calling one stays. Wrong guesses count towards the sign-in
/// throttle of the account.
#[utoipa::path(post, path = "/api/v1/profile/password", tag = "profile", request_body = PasswordChange,
    responses((status = 204), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn change_password(
    State(st): State<AppState>,
    me: Authed,
    ClientAddr(addr): ClientAddr,
    ApiJson(req): ApiJson<PasswordChange>,
) -> Result<StatusCode, LoginError> {
    let throttle = &st.accounts.throttle;
    throttle
        .admit(&me.agent.email, addr)
        .await
        .map_err(LoginError::Throttled)?;
    if !auth::verify_password(req.current_password, me.agent.password_hash.clone()).await {
        throttle.failed(&me.agent.email, addr).await;
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "wrong_password",
            "the current password is not right",
        )
        .with_field("current_password")
        .into());
    }
    check_password(&req.new_password, "new_password")?;
    let hash = auth::hash_password(req.new_password).await?;
    st.accounts
        .agents
        .set_password_hash(me.agent.id, hash)
        .await
        .map_err(ApiError::from)?;
    st.accounts.end_sessions(me.agent.id, me.session_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Image types an avatar may be.
const AVATAR_TYPES: [&str; 4] = ["image/png", "image/jpeg", "image/gif", "image/webp"];
/// The largest avatar, in bytes.
const MAX_AVATAR_BYTES: i64 = 1024 * 1024;

/// The picture to show for the signed-in agent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AvatarRequest {
    /// An image the agent uploaded with `POST /api/v1/attachments`: PNG, JPEG, GIF or WebP, at
    /// most 1 MiB.
    pub attachment_id: i64,
}

/// Sets the signed-in agent's picture, which colleagues see in the console and customers in
/// the web chat header.
#[utoipa::path(put, path = "/api/v1/profile/avatar", tag = "profile", request_body = AvatarRequest,
    responses((status = 200, body = ProfileView), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn set_avatar(
    State(st): State<AppState>,
    me: Authed,
    ApiJson(req): ApiJson<AvatarRequest>,
) -> ApiResult<Json<ProfileView>> {
    let field = |detail: String| ApiError::invalid(detail).with_field("attachment_id");
    let file = st
        .files
        .get(req.attachment_id)
        .await?
        .filter(|f| f.inbox_id.is_none() && f.uploaded_by == Some(me.agent.id))
        .ok_or_else(|| {
            field(format!(
                "there is no upload {} of yours; upload the picture with POST /api/v1/attachments",
                req.attachment_id
            ))
        })?;
    if !AVATAR_TYPES.contains(&file.mime.as_str()) {
        return Err(field(format!(
            "a picture must be a PNG, JPEG, GIF or WebP image, not {}",
            file.mime
        )));
    }
    if file.size.unwrap_or(0) > MAX_AVATAR_BYTES {
        return Err(field("a picture may be at most 1 MiB".into()));
    }
    let path = kefu_normalizer::files::path(&file);
    let a = st
        .accounts
        .agents
        .set_avatar(me.agent.id, Some(path))
        .await?;
    Ok(Json(profile_view(&st, &a).await?))
}

/// Removes the signed-in agent's picture: their initial shows instead.
#[utoipa::path(delete, path = "/api/v1/profile/avatar", tag = "profile",
    responses((status = 200, body = ProfileView)), security(("bearer" = [])))]
pub async fn delete_avatar(State(st): State<AppState>, me: Authed) -> ApiResult<Json<ProfileView>> {
    let a = st.accounts.agents.set_avatar(me.agent.id, None).await?;
    Ok(Json(profile_view(&st, &a).await?))
}
