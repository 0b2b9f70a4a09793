//! Extractors whose rejections answer in the API's `{code, detail}` shape instead of axum's
//! plain-text defaults.
//!
//! They also keep NUL characters out of the database: PostgreSQL refuses `\0` in text, so a
//! NUL that reached a query used to fail it with a 500. A NUL in a JSON body, a query parameter
//! or a path segment is refused with 400 `invalid_characters` naming the field, except in the
//! message text of [`MessageJson`] bodies, where it is dropped as the sanitizer drops other
//! control characters.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::ApiError;

/// A JSON body. Unknown fields are refused where the type says `deny_unknown_fields`; a NUL
/// character anywhere is refused with 400 `invalid_characters` naming the field.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        json_body(req, state, &[]).await.map(Self)
    }
}

/// A JSON body that carries message text in its top-level `text` field: NUL characters there
/// are dropped (the stored text is sanitized the same way); anywhere else they are refused
/// as in [`ApiJson`].
pub struct MessageJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for MessageJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        json_body(req, state, &["text"]).await.map(Self)
    }
}

/// Reads a JSON body as axum's `Json` does, then refuses or strips NUL characters: `strip` lists
/// the fields (dotted paths) where they are dropped.
async fn json_body<S: Send + Sync, T: DeserializeOwned>(
    req: Request,
    state: &S,
    strip: &[&str],
) -> Result<T, ApiError> {
    if !is_json(req.headers()) {
        return Err(unsupported_media_type());
    }
    let bytes = Bytes::from_request(req, state).await.map_err(|rej| {
        if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
            payload_too_large()
        } else {
            ApiError::new(StatusCode::BAD_REQUEST, "unreadable_body", rej.body_text())
        }
    })?;
    // JSON can only carry a NUL as the escape `\u0000`: without it there is nothing to scan.
    let bytes = if contains(&bytes, br"\u0000") {
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(mut value) => {
                let mut path = String::new();
                if let Some(field) = clean_nul(&mut value, &mut path, strip) {
                    return Err(nul_in(&field));
                }
                Bytes::from(serde_json::to_vec(&value).map_err(ApiError::internal)?)
            }
            // Not JSON at all: the parse below says what is wrong.
            Err(_) => bytes,
        }
    } else {
        bytes
    };
    Json::<T>::from_bytes(&bytes)
        .map(|Json(v)| v)
        .map_err(json_rejection)
}

/// `application/json` or `application/*+json`, as axum's `Json` accepts.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match essence.split_once('/') {
        Some(("application", sub)) => sub == "json" || sub.ends_with("+json"),
        _ => false,
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Walks `value`: drops NULs in string values whose path is in `strip` and returns the path of
/// the first other key or string holding one.
fn clean_nul(value: &mut Value, path: &mut String, strip: &[&str]) -> Option<String> {
    match value {
        Value::String(s) if s.contains('\0') => {
            if strip.contains(&path.as_str()) {
                s.retain(|c| c != '\0');
                None
            } else {
                Some(field_name(path))
            }
        }
        Value::Array(items) => {
            let len = path.len();
            for (i, item) in items.iter_mut().enumerate() {
                path.push_str(&format!("[{i}]"));
                let found = clean_nul(item, path, strip);
                path.truncate(len);
                if found.is_some() {
                    return found;
                }
            }
            None
        }
        Value::Object(map) => {
            let len = path.len();
            for (key, item) in map.iter_mut() {
                if !path.is_empty() {
                    path.push('.');
                }
                if key.contains('\0') {
                    path.push_str(&key.replace('\0', "\\u0000"));
                    return Some(format!("{} (a key)", field_name(path)));
                }
                path.push_str(key);
                let found = clean_nul(item, path, strip);
                path.truncate(len);
                if found.is_some() {
                    return found;
                }
            }
            None
        }
        _ => None,
    }
}

fn field_name(path: &str) -> String {
    if path.is_empty() {
        "the body".to_owned()
    } else {
        path.to_owned()
    }
}

/// 400 `invalid_characters` naming where the NUL was.
fn nul_in(field: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_characters",
        format!("{field} must not contain NUL (\\u0000) characters"),
    )
}

fn payload_too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "the request body is larger than the server accepts",
    )
}

fn unsupported_media_type() -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "send the body as JSON with Content-Type: application/json",
    )
}

fn json_rejection(rej: JsonRejection) -> ApiError {
    let status = rej.status();
    let detail = rej.body_text();
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => payload_too_large(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => unsupported_media_type(),
        StatusCode::UNPROCESSABLE_ENTITY => ApiError::new(status, "invalid_body", detail),
        _ => ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", detail),
    }
}

/// Query parameters. A NUL in a parameter is refused with 400 `invalid_characters`.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let pairs = Query::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| v)
            .unwrap_or_default();
        if let Some((k, _)) = pairs
            .iter()
            .find(|(k, v)| k.contains('\0') || v.contains('\0'))
        {
            return Err(nul_in(&format!(
                "the query parameter {}",
                k.replace('\0', "\\u0000")
            )));
        }
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| Self(v))
            .map_err(|e: QueryRejection| {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text())
            })
    }
}

/// Path parameters. A NUL in a segment matches nothing: 404 like any other unknown id.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if parts.uri.path().contains("%00") {
            return Err(ApiError::not_found("path"));
        }
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| Self(v))
            .map_err(|e: PathRejection| {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", e.body_text())
            })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn nul_is_found_by_path_or_stripped_where_allowed() {
        let cases: [(Value, &[&str], Option<&str>, Value); 6] = [
            (json!({"a": "x"}), &[], None, json!({"a": "x"})),
            (json!({"email": "a\0b"}), &[], Some("email"), Value::Null),
            (
                json!({"channel": {"imap": {"password": "\0"}}}),
                &[],
                Some("channel.imap.password"),
                Value::Null,
            ),
            (
                json!({"events": ["a", "b\0"]}),
                &[],
                Some("events[1]"),
                Value::Null,
            ),
            (
                json!({"skills": {"b\0": 1}}),
                &[],
                Some("skills.b\\u0000 (a key)"),
                Value::Null,
            ),
            (
                json!({"text": "a\0b", "client_id": "c"}),
                &["text"],
                None,
                json!({"text": "ab", "client_id": "c"}),
            ),
        ];
        for (mut value, strip, want, cleaned) in cases {
            let got = clean_nul(&mut value, &mut String::new(), strip);
            assert_eq!(got.as_deref(), want, "{value}");
            if want.is_none() {
                assert_eq!(value, cleaned);
            }
        }
    }
}
