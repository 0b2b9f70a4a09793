//! The app API under `/channels/app/{inbox_id}`: devices, messages, sync, and the unread count
//! for the app's badge (messages to the user above the highest `seq` the user synced).
//!
//! Every call is checked in the same order, so a caller learns nothing it should not: the
//! inbox exists (404), the body is JSON of the right shape (413, 400), `user_hash` vouches for
//! `external_id` (401), and only then are the fields themselves judged (422).

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use kefu_channel::{Content, ExternalIdentity, InboundEnvelope, IngressContext, ThreadHints};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::api_error::ApiError;
use crate::devices::{DeviceStore, Platform, normalize_token};
use crate::identity::{UserRefused, check_user, message_dedupe_key};
use crate::settings::PushSettings;

/// Request bodies larger than this are refused with 413.
pub(crate) const BODY_LIMIT: usize = 64 * 1024;
/// Longest customer message, in characters.
pub(crate) const MAX_TEXT_CHARS: usize = 10_000;
const DEFAULT_SYNC_LIMIT: u64 = 50;
const MAX_SYNC_LIMIT: u64 = 200;

struct Api {
    cx: IngressContext,
    store: Arc<DeviceStore>,
}

type ApiResult = Result<(StatusCode, Json<Value>), ApiError>;

/// The router the gateway mounts at `/channels/app`.
pub(crate) fn router(cx: IngressContext, store: Arc<DeviceStore>) -> Router {
    Router::new()
        .route("/{inbox_id}/devices", post(register).delete(unregister))
        .route("/{inbox_id}/messages", post(post_message).get(sync))
        .route("/{inbox_id}/unread", axum::routing::get(unread))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(Arc::new(Api { cx, store }))
}

/// Who is calling: the fields every call carries.
#[derive(Deserialize)]
struct Caller {
    external_id: String,
    user_hash: String,
}

#[derive(Deserialize)]
struct DeviceBody {
    #[serde(flatten)]
    caller: Caller,
    platform: String,
    token: String,
}

#[derive(Deserialize)]
struct MessageBody {
    #[serde(flatten)]
    caller: Caller,
    client_id: String,
    text: String,
    #[serde(default)]
    name: Option<String>,
    /// The item of a message's reply `menu` (such as a satisfaction rating) the user tapped;
    /// `text` is then the item's text.
    #[serde(default)]
    menu_id: Option<String>,
}

fn parse_body<T: DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> Result<T, ApiError> {
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("the request body is larger than {BODY_LIMIT} bytes"),
            )
        } else {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", e.body_text())
        }
    })?;
    serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("the body is not the expected JSON: {e}"),
        )
    })
}

impl Api {
    /// The inbox's settings, once `caller` is proven to be who they say.
    async fn authenticate(
        &self,
        inbox_id: &str,
        caller: &Caller,
    ) -> Result<(i64, PushSettings), ApiError> {
        let id: i64 = inbox_id
            .parse()
            .map_err(|_| ApiError::unknown_inbox(inbox_id))?;
        let inbox = self
            .cx
            .inboxes
            .inbox(id)
            .await
            .ok_or_else(|| ApiError::unknown_inbox(inbox_id))?;
        let settings = PushSettings::from_value(&inbox.settings).map_err(|e| {
            tracing::error!(inbox = id, error = %e, "App inbox settings are invalid.");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "inbox_misconfigured",
                "this inbox's settings are invalid; an administrator must fix them",
            )
        })?;
        match check_user(&settings.app_secret, &caller.external_id, &caller.user_hash) {
            Ok(()) => {}
            Err(UserRefused::BadHash | UserRefused::Misconfigured) => {
                return Err(ApiError::bad_user_hash());
            }
            Err(e @ UserRefused::BadExternalId) => {
                return Err(ApiError::invalid("invalid_external_id", format!("{e}.")));
            }
        }
        Ok((id, settings))
    }
}

/// The platform and normalized token of a device body, checked against the inbox.
fn device_of(body: &DeviceBody, settings: &PushSettings) -> Result<(Platform, String), ApiError> {
    let platform = match body.platform.as_str() {
        "fcm" => Platform::Fcm,
        "apns" => Platform::Apns,
        other => {
            return Err(ApiError::invalid(
                "invalid_platform",
                format!("platform must be \"fcm\" or \"apns\", not {other:?}."),
            ));
        }
    };
    let configured = match platform {
        Platform::Fcm => settings.fcm.is_some(),
        Platform::Apns => settings.apns.is_some(),
    };
    if !configured {
        return Err(ApiError::invalid(
            "platform_not_configured",
            format!(
                "this inbox has no {} settings, so it cannot push to such devices",
                platform.as_str()
            ),
        ));
    }
    let token = normalize_token(platform, &body.token)
        .map_err(|why| ApiError::invalid("invalid_token", format!("token: {why}.")))?;
    Ok((platform, token))
}

async fn register(
    State(api): State<Arc<Api>>,
    Path(inbox_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let body: DeviceBody = parse_body(body)?;
    let (id, settings) = api.authenticate(&inbox_id, &body.caller).await?;
    let (platform, token) = device_of(&body, &settings)?;
    let r = api
        .store
        .register(id, &body.caller.external_id, platform, &token)
        .await
        .map_err(ApiError::storage)?;
    tracing::debug!(
        inbox = id,
        platform = platform.as_str(),
        created = r.created,
        "App device registered."
    );
    let status = if r.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(json!({"registered": true, "devices": r.devices})),
    ))
}

async fn unregister(
    State(api): State<Arc<Api>>,
    Path(inbox_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let body: DeviceBody = parse_body(body)?;
    let (id, settings) = api.authenticate(&inbox_id, &body.caller).await?;
    let (platform, token) = device_of(&body, &settings)?;
    let removed = api
        .store
        .remove(id, &body.caller.external_id, &[(platform, token)])
        .await
        .map_err(ApiError::storage)?;
    Ok((StatusCode::OK, Json(json!({"removed": removed > 0}))))
}

async fn post_message(
    State(api): State<Arc<Api>>,
    Path(inbox_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let body: MessageBody = parse_body(body)?;
    let (id, _) = api.authenticate(&inbox_id, &body.caller).await?;
    let c = &body.client_id;
    if c.is_empty()
        || c.len() > 128
        || !c
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
    {
        return Err(ApiError::invalid(
            "invalid_client_id",
            "client_id must be 1 to 128 letters, digits, '-', '_', '.' or ':' (a UUID fits).",
        ));
    }
    if body.text.trim().is_empty() {
        return Err(ApiError::invalid("empty_text", "text must not be empty."));
    }
    if body.text.chars().count() > MAX_TEXT_CHARS {
        return Err(ApiError::invalid(
            "text_too_long",
            format!("text is longer than {MAX_TEXT_CHARS} characters."),
        ));
    }
    if body
        .menu_id
        .as_ref()
        .is_some_and(|m| m.is_empty() || m.len() > 64)
    {
        return Err(ApiError::invalid(
            "invalid_menu_id",
            "menu_id must be 1 to 64 bytes.",
        ));
    }
    let extra = body
        .menu_id
        .map_or(Value::Null, |m| json!({ "menu_id": m }));
    let envelope = InboundEnvelope {
        inbox_id: id,
        sender: ExternalIdentity {
            display_name: body
                .name
                .map(|n| n.trim().chars().take(100).collect::<String>())
                .filter(|n| !n.is_empty()),
            ..ExternalIdentity::new(body.caller.external_id.clone())
        },
        dedupe_key: Some(message_dedupe_key(&body.caller.external_id, c)),
        thread: ThreadHints::default(),
        content: Content {
            extra,
            ..Content::text(body.text)
        },
        sent_at: None,
    };
    let a = api
        .cx
        .inbound
        .accept(envelope)
        .await
        .map_err(ApiError::storage)?;
    let status = if a.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        Json(json!({
            "id": a.message_id,
            "conversation_id": a.conversation_id,
            "seq": a.seq,
            "duplicate": a.duplicate,
        })),
    ))
}

fn query_number(
    q: &HashMap<String, String>,
    name: &str,
    default: i64,
    min: i64,
    max: i64,
) -> Result<i64, ApiError> {
    let Some(raw) = q.get(name) else {
        return Ok(default);
    };
    raw.parse::<i64>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| {
            let code = if name == "after_seq" {
                "invalid_after_seq"
            } else {
                "invalid_limit"
            };
            ApiError::invalid(
                code,
                format!("{name} must be a whole number from {min} to {max}, not {raw:?}."),
            )
        })
}

async fn sync(
    State(api): State<Arc<Api>>,
    Path(inbox_id): Path<String>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> ApiResult {
    let Query(q) = query
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()))?;
    let field = |name: &str| q.get(name).cloned().unwrap_or_default();
    let caller = Caller {
        external_id: field("external_id"),
        user_hash: field("user_hash"),
    };
    let (id, _) = api.authenticate(&inbox_id, &caller).await?;
    let after_seq = query_number(&q, "after_seq", 0, 0, i64::MAX)?;
    let limit = query_number(
        &q,
        "limit",
        DEFAULT_SYNC_LIMIT as i64,
        1,
        MAX_SYNC_LIMIT as i64,
    )? as u64;
    let history = api.cx.history.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "history_unavailable",
            "this Kefu cannot serve message history",
        )
    })?;
    // One more than asked tells whether more follow.
    let page = history
        .messages_after(id, &caller.external_id, after_seq, limit + 1)
        .await
        .map_err(ApiError::storage)?;
    let Some(mut page) = page else {
        return Ok((
            StatusCode::OK,
            Json(json!({"conversation_id": null, "messages": [], "has_more": false})),
        ));
    };
    let has_more = page.messages.len() as u64 > limit;
    page.messages.truncate(limit as usize);
    if let Some(last) = page.messages.last() {
        api.synced(id, &caller.external_id, last.seq).await?;
    }
    Ok((
        StatusCode::OK,
        Json(json!({
            "conversation_id": page.conversation_id,
            "messages": page.messages,
            "has_more": has_more,
        })),
    ))
}

/// Where the highest `seq` a user synced is kept, in the inbox's channel state.
fn synced_key(external_id: &str) -> String {
    format!("app.synced:{external_id}")
}

impl Api {
    /// Records that `external_id` has synced up to `seq` (the mark only moves forward).
    async fn synced(&self, inbox_id: i64, external_id: &str, seq: i64) -> Result<(), ApiError> {
        if self.synced_up_to(inbox_id, external_id).await? >= seq {
            return Ok(());
        }
        self.cx
            .state
            .put(inbox_id, &synced_key(external_id), &seq.to_string())
            .await
            .map_err(ApiError::storage)
    }

    /// The highest `seq` `external_id` has synced; 0 before the first sync.
    async fn synced_up_to(&self, inbox_id: i64, external_id: &str) -> Result<i64, ApiError> {
        Ok(self
            .cx
            .state
            .get(inbox_id, &synced_key(external_id))
            .await
            .map_err(ApiError::storage)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }
}

/// `GET /{inbox_id}/unread?external_id&user_hash[&after_seq]`: how many messages to the user
/// their most recent conversation holds above the highest `seq` they synced (or `after_seq`,
/// when given), for the app's badge.
async fn unread(
    State(api): State<Arc<Api>>,
    Path(inbox_id): Path<String>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> ApiResult {
    let Query(q) = query
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()))?;
    let field = |name: &str| q.get(name).cloned().unwrap_or_default();
    let caller = Caller {
        external_id: field("external_id"),
        user_hash: field("user_hash"),
    };
    let (id, _) = api.authenticate(&inbox_id, &caller).await?;
    let after_seq = match q.get("after_seq") {
        Some(_) => query_number(&q, "after_seq", 0, 0, i64::MAX)?,
        None => api.synced_up_to(id, &caller.external_id).await?,
    };
    let history = api.cx.history.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "history_unavailable",
            "this Kefu cannot serve message history",
        )
    })?;
    let found = history
        .unread_after(id, &caller.external_id, after_seq)
        .await
        .map_err(ApiError::storage)?;
    let body = match found {
        None => json!({"conversation_id": null, "unread": 0, "synced_seq": after_seq}),
        Some(u) => json!({
            "conversation_id": u.conversation_id,
            "unread": u.count,
            "synced_seq": after_seq,
            "last_seq": u.last_seq,
        }),
    };
    Ok((StatusCode::OK, Json(body)))
}
