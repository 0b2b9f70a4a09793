//! The browser assets compiled into the binary: the demo page at `/`, `/widget.js` (with the
//! parts it loads when needed: `/widget-prechat.js` for inboxes with a pre-chat form,
//! `/widget-files.js` for a visitor's first file, `/widget-csat.js` for a rating card,
//! `/widget-offline.js` for the offer to take an email address while nobody is online) and the
//! agent console under `/console/`. With `assets_dir` set they are read from that folder on
//! each request instead, so the console can be worked on without rebuilding.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use include_dir::{Dir, include_dir};

use crate::state::AppState;

static ASSETS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/assets");

/// Routes for the assets.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(demo))
        .route(
            "/widget.js",
            get(|State(st): State<AppState>| async move { file(&st, "widget.js").await }),
        )
        .route(
            "/widget-prechat.js",
            get(|State(st): State<AppState>| async move { file(&st, "widget-prechat.js").await }),
        )
        .route(
            "/widget-files.js",
            get(|State(st): State<AppState>| async move { file(&st, "widget-files.js").await }),
        )
        .route(
            "/widget-csat.js",
            get(|State(st): State<AppState>| async move { file(&st, "widget-csat.js").await }),
        )
        .route(
            "/widget-offline.js",
            get(|State(st): State<AppState>| async move { file(&st, "widget-offline.js").await }),
        )
        .route(
            "/console",
            get(|| async { Redirect::permanent("/console/") }),
        )
        .route(
            "/console/",
            get(|State(st): State<AppState>| async move { file(&st, "console/index.html").await }),
        )
        .route(
            "/console/{*path}",
            get(
                |State(st): State<AppState>, Path(p): Path<String>| async move {
                    file(&st, &format!("console/{p}")).await
                },
            ),
        )
}

/// The bytes of one asset: from `assets_dir` when set, else from the binary.
async fn contents(st: &AppState, path: &str) -> Option<std::borrow::Cow<'static, [u8]>> {
    match &st.config.assets_dir {
        Some(dir) => {
            // Only plain relative names: no `..`, no absolute paths, nothing outside the folder.
            let safe = path
                .split('/')
                .all(|c| !c.is_empty() && c != "." && c != ".." && !c.contains('\\'));
            if !safe {
                return None;
            }
            tokio::fs::read(dir.join(path)).await.ok().map(Into::into)
        }
        None => ASSETS.get_file(path).map(|f| f.contents().into()),
    }
}

async fn file(st: &AppState, path: &str) -> Response {
    let Some(body) = contents(st, path).await else {
        return crate::error::ApiError::not_found("file").into_response();
    };
    let mime = match path.rsplit('.').next() {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("html") => "text/html; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    };
    (
        [
            (header::CONTENT_TYPE, mime),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// The demo page, wired to the first web chat inbox.
async fn demo(State(st): State<AppState>) -> Response {
    let token = st
        .inbox_store
        .first_public_token(kefu_channel_webchat::KIND)
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    let Some(page) = contents(&st, "index.html")
        .await
        .and_then(|b| String::from_utf8(b.into_owned()).ok())
    else {
        return (StatusCode::NOT_FOUND, "demo page missing").into_response();
    };
    Html(page.replace("{{WEBSITE_TOKEN}}", &token)).into_response()
}
