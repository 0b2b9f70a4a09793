//! The channel types this Kefu knows, described for the console: each type's settings schema,
//! its secret fields and whether the provider calls back. The console builds every inbox form
//! from this, so a third-party channel crate gets its settings page without console code.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::auth::Authed;
use crate::channels::pointer_to_path;
use crate::error::ApiResult;
use crate::state::AppState;

/// One channel type.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelType {
    /// The `channel.type` of its inboxes, e.g. `wechat`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The JSON Schema (draft 2020-12) of the settings object (without `type`). Properties
    /// carry `title` and `description` in English and `x-i18n: {"zh-CN": {title,
    /// description}}`; secrets carry `writeOnly: true`.
    #[schema(value_type = Object)]
    pub schema: Value,
    /// Dotted paths of the write-only settings (`app_secret`, `imap.password`): never
    /// returned; an inbox's `secrets_set` says which have a value.
    pub secrets: Vec<String>,
    /// Whether the provider calls Kefu at the inbox's `callback_url`, so `public_url` must be
    /// reachable from the internet.
    pub callback: bool,
}

/// The channel types.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelTypeList {
    /// Channel types, by name.
    pub items: Vec<ChannelType>,
}

/// The channel types an inbox can have, with the schema of their settings.
#[utoipa::path(get, path = "/api/v1/channel-types", tag = "inboxes",
    responses((status = 200, body = ChannelTypeList)), security(("bearer" = [])))]
pub async fn list(State(st): State<AppState>, _me: Authed) -> ApiResult<Json<ChannelTypeList>> {
    let items = st
        .registry
        .factories()
        .map(|(kind, f)| ChannelType {
            kind: kind.to_owned(),
            schema: f.settings_schema(),
            secrets: f
                .secret_fields()
                .iter()
                .map(|p| pointer_to_path(p))
                .collect(),
            callback: f.provider_callback(),
        })
        .collect();
    Ok(Json(ChannelTypeList { items }))
}
