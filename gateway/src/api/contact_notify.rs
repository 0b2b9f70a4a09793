//! `POST /api/v1/contacts/{id}/notifications`: a proactive message to a contact ("your order
//! has shipped"), delivered and tracked like a reply. The choice of identity and conversation
//! is [`kefu_normalizer::contact_notify`]'s; this file parses, authorizes and renders.
//!
//! Not to be confused with `api/notifications.rs`, which is about agents' mention
//! notifications.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kefu_normalizer::contact_notify::{NewNotification, NotifyError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::SeenContact;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::MessageJson;
use crate::state::AppState;

/// A notification to send.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationRequest {
    /// What to tell the customer (required; at most the server's message size, 256 KiB by
    /// default).
    #[serde(default)]
    pub text: Option<String>,
    /// Channel types to reach the contact through, in order of preference (e.g.
    /// `["wechat", "email"]`); the first of the contact's identities of a listed type is used.
    /// Left out, the identity the customer wrote through most recently is used.
    #[serde(default)]
    pub channels: Option<Vec<String>>,
    /// A key of the caller's choice, 1 to 200 characters (required): the same key for the same
    /// contact never sends twice, and answers the first notification's ids.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// Where the notification was stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationAccepted {
    /// The system message; its `delivery` tracks the send (`pending` → `sent`/`failed`) and
    /// names the `channel` used.
    pub message_id: i64,
    /// The conversation it is in: the identity's open one, or a new queued one.
    pub conversation_id: i64,
}

/// Sends a notification to a contact as a system message: stored in the open conversation of
/// the chosen identity (or a new one) and delivered like a reply. The same `idempotency_key`
/// answers the first notification's ids and sends nothing more. Callers see the contact as
/// for `GET /contacts/{id}`: admins all, others through the conversations they may see; agents
/// and supervisors reach it only through identities in inboxes they belong to.
#[utoipa::path(post, path = "/api/v1/contacts/{id}/notifications", tag = "contacts",
    params(("id" = i64, Path, description = "The contact (a merged contact's survivor is used)")),
    request_body = NotificationRequest,
    responses((status = 202, body = NotificationAccepted), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "A field is invalid (`field` names it), or `no_reachable_identity`")),
    security(("bearer" = [])))]
pub async fn send(
    State(st): State<AppState>,
    SeenContact { id, me }: SeenContact,
    MessageJson(req): MessageJson<NotificationRequest>,
) -> ApiResult<(StatusCode, Json<NotificationAccepted>)> {
    let n = NewNotification {
        text: req.text.unwrap_or_default(),
        channels: req.channels,
        idempotency_key: req.idempotency_key.unwrap_or_default(),
    };
    let known = |kind: &str| st.registry.get(kind).is_some();
    let visibility = me.visibility(&st).await?;
    let done = st
        .contact_notify
        .notify(id, &n, &visibility, known)
        .await
        .map_err(|e| match e {
            NotifyError::Invalid {
                field,
                code,
                detail,
            } => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail).with_field(field),
            NotifyError::NoReachableIdentity(detail) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "no_reachable_identity",
                detail,
            ),
            NotifyError::Store(e) => e.into(),
        })?;
    Ok((
        StatusCode::ACCEPTED,
        Json(NotificationAccepted {
            message_id: done.message_id,
            conversation_id: done.conversation_id,
        }),
    ))
}
