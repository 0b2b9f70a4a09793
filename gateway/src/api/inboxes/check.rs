//! "Test connection" for an inbox: builds the channel from the stored settings and runs its
//! checks (WeChat/WeCom access token, IMAP and SMTP login, a test push), each bounded in time.

use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use kefu_channel::{Check, Probe};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::settings_error;
use crate::auth::{Authed, Role};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiPath;
use crate::state::AppState;

/// Bounds the whole test, above the per-check limit, in case a channel forgets to bound one.
const TEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What to test beyond the stored settings. The body may be empty.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestRequest {
    /// `app_push`: the device token to send a test push to.
    pub device_token: Option<String>,
    /// `app_push`: the token's platform, `fcm` or `apns` (needed when both are configured).
    pub platform: Option<String>,
}

/// One check's outcome.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckView {
    /// `access_token`, `imap`, `smtp` or `push` (a third-party channel may add its own).
    pub name: String,
    /// Whether it worked.
    pub ok: bool,
    /// What the provider or server said, in its own words where it gave any.
    pub detail: String,
}

/// The outcome of a connection test.
#[derive(Debug, Serialize, ToSchema)]
pub struct TestResult {
    /// Whether every check worked.
    pub ok: bool,
    /// Each check, in order.
    pub checks: Vec<CheckView>,
}

fn parse(body: &[u8]) -> Result<TestRequest, ApiError> {
    if body.trim_ascii().is_empty() {
        return Ok(TestRequest::default());
    }
    let req: TestRequest = serde_json::from_slice(body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", e.to_string()))?;
    if let Some(p) = req.platform.as_deref()
        && !matches!(p, "fcm" | "apns")
    {
        return Err(ApiError::invalid("platform must be fcm or apns").with_field("platform"));
    }
    Ok(req)
}

/// Tests an inbox's stored credentials (admins): fetches a WeChat/WeCom access token, logs in
/// to IMAP and SMTP, or sends a test push to `device_token`, and shows what the provider or
/// server answered. A failed check is still a 200 with `ok: false`; 422 `test_not_supported`
/// when the channel type has nothing to test.
#[utoipa::path(post, path = "/api/v1/inboxes/{id}/test", tag = "inboxes", request_body = TestRequest,
    params(("id" = i64, Path, description = "Inbox id")),
    responses((status = 200, body = TestResult), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn test(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
    body: Bytes,
) -> ApiResult<Json<TestResult>> {
    me.require(Role::Admin)?;
    let req = parse(&body)?;
    let row = st.inbox_store.get(id).await?;
    let kind = row.channel_type.clone();
    let factory = st.registry.get(&kind).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "test_not_supported",
            format!("no channel type {kind:?} is registered on this server"),
        )
    })?;
    // A channel built for the test alone: its caches are empty, so the provider is asked.
    let channel = factory
        .build(&st.inboxes.config(&row), st.runner.services())
        .map_err(|e| settings_error(&kind, e))?;
    let probe = Probe {
        device_token: req.device_token,
        platform: req.platform,
    };
    let checks = tokio::time::timeout(TEST_TIMEOUT, channel.check(&probe))
        .await
        .unwrap_or_else(|_| {
            vec![Check::failed(
                "timeout",
                format!(
                    "the test took longer than {} seconds",
                    TEST_TIMEOUT.as_secs()
                ),
            )]
        });
    if checks.is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "test_not_supported",
            format!("the {kind} channel has no connection to test"),
        ));
    }
    let ok = checks.iter().all(|c| c.ok);
    tracing::info!(inbox = id, ok, "Inbox connection tested.");
    Ok(Json(TestResult {
        ok,
        checks: checks
            .into_iter()
            .map(|c| CheckView {
                name: c.name,
                ok: c.ok,
                detail: c.detail,
            })
            .collect(),
    }))
}
