//! `POST /channels/web_chat/attachments`: a widget visitor uploads a file.
//!
//! The form (`multipart/form-data`) carries `website_token` and `session` (the one the socket's
//! `welcome` gave) before `file`. The session must be valid for the inbox the token opens; the
//! file has the limits of an agent's upload (`max_upload_bytes`, the same name and type
//! cleaning) and is stored like a customer's attachment of that inbox. One session may upload
//! [`FILES_PER_HOUR`](kefu_channel_webchat::uploads::FILES_PER_HOUR) files and
//! [`BYTES_PER_HOUR`](kefu_channel_webchat::uploads::BYTES_PER_HOUR) bytes an hour (429 beyond).
//! The answer (201) is the file with a `ticket` the widget sends in its next `message` frame
//! (see [`kefu_channel_webchat::uploads`]).
//!
//! The widget runs on the customer's site, so answers (errors too) allow that origin to read
//! them, when the inbox's `allowed_origins` admits it.

use std::sync::Arc;

use axum::extract::{Extension, Multipart, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kefu_channel_webchat::uploads::UploadRefused;
use kefu_channel_webchat::{KIND, UploadGuard, WebChatSettings};
use kefu_normalizer::NewFile;
use kefu_normalizer::files::attachment_of;
use serde::Serialize;

use crate::api::files::{form_error, read_file};
use crate::error::ApiError;
use crate::state::AppState;

/// Where visitors upload.
pub const PATH: &str = "/channels/web_chat/attachments";

/// The route, with this node's per-session upload budgets. Bodies may be up to
/// `max_upload_bytes` plus room for the form.
pub fn router(st: &AppState) -> axum::Router<AppState> {
    axum::Router::new()
        .route(PATH, axum::routing::post(upload))
        .layer(Extension(Arc::new(UploadGuard::default())))
        .layer(axum::extract::DefaultBodyLimit::max(
            st.config.max_upload_bytes.saturating_add(64 * 1024),
        ))
}

/// A visitor's stored file.
#[derive(Debug, Serialize)]
struct VisitorFile {
    /// Send it in the next `message` frame's `attachments`.
    ticket: String,
    name: String,
    mime: String,
    size: Option<u64>,
    url: String,
}

async fn upload(
    State(st): State<AppState>,
    Extension(guard): Extension<Arc<UploadGuard>>,
    headers: HeaderMap,
    form: Multipart,
) -> Response {
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (allowed, result) = receive(&st, &guard, origin.as_deref(), form).await;
    let mut resp = match result {
        Ok(file) => (StatusCode::CREATED, axum::Json(file)).into_response(),
        Err(e) => e.into_response(),
    };
    if allowed && let Some(o) = origin.and_then(|o| HeaderValue::from_str(&o).ok()) {
        resp.headers_mut()
            .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o);
        resp.headers_mut()
            .insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    resp
}

/// Checks and stores the upload; says too whether the page's origin may read the answer.
async fn receive(
    st: &AppState,
    guard: &UploadGuard,
    origin: Option<&str>,
    mut form: Multipart,
) -> (bool, Result<VisitorFile, ApiError>) {
    let max = st.config.max_upload_bytes;
    let mut token = None;
    let mut session = None;
    let mut allowed = false;
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return (allowed, Err(form_error(e, max))),
        };
        match field.name() {
            Some("website_token") => token = field.text().await.ok(),
            Some("session") => session = field.text().await.ok(),
            Some("file") => {
                let (inbox_id, who) =
                    match who(st, token.as_deref(), session.as_deref(), origin).await {
                        Ok((ok, v)) => {
                            allowed = ok;
                            v
                        }
                        Err((ok, e)) => return (ok, Err(e)),
                    };
                let (name, mime, data) = match read_file(field, max).await {
                    Ok(f) => f,
                    Err(e) => return (allowed, Err(e)),
                };
                if guard.admit(inbox_id, &who, data.len() as u64) == Err(UploadRefused::TooMany) {
                    return (
                        allowed,
                        Err(ApiError::new(
                            StatusCode::TOO_MANY_REQUESTS,
                            "too_many_uploads",
                            "this chat has uploaded too many files lately; try again later",
                        )),
                    );
                }
                let stored = st
                    .files
                    .store(NewFile {
                        name,
                        mime,
                        data: Some(data),
                        inbox_id: Some(inbox_id),
                        ..NewFile::default()
                    })
                    .await;
                let file = match stored {
                    Ok(f) => attachment_of(&f),
                    Err(e) => return (allowed, Err(e.into())),
                };
                metrics::counter!("kefu_webchat_files_uploaded_total").increment(1);
                return (
                    allowed,
                    Ok(VisitorFile {
                        ticket: st.session_key.file_ticket(inbox_id, &who, &file),
                        name: file.name,
                        mime: file.mime,
                        size: file.size,
                        url: file.url.unwrap_or_default(),
                    }),
                );
            }
            _ => {}
        }
    }
    let detail = if token.is_none() || session.is_none() {
        "send website_token and session, then the file in `file` (multipart/form-data)"
    } else {
        "the form has no part named `file`; send multipart/form-data with the file in `file`"
    };
    (allowed, Err(ApiError::invalid(detail)))
}

type Refusal = (bool, ApiError);

/// The inbox and visitor of a website token and session, and whether `origin` may use them.
async fn who(
    st: &AppState,
    token: Option<&str>,
    session: Option<&str>,
    origin: Option<&str>,
) -> Result<(bool, (i64, String)), Refusal> {
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return Err((
            false,
            ApiError::invalid("website_token is required, before the file"),
        ));
    };
    let inbox = st
        .inboxes
        .by_public_token(token, &[KIND])
        .await
        .map_err(|e| (false, ApiError::from(e)))?
        .ok_or_else(|| {
            (
                false,
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    "unknown_website",
                    "no web chat inbox has this website_token",
                ),
            )
        })?;
    let settings = WebChatSettings::from_value(&inbox.settings).unwrap_or_default();
    if !settings.origin_allowed(origin) {
        return Err((
            false,
            ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden_origin",
                "this website may not use this chat",
            ),
        ));
    }
    let Some(session) = session.filter(|s| !s.is_empty()) else {
        return Err((
            true,
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "session_required",
                "session is required, before the file: the one the chat's welcome gave",
            ),
        ));
    };
    let visitor = st.session_key.verify(inbox.id, session).ok_or_else(|| {
        (
            true,
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_session",
                "this session is not valid for this chat; reconnect to get a new one",
            ),
        )
    })?;
    Ok((true, (inbox.id, visitor)))
}
