//! Files: agents upload attachments for their replies (`POST /api/v1/attachments`), and every
//! stored file — uploads and customers' attachments alike — is served at
//! `/files/{id}/{token}`, where the random token is the permission to read it. Files the
//! provider keeps (a WeChat `MediaId`) are fetched through their channel on first download and
//! kept.

use axum::body::Body;
use axum::extract::{Multipart, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use kefu_channel::{Attachment, SendError};
use kefu_normalizer::NewFile;
use kefu_normalizer::entity::attachment;
use kefu_normalizer::files::attachment_of;
use serde::Serialize;
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

use crate::auth::Authed;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiPath;
use crate::state::AppState;

/// A stored file, as replies reference it.
#[derive(Debug, Serialize, ToSchema)]
pub struct FileView {
    /// Pass it in a reply's `attachments`.
    pub id: i64,
    /// File name.
    pub name: String,
    /// MIME type.
    pub mime: String,
    /// Size in bytes.
    pub size: Option<u64>,
    /// Where anyone with the link downloads it (relative to Kefu's public URL).
    pub url: String,
}

impl From<Attachment> for FileView {
    fn from(a: Attachment) -> Self {
        Self {
            id: a.id.unwrap_or_default(),
            name: a.name,
            mime: a.mime,
            size: a.size,
            url: a.url.unwrap_or_default(),
        }
    }
}

/// The upload form: one part named `file`, with a file name and a content type.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The file.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Longest file name kept, in characters.
const MAX_NAME_CHARS: usize = 255;

/// Uploads a file to attach to a reply (`multipart/form-data`, one part named `file`). Larger
/// than `max_upload_bytes`: 413.
#[utoipa::path(post, path = "/api/v1/attachments", tag = "conversations",
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, body = FileView), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn upload(
    State(st): State<AppState>,
    me: Authed,
    mut form: Multipart,
) -> ApiResult<(StatusCode, axum::Json<FileView>)> {
    let max = st.config.max_upload_bytes;
    while let Some(field) = form.next_field().await.map_err(|e| form_error(e, max))? {
        if field.name() != Some("file") {
            continue;
        }
        let (name, mime, data) = read_file(field, max).await?;
        let file = st
            .files
            .store(NewFile {
                name,
                mime,
                data: Some(data),
                uploaded_by: Some(me.agent.id),
                ..NewFile::default()
            })
            .await?;
        metrics::counter!("kefu_files_uploaded_total").increment(1);
        return Ok((StatusCode::CREATED, axum::Json(attachment_of(&file).into())));
    }
    Err(ApiError::invalid(
        "the form has no part named `file`; send multipart/form-data with the file in `file`",
    ))
}

/// The upload was larger than `max` bytes.
fn too_large(max: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "file_too_large",
        format!("files may be at most {max} bytes (max_upload_bytes)"),
    )
}

/// An unreadable form, or one larger than the limit.
pub(crate) fn form_error(e: axum::extract::multipart::MultipartError, max: usize) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large(max)
    } else {
        ApiError::invalid(format!("unreadable multipart form: {}", e.body_text()))
    }
}

/// Reads an uploaded file part: its cleaned name, its type (`application/octet-stream` when
/// missing or malformed) and its bytes, at most `max` of them (413 beyond), never empty (422).
/// Agents' and visitors' uploads both go through it, so both have the same limits.
pub(crate) async fn read_file(
    mut field: axum::extract::multipart::Field<'_>,
    max: usize,
) -> ApiResult<(String, String, Bytes)> {
    let name = field
        .file_name()
        .map(clean_name)
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "file".to_owned());
    let mime = field
        .content_type()
        .map(|m| m.trim().to_ascii_lowercase())
        .filter(|m| valid_mime(m))
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    let mut data = bytes::BytesMut::new();
    while let Some(chunk) = field.chunk().await.map_err(|e| form_error(e, max))? {
        if data.len() + chunk.len() > max {
            return Err(too_large(max));
        }
        data.extend_from_slice(&chunk);
    }
    if data.is_empty() {
        return Err(ApiError::invalid("the file is empty"));
    }
    Ok((name, mime, data.freeze()))
}

/// A file name without path parts or control characters, at most 255 characters.
fn clean_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    base.chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME_CHARS)
        .collect::<String>()
        .trim()
        .to_owned()
}

/// `type/subtype` (parameters allowed), printable ASCII, at most 127 characters.
fn valid_mime(m: &str) -> bool {
    let essence = m.split(';').next().unwrap_or_default().trim();
    m.len() <= 127
        && m.bytes().all(|b| (0x20..0x7f).contains(&b))
        && essence
            .split_once('/')
            .is_some_and(|(t, s)| !t.is_empty() && !s.is_empty() && !s.contains('/'))
}

/// Types a browser may show inline from Kefu's origin; everything else downloads.
const INLINE_TYPES: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "audio/mpeg",
    "audio/ogg",
    "video/mp4",
    "application/pdf",
    "text/plain",
];

/// Serves a stored file to whoever has its link (`GET /files/{id}/{token}`).
pub async fn download(
    State(st): State<AppState>,
    ApiPath((id, token)): ApiPath<(i64, String)>,
) -> Result<Response, ApiError> {
    let file = st
        .files
        .get(id)
        .await?
        .filter(|f| bool::from(f.token.as_bytes().ct_eq(token.as_bytes())))
        .ok_or_else(|| ApiError::not_found("file"))?;
    let (file, data) = match st.files.data(file.id).await? {
        Some(data) => (file, data),
        None => fetch_from_provider(&st, file).await?,
    };
    Ok(serve(&file, data))
}

/// Downloads a provider-held file through its inbox's channel and keeps it.
async fn fetch_from_provider(
    st: &AppState,
    file: attachment::Model,
) -> Result<(attachment::Model, Bytes), ApiError> {
    let unavailable =
        |detail: String| ApiError::new(StatusCode::BAD_GATEWAY, "file_unavailable", detail);
    let (Some(inbox_id), Some(_)) = (file.inbox_id, file.provider_ref.as_ref()) else {
        return Err(unavailable(
            "Kefu never received this file's contents".to_owned(),
        ));
    };
    let channel = st.runner.channel(inbox_id).ok_or_else(|| {
        unavailable(format!(
            "inbox {inbox_id} is not running, so its provider cannot be asked for the file"
        ))
    })?;
    let fetched = channel
        .fetch_attachment(&attachment_of(&file))
        .await
        .map_err(|e| match e {
            SendError::Permanent { code, reason } => unavailable(format!(
                "the provider refused the download ({code}): {reason}"
            )),
            other => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "provider_unavailable",
                format!("the provider could not be reached; try again later ({other})"),
            ),
        })?;
    let data = fetched.data.clone();
    let file = st.files.fill(&file, fetched.data, fetched.mime).await?;
    Ok((file, data))
}

fn serve(file: &attachment::Model, data: Bytes) -> Response {
    let mime = file.mime.to_ascii_lowercase();
    let essence = mime.split(';').next().unwrap_or_default().trim();
    let inline = INLINE_TYPES.contains(&essence);
    let content_type = if inline {
        mime.clone()
    } else {
        // Served as a download, never rendered: HTML or SVG from a customer must not run
        // scripts on Kefu's origin.
        "application/octet-stream".to_owned()
    };
    let disposition = format!(
        "{}; filename*=UTF-8''{}",
        if inline { "inline" } else { "attachment" },
        percent_encode(&file.name)
    );
    let mut res = Response::new(Body::from(data));
    let headers = res.headers_mut();
    let value = |s: &str| HeaderValue::from_str(s).unwrap_or(HeaderValue::from_static(""));
    headers.insert(header::CONTENT_TYPE, value(&content_type));
    headers.insert(header::CONTENT_DISPOSITION, value(&disposition));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'; img-src 'self'; media-src 'self'"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=86400"),
    );
    res.into_response()
}

/// RFC 5987 encoding of a file name for `filename*`.
fn percent_encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_paths_and_control_characters() {
        assert_eq!(clean_name("C:\\Users\\me\\invoice.pdf"), "invoice.pdf");
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name("a\u{0}b\r\n.txt"), "ab.txt");
        assert_eq!(clean_name(&"x".repeat(300)).chars().count(), MAX_NAME_CHARS);
    }

    #[test]
    fn only_well_formed_types_are_kept() {
        assert!(valid_mime("image/png"));
        assert!(valid_mime("text/plain; charset=utf-8"));
        assert!(!valid_mime("png"));
        assert!(!valid_mime("image/"));
        assert!(!valid_mime("text/html\r\nX-Evil: 1"));
        assert!(!valid_mime("a/b/c"));
    }

    #[test]
    fn file_names_are_encoded_for_content_disposition() {
        assert_eq!(percent_encode("发票 1.pdf"), "%E5%8F%91%E7%A5%A8%201.pdf");
        assert_eq!(percent_encode("a\"b.txt"), "a%22b.txt");
    }
}
