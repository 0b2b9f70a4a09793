//! Inboxes: one configured channel account each. Secrets are write-only: they are encrypted at
//! rest and never returned.

use std::collections::BTreeMap;

pub mod check;
mod view;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kefu_normalizer::access::{Members, OthersAccess};
use kefu_normalizer::csat::CsatSettings;
use kefu_normalizer::fallback::FallbackSettings;
use kefu_normalizer::schedules::OutOfOffice;
use kefu_normalizer::{InboxChange, NewInbox as NewInboxRow};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::agents::check_skills;
use crate::auth::{Authed, Role};
use crate::channels::{settings_field, take_secrets};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;
use view::view;
pub use view::{Callback, InboxList, InboxView, Warning};

/// Default routing of an inbox's new conversations.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Routing {
    /// Required skills and minimum levels (1–10).
    #[serde(default)]
    pub skills: BTreeMap<String, u8>,
    /// Priority, 0–100; higher is served first.
    #[serde(default)]
    pub priority: i32,
}

/// A new inbox.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInbox {
    /// Display name.
    pub name: String,
    /// `{type, ...settings}`; see the channel types in the README.
    #[schema(value_type = Object)]
    pub channel: Value,
    /// Default routing.
    pub routing: Option<Routing>,
    /// How far the inbox's agents reach into conversations assigned to another agent:
    /// `none` (default), `read` or `reply`.
    pub others_access: Option<OthersAccess>,
}

/// Changes to an inbox. `channel` settings are merged into the current ones (RFC 7386), so
/// secrets left out keep their stored values.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InboxPatch {
    /// Display name.
    pub name: Option<String>,
    /// Settings to change.
    #[schema(value_type = Option<Object>)]
    pub channel: Option<Value>,
    /// New routing.
    pub routing: Option<Routing>,
    /// How far the inbox's agents reach into conversations assigned to another agent.
    pub others_access: Option<OthersAccess>,
    /// The schedule whose hours the inbox keeps; `null` lets go of it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub schedule_id: Option<Option<i64>>,
    /// The reply customers get when they write while the schedule is closed.
    pub out_of_office: Option<OutOfOffice>,
    /// Whether customers are asked to rate a conversation when it is first resolved.
    pub csat: Option<CsatSettings>,
    /// Channel fallback: `{enabled, order: [channel type, ...]}`.
    pub fallback: Option<FallbackSettings>,
}

/// Names the field of a settings error whose detail starts with it (`csat.message must...`).
fn field_error(e: ApiError) -> ApiError {
    let settings = ["out_of_office", "csat.", "fallback."];
    if settings.iter().any(|p| e.detail.starts_with(p)) {
        let field = e
            .detail
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned();
        e.with_field(field)
    } else {
        e
    }
}

/// `Some(None)` for an explicit `null`, so "absent" and "let go" differ.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    Ok(Some(Option::<i64>::deserialize(d)?))
}

fn check_routing(r: &Routing) -> Result<(), ApiError> {
    check_skills(&r.skills)?;
    if !(0..=100).contains(&r.priority) {
        return Err(ApiError::invalid(
            "routing.priority must be between 0 and 100",
        ));
    }
    Ok(())
}

/// Validates `{type, ...}` and returns the type, public settings and encrypted secrets.
fn prepare(st: &AppState, channel: Value) -> Result<(String, Value, Option<String>), ApiError> {
    let Value::Object(mut obj) = channel else {
        return Err(ApiError::invalid("channel must be an object with a type"));
    };
    let kind = match obj.remove("type") {
        Some(Value::String(k)) => k,
        _ => {
            return Err(ApiError::invalid(format!(
                "channel.type is required; available: {}",
                st.registry.kinds()
            )));
        }
    };
    let factory = st.registry.get(&kind).ok_or_else(|| {
        ApiError::invalid(format!(
            "channel type {kind:?} is unknown; available: {}",
            st.registry.kinds()
        ))
    })?;
    let mut settings = factory
        .validate(Value::Object(obj))
        .map_err(|e| settings_error(&kind, e))?;
    crate::provider_targets::check(&settings, st.config.channels.allow_private_targets)?;
    let secrets = take_secrets(&mut settings, factory.secret_fields());
    let ciphertext = (!secrets.is_empty()).then(|| {
        st.keys
            .encrypt(&serde_json::to_vec(&secrets).unwrap_or_default())
    });
    Ok((kind, settings, ciphertext))
}

/// A settings error, carrying the field it names (`imap.port: ...` → `channel.imap.port`).
fn settings_error(kind: &str, e: kefu_channel::ChannelError) -> ApiError {
    let err = ApiError::invalid(format!("channel: {e}"));
    let message = match &e {
        kefu_channel::ChannelError::InvalidSettings(m) | kefu_channel::ChannelError::Fatal(m) => m,
    };
    match settings_field(kind, message) {
        Some(path) => err.with_field(format!("channel.{path}")),
        None => err,
    }
}

/// Creates an inbox (admins).
#[utoipa::path(post, path = "/api/v1/inboxes", tag = "inboxes", request_body = NewInbox,
    responses((status = 201, body = InboxView), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn create(
    State(st): State<AppState>,
    me: Authed,
    ApiJson(req): ApiJson<NewInbox>,
) -> ApiResult<(StatusCode, Json<InboxView>)> {
    me.require(Role::Admin)?;
    let routing = req.routing.unwrap_or_default();
    check_routing(&routing)?;
    let (kind, settings, secrets) = prepare(&st, req.channel)?;
    let row = st
        .inbox_store
        .create(NewInboxRow {
            name: req.name,
            channel_type: kind,
            settings,
            secrets_ciphertext: secrets,
            routing: json!(routing),
            others_access: req.others_access.unwrap_or_default(),
        })
        .await?;
    st.runner.start(&st.inboxes.config(&row));
    crate::inbox_sync::changed(&st, row.id);
    define_form_fields(&st, &row.settings).await;
    Ok((StatusCode::CREATED, Json(view(&st, &row, &me))))
}

/// Lists inboxes: every inbox for admins, the inboxes they belong to for everyone else.
#[utoipa::path(get, path = "/api/v1/inboxes", tag = "inboxes", responses((status = 200, body = InboxList)), security(("bearer" = [])))]
pub async fn list(State(st): State<AppState>, me: Authed) -> ApiResult<Json<InboxList>> {
    let visibility = me.visibility(&st).await?;
    let rows = st.inbox_store.list().await?;
    Ok(Json(InboxList {
        items: rows
            .iter()
            .filter(|r| visibility.belongs_to(r.id))
            .map(|r| view(&st, r, &me))
            .collect(),
    }))
}

/// One inbox.
#[utoipa::path(get, path = "/api/v1/inboxes/{id}", tag = "inboxes",
    responses((status = 200, body = InboxView), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<InboxView>> {
    if !me.visibility(&st).await?.belongs_to(id) {
        return Err(ApiError::not_found("inbox"));
    }
    Ok(Json(view(&st, &st.inbox_store.get(id).await?, &me)))
}

/// Who belongs to an inbox: agents directly and teams (whose members belong through them).
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InboxMembers {
    /// Agents who belong directly.
    #[serde(default)]
    pub agent_ids: Vec<i64>,
    /// Teams whose members belong.
    #[serde(default)]
    pub team_ids: Vec<i64>,
}

/// An inbox's members (supervisors).
#[utoipa::path(get, path = "/api/v1/inboxes/{id}/members", tag = "inboxes",
    responses((status = 200, body = InboxMembers), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_members(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<InboxMembers>> {
    me.require(Role::Supervisor)?;
    st.inbox_store.get(id).await?;
    let m = st.accounts.access.members(id).await?;
    Ok(Json(InboxMembers {
        agent_ids: m.agent_ids,
        team_ids: m.team_ids,
    }))
}

/// Replaces an inbox's members (admins). Agents who gain or lose access see it at once: their
/// open consoles reload what they may see.
#[utoipa::path(put, path = "/api/v1/inboxes/{id}/members", tag = "inboxes", request_body = InboxMembers,
    responses((status = 200, body = InboxMembers), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn put_members(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<InboxMembers>,
) -> ApiResult<Json<InboxMembers>> {
    me.require(Role::Admin)?;
    st.inbox_store.get(id).await?;
    let new = Members {
        agent_ids: req.agent_ids,
        team_ids: req.team_ids,
    };
    let access = &st.accounts.access;
    let old = access.set_members(id, &new).await.map_err(|e| {
        let e = ApiError::from(e);
        let field = ["agent_ids", "team_ids"]
            .into_iter()
            .find(|f| e.detail.starts_with(f));
        match field {
            Some(f) => e.with_field(f),
            None => e,
        }
    })?;
    let teams: Vec<i64> = old.team_ids.iter().chain(&new.team_ids).copied().collect();
    for agent_id in old
        .agent_ids
        .iter()
        .chain(&new.agent_ids)
        .copied()
        .chain(access.team_agents(&teams).await?)
    {
        let _ = st.accounts.changed.send(agent_id);
    }
    let m = access.members(id).await?;
    Ok(Json(InboxMembers {
        agent_ids: m.agent_ids,
        team_ids: m.team_ids,
    }))
}

/// Changes an inbox (admins).
#[utoipa::path(patch, path = "/api/v1/inboxes/{id}", tag = "inboxes", request_body = InboxPatch,
    responses((status = 200, body = InboxView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn update(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<InboxPatch>,
) -> ApiResult<Json<InboxView>> {
    me.require(Role::Admin)?;
    let row = st.inbox_store.get(id).await?;
    if let Some(Some(schedule)) = req.schedule_id
        && !st.schedules.exists(schedule).await?
    {
        return Err(
            ApiError::invalid(format!("schedule {schedule} does not exist"))
                .with_field("schedule_id"),
        );
    }
    let mut change = InboxChange {
        name: req.name,
        others_access: req.others_access,
        schedule_id: req.schedule_id,
        out_of_office: req.out_of_office,
        csat: req.csat,
        fallback: req
            .fallback
            .map(|f| f.checked(|t| st.registry.get(t).is_some()))
            .transpose()
            .map_err(|e| field_error(ApiError::from(e)))?,
        ..Default::default()
    };
    if let Some(r) = &req.routing {
        check_routing(r)?;
        change.routing_defaults = Some(json!(r));
    }
    if let Some(patch) = req.channel {
        if let Some(t) = patch.get("type").and_then(Value::as_str)
            && t != row.channel_type
        {
            return Err(ApiError::invalid(
                "channel.type cannot change; create a new inbox instead",
            ));
        }
        let mut current = st.inboxes.config(&row).settings;
        merge_patch(&mut current, patch);
        if let Some(o) = current.as_object_mut() {
            o.insert("type".into(), json!(row.channel_type));
        }
        let (_, settings, secrets) = prepare(&st, current)?;
        change.channel = Some((settings, secrets));
    }
    let row = st
        .inbox_store
        .update(row, change)
        .await
        .map_err(|e| field_error(ApiError::from(e)))?;
    st.inboxes.forget(id);
    st.runner.start(&st.inboxes.config(&row));
    crate::inbox_sync::changed(&st, id);
    define_form_fields(&st, &row.settings).await;
    Ok(Json(view(&st, &row, &me)))
}

/// Deletes an inbox (admins). Its conversations and messages stay readable.
#[utoipa::path(delete, path = "/api/v1/inboxes/{id}", tag = "inboxes",
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn delete(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    me.require(Role::Admin)?;
    st.inbox_store.delete(id).await?;
    st.inboxes.forget(id);
    st.runner.stop(id);
    crate::inbox_sync::changed(&st, id);
    Ok(StatusCode::NO_CONTENT)
}

/// Defines a `text` contact attribute for each pre-chat form field (`pre_chat.fields`) that has
/// no definition yet, so that the answers visitors give show in the contact panel. A failure
/// leaves the inbox saved and is logged: the answers are stored either way.
async fn define_form_fields(st: &AppState, settings: &Value) {
    let fields = settings
        .pointer("/pre_chat/fields")
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    for f in fields {
        let (Some(key), Some(label)) = (
            f.get("key").and_then(Value::as_str),
            f.get("label").and_then(Value::as_str),
        ) else {
            continue;
        };
        if let Err(e) = st.attributes.define_text(key, label).await {
            tracing::warn!(key, error = %e, "Defining a pre-chat field's attribute failed.");
        }
    }
}

/// RFC 7386 JSON merge patch: objects merge recursively, `null` removes, anything else replaces.
fn merge_patch(target: &mut Value, patch: Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(&k);
                } else {
                    merge_patch(t.entry(k).or_insert(Value::Null), v);
                }
            }
        }
        (t, p) => *t = p,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_patch_keeps_what_is_left_out() {
        let mut t = json!({"imap": {"host": "a", "password": "p"}, "address": "x@y"});
        merge_patch(&mut t, json!({"imap": {"host": "b"}, "address": null}));
        assert_eq!(t, json!({"imap": {"host": "b", "password": "p"}}));
    }
}
