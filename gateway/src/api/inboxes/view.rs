//! How the API shows an inbox: its settings without secrets, which secrets are set, what to
//! paste into the provider's console, the widget snippet, and warnings about the setup.

use chrono::{DateTime, Utc};
use kefu_normalizer::access::OthersAccess;
use kefu_normalizer::csat::CsatSettings;
use kefu_normalizer::entity::inbox;
use kefu_normalizer::fallback::FallbackSettings;
use kefu_normalizer::schedules::OutOfOffice;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::Routing;
use crate::auth::{Authed, Role};
use crate::state::AppState;

/// An inbox as the API shows it (without secrets).
#[derive(Debug, Serialize, ToSchema)]
pub struct InboxView {
    /// Inbox id.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// `{type, ...settings}` without secrets.
    #[schema(value_type = Object)]
    pub channel: Value,
    /// The secret settings that have a value, as dotted paths (`app_secret`,
    /// `imap.password`); the same paths as `secrets` in `GET /api/v1/channel-types`.
    pub secrets_set: Vec<String>,
    /// Default routing.
    pub routing: Routing,
    /// How far the inbox's agents reach into conversations assigned to another agent.
    pub others_access: OthersAccess,
    /// The schedule whose hours the inbox keeps.
    pub schedule_id: Option<i64>,
    /// The reply customers get when they write while the schedule is closed.
    pub out_of_office: OutOfOffice,
    /// The satisfaction survey.
    pub csat: CsatSettings,
    /// Whether a reply that cannot reach the customer here goes through another of their
    /// channels, and in which order.
    pub fallback: FallbackSettings,
    /// For `web_chat`: the token the widget snippet carries. For `app_push`: the token the app
    /// sends in `hello` to chat live on `/ws/web_chat` (public; users prove who they are with
    /// `user_hash`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub website_token: Option<String>,
    /// For `web_chat`: the `<script>` tag to paste into the website.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub widget_snippet: Option<String>,
    /// For push-style channels: the URL to paste into the provider's console.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
    /// For push-style channels: what to paste into the provider's console. Same URL as
    /// `callback_url`; the token only for admins.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callback: Option<Callback>,
    /// Problems with the setup that do not stop the inbox from being saved, e.g.
    /// `public_url_not_public` when the provider must call back but cannot reach Kefu.
    pub warnings: Vec<Warning>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// The callback settings an admin enters in the provider's console (WeChat: 服务器地址 and
/// 令牌).
#[derive(Debug, Serialize, ToSchema)]
pub struct Callback {
    /// The callback URL, `{public_url}/channels/{route}/{inbox_id}`.
    pub url: String,
    /// The verification token the provider signs callbacks with (WeChat, WeCom); a secret
    /// shown to admins only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// A problem with an inbox's setup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Warning {
    /// Stable machine-readable code, e.g. `public_url_not_public`.
    pub code: &'static str,
    /// What is wrong and how to fix it, for humans.
    pub detail: String,
}

/// A list of inboxes.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboxList {
    /// Inboxes.
    pub items: Vec<InboxView>,
}

/// The view of a row for `me`.
pub(super) fn view(st: &AppState, row: &inbox::Model, me: &Authed) -> InboxView {
    let mut channel = row.settings.clone();
    if let Some(o) = channel.as_object_mut() {
        o.insert("type".into(), json!(row.channel_type));
    }
    let factory = st.registry.get(&row.channel_type);
    let public_url = st.config.public_url();
    let callback_url = st
        .registry
        .ingress_route(&row.channel_type)
        .map(|r| format!("{public_url}/channels/{r}/{}", row.id));
    // Decrypting only for admins keeps the token out of every other role's responses.
    let token = factory
        .and_then(|f| f.callback_token_field())
        .filter(|_| me.role >= Role::Admin && callback_url.is_some())
        .and_then(|field| {
            st.inboxes
                .config(row)
                .settings
                .pointer(field)
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
    let needs_callback = factory.is_some_and(|f| f.provider_callback());
    let web_chat = row.channel_type == kefu_channel_webchat::KIND;
    InboxView {
        id: row.id,
        name: row.name.clone(),
        channel,
        secrets_set: st.inboxes.secrets_set(row),
        others_access: row.others_access,
        schedule_id: row.schedule_id,
        out_of_office: OutOfOffice::of(row),
        csat: CsatSettings::of(row),
        fallback: FallbackSettings::of(row),
        routing: Routing {
            skills: serde_json::from_value(row.routing["skills"].clone()).unwrap_or_default(),
            priority: row.routing["priority"].as_i64().unwrap_or(0) as i32,
        },
        website_token: (web_chat || row.channel_type == kefu_channel_push::KIND)
            .then(|| row.public_token.clone()),
        widget_snippet: web_chat.then(|| widget_snippet(&public_url, &row.public_token)),
        callback: callback_url.clone().map(|url| Callback { url, token }),
        callback_url,
        warnings: if needs_callback {
            public_url_warning(&public_url).into_iter().collect()
        } else {
            Vec::new()
        },
        created_at: row.created_at,
    }
}

/// The tag a website owner pastes into their pages.
fn widget_snippet(public_url: &str, website_token: &str) -> String {
    format!(
        r#"<script src="{public_url}/widget.js" data-website-token="{website_token}"></script>"#
    )
}

/// `public_url_not_public` when providers on the internet cannot reach `public_url`: a
/// loopback, private or otherwise special address, or a `localhost` name.
fn public_url_warning(public_url: &str) -> Option<Warning> {
    let why = match kefu_dispatcher::webhook::check_url(public_url, false) {
        Ok(_) => return None,
        Err(kefu_dispatcher::webhook::TargetError::RefusedAddress { reason, .. }) => {
            reason.into_owned()
        }
        Err(kefu_dispatcher::webhook::TargetError::RefusedHost { reason, .. }) => reason.to_owned(),
        Err(e) => e.to_string(),
    };
    Some(Warning {
        code: "public_url_not_public",
        detail: format!(
            "public_url is {public_url} ({why}), so the provider cannot reach the callback URL; \
             set public_url to the address Kefu is reachable at from the internet"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_pass_without_a_warning() {
        for url in [
            "http://127.0.0.1:8080",
            "http://localhost:8080",
            "http://10.1.2.3",
            "http://192.168.1.10:8080",
            "http://[::1]:8080",
            "http://[fd00::1]",
        ] {
            let w = public_url_warning(url).unwrap_or_else(|| panic!("{url} must warn"));
            assert_eq!(w.code, "public_url_not_public");
            assert!(w.detail.contains(url), "{}", w.detail);
        }
        for url in ["https://kefu.example.com", "http://203.0.114.7"] {
            assert_eq!(public_url_warning(url), None, "{url}");
        }
    }

    #[test]
    fn the_snippet_carries_the_token_and_the_public_url() {
        assert_eq!(
            widget_snippet("https://kefu.example.com", "abc"),
            r#"<script src="https://kefu.example.com/widget.js" data-website-token="abc"></script>"#
        );
    }
}
