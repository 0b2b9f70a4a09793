//! The browser assets compiled into the binary: the demo page at `/`, `/widget.js` and the
//! agent console under `/console/`.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use include_dir::{Dir, include_dir};
use kefu_normalizer::entity::inbox;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::state::AppState;

static ASSETS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/assets");

/// Routes for the assets.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(demo))
        .route("/widget.js", get(|| async { file("widget.js") }))
        .route(
            "/console",
            get(|| async { Redirect::permanent("/console/") }),
        )
        .route("/console/", get(|| async { file("console/index.html") }))
        .route(
            "/console/{*path}",
            get(|Path(p): Path<String>| async move { file(&format!("console/{p}")) }),
        )
}

fn file(path: &str) -> Response {
    let Some(f) = ASSETS.get_file(path) else {
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
        f.contents(),
    )
        .into_response()
}

/// The demo page, wired to the first web chat inbox.
async fn demo(State(st): State<AppState>) -> Response {
    let token = inbox::Entity::find()
        .filter(inbox::Column::ChannelType.eq("web_chat"))
        .filter(inbox::Column::DeletedAt.is_null())
        .order_by_asc(inbox::Column::Id)
        .one(st.db.conn())
        .await
        .ok()
        .flatten()
        .map(|i| i.public_token)
        .unwrap_or_default();
    let Some(page) = ASSETS
        .get_file("index.html")
        .and_then(|f| f.contents_utf8())
    else {
        return (StatusCode::NOT_FOUND, "demo page missing").into_response();
    };
    Html(page.replace("{{WEBSITE_TOKEN}}", &token)).into_response()
}
