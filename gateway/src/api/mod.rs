//! The HTTP API under `/api/v1`, its OpenAPI document, and the operational endpoints.

pub mod activities;
pub mod agents;
pub mod auth;
pub mod canned;
pub mod channel_types;
pub mod contact_notify;
pub mod contacts;
pub mod conversations;
pub mod csat;
pub mod drafts;
pub mod files;
pub mod inboxes;
pub mod intents;
pub mod invites;
pub mod knowledge;
pub mod knowledge_csv;
pub mod labels;
pub mod live;
pub mod notifications;
mod path_params;
pub mod profile;
pub mod proposals;
pub mod replies;
pub mod reports;
pub mod routing;
pub mod schedules;
pub mod sensitive;
pub mod teams;
pub mod tokens;
pub mod webhooks;

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ErrorBody;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Kefu API", description = "Omnichannel customer-support gateway. Errors are `{code, detail}`."),
    modifiers(&BearerAuth),
    components(schemas(ErrorBody))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// A page size from the query: `default` when absent, 400 `invalid_query` outside 1..=`max`.
pub(crate) fn page_limit(
    given: Option<u64>,
    default: u64,
    max: u64,
) -> Result<u64, crate::error::ApiError> {
    let limit = given.unwrap_or(default);
    if (1..=max).contains(&limit) {
        Ok(limit)
    } else {
        Err(crate::error::ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            format!("limit must be between 1 and {max}"),
        ))
    }
}

/// The API routes (without state) and the OpenAPI document generated from them. Uploads may be
/// up to `max_upload_bytes` (plus room for the form around the file), a knowledge-base import
/// up to four times `max_body_bytes`; every other request body is bounded by the server-wide
/// limit.
pub fn router(max_upload_bytes: usize, max_body_bytes: usize) -> axum::Router<AppState> {
    let uploads = OpenApiRouter::new().routes(routes!(files::upload)).layer(
        axum::extract::DefaultBodyLimit::max(max_upload_bytes.saturating_add(64 * 1024)),
    );
    let (router, openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(uploads)
        .merge(knowledge_csv::routes(max_body_bytes))
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(tokens::create, tokens::list))
        .routes(routes!(tokens::delete))
        .routes(routes!(profile::get, profile::update))
        .routes(routes!(profile::change_password))
        .routes(routes!(profile::set_avatar, profile::delete_avatar))
        .routes(routes!(invites::get))
        .routes(routes!(invites::accept))
        .routes(routes!(agents::create, agents::list))
        .routes(routes!(agents::get, agents::update, agents::delete))
        .routes(routes!(agents::set_status))
        .routes(routes!(agents::invite))
        .routes(routes!(inboxes::create, inboxes::list))
        .routes(routes!(inboxes::get, inboxes::update, inboxes::delete))
        .routes(routes!(inboxes::get_members, inboxes::put_members))
        .routes(routes!(channel_types::list))
        .routes(routes!(inboxes::check::test))
        .routes(routes!(conversations::list))
        .routes(routes!(conversations::get))
        .routes(routes!(conversations::messages, replies::reply))
        .routes(routes!(conversations::assign))
        .routes(routes!(conversations::resolve))
        .routes(routes!(conversations::reopen))
        .routes(routes!(conversations::mark_read))
        .routes(routes!(activities::list))
        .routes(routes!(activities::summaries))
        .routes(routes!(csat::list))
        .routes(routes!(live::live))
        .routes(routes!(reports::report))
        .routes(routes!(reports::events))
        .routes(routes!(knowledge::create, knowledge::list))
        .routes(routes!(
            knowledge::get,
            knowledge::update,
            knowledge::delete
        ))
        .routes(routes!(proposals::list))
        .routes(routes!(proposals::get))
        .routes(routes!(proposals::approve))
        .routes(routes!(proposals::reject))
        .routes(routes!(knowledge::suggestions))
        .routes(routes!(drafts::draft))
        .routes(routes!(drafts::status))
        .routes(routes!(knowledge::decisions))
        .routes(routes!(knowledge::get_bot, knowledge::put_bot))
        .routes(routes!(intents::create, intents::list))
        .routes(routes!(intents::get, intents::update, intents::delete))
        .routes(routes!(sensitive::create, sensitive::list))
        .routes(routes!(
            sensitive::get,
            sensitive::update,
            sensitive::delete
        ))
        .routes(routes!(notifications::list))
        .routes(routes!(notifications::mentionable))
        .routes(routes!(notifications::mark_read))
        .routes(routes!(labels::set_conversation))
        .routes(routes!(labels::contact, labels::set_contact))
        .routes(routes!(labels::create, labels::list))
        .routes(routes!(labels::get, labels::update, labels::delete))
        .routes(routes!(canned::create, canned::list))
        .routes(routes!(canned::get, canned::update, canned::delete))
        .routes(routes!(canned::render))
        .routes(routes!(contacts::find))
        .routes(routes!(conversations::contact, contacts::update))
        .routes(routes!(contacts::create, contacts::list))
        .routes(routes!(
            contacts::get,
            contacts::update_definition,
            contacts::delete
        ))
        .routes(routes!(conversations::merge))
        .routes(routes!(contact_notify::send))
        .routes(routes!(webhooks::create, webhooks::list))
        .routes(routes!(webhooks::get, webhooks::update, webhooks::delete))
        .routes(routes!(webhooks::rotate_secret))
        .routes(routes!(webhooks::deliveries))
        .routes(routes!(webhooks::retry))
        .routes(routes!(webhooks::dead_letters))
        .routes(routes!(webhooks::retry_message))
        .routes(routes!(webhooks::get_rate_limit, webhooks::set_rate_limit))
        .routes(routes!(routing::get_config, routing::put_config))
        .routes(routes!(routing::try_routing))
        .routes(routes!(routing::transfer))
        .routes(routes!(routing::claim))
        .routes(routes!(routing::explain))
        .routes(routes!(routing::queue))
        .routes(routes!(teams::create, teams::list))
        .routes(routes!(teams::get, teams::update, teams::delete))
        .routes(routes!(teams::put_members))
        .routes(routes!(schedules::create, schedules::list))
        .routes(routes!(
            schedules::get,
            schedules::update,
            schedules::delete
        ))
        .split_for_parts();
    let mut openapi = openapi;
    path_params::declare_path_params(&mut openapi);
    let openapi = Arc::new(openapi);
    router
        .route(
            "/api/v1/openapi.json",
            get(move || async move { Json(openapi.as_ref().clone()) }),
        )
        .route("/files/{id}/{token}", get(files::download))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

async fn healthz() -> &'static str {
    "ok"
}

/// `/readyz`: `ready` (200) when the database answers, every job worker runs and the event bus
/// reaches the other nodes; `degraded` (200: messages are still taken in, but replies or
/// webhooks wait, or other nodes' sockets miss this node's events) while a worker is being
/// restarted or Redis is unreachable; `unavailable` (503) when the database does not answer. The body says which
/// check failed and why.
async fn readyz(State(st): State<AppState>) -> impl IntoResponse {
    let database = match st.accounts.sessions.ping().await {
        Ok(()) => None,
        Err(e) => {
            tracing::warn!(error = %e, "Readiness check failed.");
            Some(e.to_string())
        }
    };
    let workers = st.workers.snapshot();
    let bus = st.bus.health();
    let (code, status) = if database.is_some() {
        (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
    } else if workers.values().any(|w| !w.running) || !bus.ok {
        (StatusCode::OK, "degraded")
    } else {
        (StatusCode::OK, "ready")
    };
    let body = serde_json::json!({
        "status": status,
        "checks": {
            "database": database.map_or_else(|| serde_json::json!({"ok": true}), |e| serde_json::json!({"ok": false, "error": e})),
            "workers": workers,
            "bus": bus,
        },
    });
    (code, Json(body))
}

/// `/metrics`: the recorder's counters and histograms, then the live gauges (queues,
/// presence, load) computed from the database at scrape time.
async fn metrics(State(st): State<AppState>) -> impl IntoResponse {
    let mut body = st.metrics.render();
    if !body.is_empty() && !body.ends_with('\n') {
        body.push('\n');
    }
    body.push_str(&live::prometheus(&st).await);
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        body,
    )
}
