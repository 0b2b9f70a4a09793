//! The widget's `hello`: which inbox the `website_token` opens, whether the page's origin may
//! open it, who the visitor is (a signed session, a verified identity, or an app user), and
//! the `welcome` that replays what the tab has not seen.

use kefu_channel::IngestError;
use kefu_channel_push::UserRefused;
use serde_json::{Value, json};

use crate::protocol::{self, ErrorFrame};
use crate::socket::{Visitor, Widget};
use crate::{WebChatSettings, identity, session};

/// The most messages a `welcome` replays.
pub(crate) const REPLAY_LIMIT: u64 = 500;

/// A `hello` frame and the page's `Origin`.
pub(crate) struct Hello {
    pub(crate) website_token: String,
    pub(crate) session: Option<String>,
    pub(crate) identity: Option<protocol::Identity>,
    pub(crate) after_seq: Option<i64>,
    pub(crate) name: Option<String>,
    pub(crate) origin: Option<String>,
    pub(crate) ip: Option<std::net::IpAddr>,
}

fn refused(code: &'static str, detail: &str) -> ErrorFrame {
    ErrorFrame {
        code,
        detail: detail.into(),
        client_id: None,
    }
}

fn unavailable(e: IngestError) -> ErrorFrame {
    tracing::warn!(error = %e, "Widget hello failed.");
    refused("unavailable", "try again shortly")
}

/// Checks the hello and builds the welcome.
pub(crate) async fn open(w: &Widget, h: Hello) -> Result<(Visitor, Value), ErrorFrame> {
    let inbox = w
        .host
        .inbox_by_token(&h.website_token)
        .await
        .map_err(unavailable)?
        .ok_or_else(|| {
            refused(
                "unknown_website",
                "no web chat or app inbox has this website_token",
            )
        })?;
    let app = inbox.kind.as_str() == kefu_channel_push::KIND;
    let settings = if app {
        // Apps are not browsers: there is no origin to check.
        WebChatSettings::default()
    } else {
        WebChatSettings::from_value(&inbox.settings).unwrap_or_default()
    };
    if !settings.origin_allowed(h.origin.as_deref()) {
        return Err(refused(
            "forbidden_origin",
            "this website may not open this chat",
        ));
    }
    let external_id = match (h.identity, &settings.hmac_secret) {
        (ident, _) if app => app_user(&inbox.settings, ident)?,
        (Some(id), Some(secret)) => {
            let hash = id.user_hash.as_deref().unwrap_or_default();
            if id.user_id.is_empty() || !identity::verify(secret, &id.user_id, hash) {
                return Err(refused(
                    "identity_unverified",
                    "user_hash does not match user_id; compute it on your server with the inbox's hmac_secret",
                ));
            }
            format!("user:{}", id.user_id)
        }
        // Without a secret an identity cannot be trusted: the visitor stays anonymous.
        _ => h
            .session
            .as_deref()
            .and_then(|s| w.sessions.verify(inbox.id, s))
            .unwrap_or_else(session::new_visitor),
    };
    let session = w.sessions.issue(inbox.id, &external_id);
    let mut visitor = Visitor {
        inbox_id: inbox.id,
        external_id,
        name: h.name.filter(|n| !n.trim().is_empty()),
        conversation: None,
        app,
        limits: settings.visitor_limits,
        ip: h.ip,
        pre_chat: settings.pre_chat.asks().then_some(settings.pre_chat),
        answers: None,
    };
    let page = w
        .history
        .views_after(
            inbox.id,
            &visitor.external_id,
            h.after_seq.unwrap_or(0).max(0),
            REPLAY_LIMIT,
        )
        .await
        .map_err(unavailable)?;
    let mut messages = Vec::new();
    if let Some(page) = page {
        messages = page.messages;
        visitor.conversation = Some((page.conversation_id, page.conversation_token));
    }
    let mut welcome = json!({
        "type": "welcome",
        "session": session,
        "conversation_id": visitor.conversation.as_ref().map(|(c, _)| *c),
        "messages": messages,
    });
    // Outside the inbox's business hours the widget says so, and when it opens again.
    if let Some(away) = w.host.away(inbox.id).await {
        welcome["away"] = json!({"next_open": away.next_open});
    }
    // Nobody online: the widget may offer to take an email address for the reply.
    if !visitor.app
        && let Some(offline) = w.host.offline(inbox.id, visitor.conversation_id()).await
    {
        welcome["offline"] = json!({"ask_email": offline.ask_email});
    }
    // A rating asked for and not given yet: the reloaded tab shows the card again.
    if let Some((c, _)) = &visitor.conversation
        && let Some(token) = w.host.csat_pending(*c).await
    {
        welcome["csat"] = json!({"token": token});
    }
    // A visitor who has not written yet is asked the inbox's pre-chat form first.
    if visitor.conversation.is_none()
        && let Some(form) = &visitor.pre_chat
    {
        welcome["pre_chat"] = json!(form);
    }
    Ok((visitor, welcome))
}

/// The external id of an app user whose identity checks out under the inbox's `app_secret`.
fn app_user(settings: &Value, ident: Option<protocol::Identity>) -> Result<String, ErrorFrame> {
    let Some(protocol::Identity {
        user_id,
        user_hash: Some(hash),
    }) = ident
    else {
        return Err(refused(
            "identity_required",
            "an app inbox needs identity {user_id, user_hash}: the app API's external_id and user_hash",
        ));
    };
    match kefu_channel_push::authenticate_user(settings, &user_id, &hash) {
        Ok(()) => Ok(user_id),
        Err(UserRefused::BadHash) => Err(refused(
            "identity_unverified",
            "user_hash does not match user_id; compute it on your server as hex(HMAC-SHA256(app_secret, user_id))",
        )),
        Err(UserRefused::BadExternalId) => Err(refused(
            "invalid_identity",
            "user_id must be 1 to 255 bytes without control characters",
        )),
        Err(UserRefused::Misconfigured) => {
            tracing::error!("App inbox settings are invalid; app users cannot connect.");
            Err(refused(
                "unavailable",
                "this inbox is misconfigured; an administrator must fix it",
            ))
        }
    }
}
