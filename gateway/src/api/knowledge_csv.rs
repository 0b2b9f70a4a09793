//! The knowledge base as CSV: `GET /api/v1/knowledge/export` and `POST
//! /api/v1/knowledge/import` (supervisors). The format is described in
//! [`kefu_normalizer::knowledge::csv`] and `AI.md`.
//!
//! An import is all or nothing: every row is checked first, and one bad row answers 400
//! `invalid_import` listing every bad cell (`errors: [{row, field, reason}]`) with nothing
//! stored. A good file is stored in one transaction, then this node rebuilds its search index
//! and tells the others to.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use kefu_normalizer::knowledge::ImportError;
use kefu_normalizer::knowledge::csv::{self, RowError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::{Authed, Role};
use crate::error::{ApiResult, ErrorBody};
use crate::state::AppState;

/// How many times the server-wide body limit (`max_body_bytes`, 1 MiB by default) an import
/// may be: 4 MiB by default, some 10,000 typical entries.
pub const IMPORT_BODY_FACTOR: usize = 4;

/// What an import stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportResult {
    /// Entries added.
    pub created: usize,
    /// Entries replaced (rows with an `id`).
    pub updated: usize,
}

/// 400 `invalid_import`: the rows that are wrong; nothing was stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportErrorBody {
    /// `invalid_import`.
    pub code: &'static str,
    /// A sentence for humans.
    pub detail: String,
    /// Every bad cell, in file order (at most 200).
    pub errors: Vec<RowError>,
}

fn rejected(errors: Vec<RowError>) -> Response {
    let rows = {
        let mut r: Vec<usize> = errors.iter().map(|e| e.row).collect();
        r.dedup();
        r.len()
    };
    let detail = format!(
        "{rows} {} of the file {} wrong; nothing was imported",
        if rows == 1 { "row" } else { "rows" },
        if rows == 1 { "is" } else { "are" },
    );
    (
        StatusCode::BAD_REQUEST,
        Json(ImportErrorBody {
            code: "invalid_import",
            detail,
            errors,
        }),
    )
        .into_response()
}

/// The whole knowledge base as CSV (UTF-8 with a byte order mark, a header row; phrasings and
/// tags one per line inside their cell).
#[utoipa::path(get, path = "/api/v1/knowledge/export", tag = "knowledge",
    responses((status = 200, content_type = "text/csv", body = String, description = "Every entry as CSV, with a header row")),
    security(("bearer" = [])))]
pub async fn export(State(st): State<AppState>, me: Authed) -> ApiResult<Response> {
    me.require(Role::Supervisor)?;
    let entries = st.bot.knowledge().all().await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"kefu-knowledge.csv\"",
            ),
        ],
        csv::write(&entries),
    )
        .into_response())
}

/// Adds and replaces entries from a CSV file sent as the body (`Content-Type: text/csv`, at
/// most 4 × `max_body_bytes` (4 MiB by default) and 5,000 entries): a row with an `id` replaces that entry, one without adds
/// one. All or nothing.
#[utoipa::path(post, path = "/api/v1/knowledge/import", tag = "knowledge",
    request_body(content = String, content_type = "text/csv", description = "The columns id, question, alternatives, answer, tags, locale, enabled"),
    responses((status = 200, body = ImportResult), (status = 400, body = ImportErrorBody),
        (status = 413, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn import(State(st): State<AppState>, me: Authed, body: Bytes) -> ApiResult<Response> {
    me.require(Role::Supervisor)?;
    let rows = match csv::parse(&body) {
        Ok(rows) => rows,
        Err(errors) => return Ok(rejected(errors)),
    };
    let done = match st.bot.knowledge().import(rows).await {
        Ok(done) => done,
        Err(ImportError::Rows(errors)) => return Ok(rejected(errors)),
        Err(ImportError::Store(e)) => return Err(e.into()),
    };
    // Committed: the index follows. A failure here is repaired by the next reconciliation.
    if let Err(e) = crate::knowledge_sync::imported(&st).await {
        tracing::warn!(error = %e, "Cannot rebuild the knowledge index after an import.");
    }
    tracing::info!(
        created = done.created.len(),
        updated = done.updated.len(),
        "Knowledge base imported."
    );
    Ok(Json(ImportResult {
        created: done.created.len(),
        updated: done.updated.len(),
    })
    .into_response())
}

/// The routes, with the import's own body limit ([`IMPORT_BODY_FACTOR`] × `max_body_bytes`).
pub fn routes(max_body_bytes: usize) -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new()
        .routes(utoipa_axum::routes!(export))
        .routes(utoipa_axum::routes!(import))
        .layer(axum::extract::DefaultBodyLimit::max(
            max_body_bytes.saturating_mul(IMPORT_BODY_FACTOR),
        ))
}
