//! Layers every response passes through: errors in the API's `{code, detail}` shape, and the
//! security headers of the console, the demo page, the API and customer files.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ErrorBody;

/// The path prefixes whose error bodies are always `{code, detail}` JSON.
const JSON_ERROR_PREFIXES: [&str; 3] = ["/api/v1", "/channels", "/files"];

/// The policy of HTML pages (console, demo page). No inline script: the pages load theirs from
/// files. Inline styles stay allowed because the widget (also on the demo page) injects its
/// own `<style>` and sizes its input with `style`, and the demo page carries a `<style>`
/// block; styles cannot run code. `img-src data: blob:` covers icons and previews of picked
/// files; `connect-src 'self'` covers the same-origin API and WebSockets.
const PAGE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
form-action 'self'; object-src 'none'";

/// The widget preview page, which the console's inbox settings frame: the same policy, but it
/// may be framed by Kefu's own pages (and no one else).
const PREVIEW_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'self'; base-uri 'none'; \
form-action 'self'; object-src 'none'";

/// The console page that [`PREVIEW_CSP`] applies to.
const PREVIEW_PAGE: &str = "/console/settings/inboxes/preview.html";

/// The policy of everything else the server renders (JSON, plain text): nothing may load.
const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// Customer uploads are served inert: in a sandbox, as their own opaque origin.
const FILE_CSP: &str = "sandbox";

fn under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"))
}

/// Rewrites error responses under `/api/v1`, `/channels` and `/files` that are not JSON yet
/// (axum's 405 and body-limit rejections, a channel's plain-text refusal) into `{code,
/// detail}`, keeping the status and the headers that tell a client what to do next.
pub async fn json_errors(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    let resp = next.run(req).await;
    let status = resp.status();
    let covered = JSON_ERROR_PREFIXES.iter().any(|p| under(&path, p));
    if !covered
        || !(status.is_client_error() || status.is_server_error())
        || is_json(resp.headers())
    {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let allow = parts
        .headers
        .get(header::ALLOW)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (code, detail) = describe(status, &method, &path, allow.as_deref(), text);
    let mut out = (
        status,
        axum::Json(ErrorBody {
            code,
            detail,
            field: None,
        }),
    )
        .into_response();
    for name in [
        header::ALLOW,
        header::RETRY_AFTER,
        header::WWW_AUTHENTICATE,
        header::CONTENT_SECURITY_POLICY,
    ] {
        if let Some(v) = parts.headers.get(&name) {
            out.headers_mut().insert(name, v.clone());
        }
    }
    out
}

/// A code and a sentence for an error response that came without them. `text` is the body
/// the response had, used as the detail when there was one (axum's rejections say what was
/// wrong).
fn describe(
    status: StatusCode,
    method: &Method,
    path: &str,
    allow: Option<&str>,
    text: String,
) -> (String, String) {
    let or = |fallback: &str| {
        if text.is_empty() {
            fallback.to_owned()
        } else {
            text.chars().take(500).collect()
        }
    };
    let (code, detail) = match status {
        StatusCode::BAD_REQUEST => ("bad_request", or("the request is malformed")),
        StatusCode::UNAUTHORIZED => ("unauthorized", or("authentication is required")),
        StatusCode::FORBIDDEN => ("forbidden", or("this is not allowed")),
        StatusCode::NOT_FOUND => ("not_found", or("no such endpoint")),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            match allow {
                Some(a) if !a.is_empty() => format!("{method} is not allowed on {path}; use {a}"),
                _ => format!("{method} is not allowed on {path}"),
            },
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "payload_too_large",
            "the request body is larger than the server accepts".to_owned(),
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            or("this content type is not accepted"),
        ),
        StatusCode::UNPROCESSABLE_ENTITY => ("invalid_body", or("a value in the body is invalid")),
        StatusCode::TOO_MANY_REQUESTS => ("too_many_requests", or("too many requests; slow down")),
        StatusCode::SERVICE_UNAVAILABLE => {
            ("unavailable", or("the service is unavailable; try again"))
        }
        StatusCode::GATEWAY_TIMEOUT | StatusCode::REQUEST_TIMEOUT => {
            ("timeout", or("the request took too long"))
        }
        s if s.is_server_error() => (
            "internal",
            "an internal error occurred; see the server log".to_owned(),
        ),
        s => {
            let reason = s.canonical_reason().unwrap_or("error");
            return (
                reason.to_ascii_lowercase().replace([' ', '-'], "_"),
                or(reason),
            );
        }
    };
    (code.to_owned(), detail)
}

/// Sets the security headers a handler did not set itself: `nosniff` and no referrer on
/// everything; on HTML pages a script-only-from-files CSP and no framing; on customer files a
/// sandbox; on the API a policy that loads nothing. `/widget.js` (and the parts it loads) stays
/// loadable by any site.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let mut resp = next.run(req).await;
    let html = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html"));
    let headers = resp.headers_mut();
    let mut set = |name: HeaderName, value: &'static str| {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    };
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::REFERRER_POLICY, "no-referrer");
    if under(&path, "/files") {
        set(header::CONTENT_SECURITY_POLICY, FILE_CSP);
    } else if html && path == PREVIEW_PAGE {
        set(header::CONTENT_SECURITY_POLICY, PREVIEW_CSP);
        set(header::X_FRAME_OPTIONS, "SAMEORIGIN");
    } else if html {
        set(header::CONTENT_SECURITY_POLICY, PAGE_CSP);
        set(header::X_FRAME_OPTIONS, "DENY");
    } else if path.starts_with("/widget") && path.ends_with(".js") {
        // Embedded by customers' pages: readable cross-origin even where they isolate theirs.
        set(
            HeaderName::from_static("cross-origin-resource-policy"),
            "cross-origin",
        );
    } else if !path.starts_with("/console/") {
        set(header::CONTENT_SECURITY_POLICY, API_CSP);
    }
    resp
}
