//! Routing: per-inbox routing rules, transfers, claims, routing explanations and queue
//! position. The policy lives in `kefu_dispatcher::routing`, the database side in
//! `kefu_dispatcher::assign`; these handlers check roles and translate errors.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kefu_dispatcher::assign::{DispatchError, Dispatcher, TransferTarget};
use kefu_dispatcher::routing::{self, RoutingConfig};
use kefu_normalizer::entity::inbox;
use kefu_normalizer::views::ConversationView;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::access::{ActOnConversation, ReadConversation};
use crate::auth::{Authed, Role};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

impl From<DispatchError> for ApiError {
    fn from(e: DispatchError) -> Self {
        match e {
            DispatchError::NotFound(what) => Self::not_found(what),
            DispatchError::Invalid(d) => Self::invalid(d),
            DispatchError::IllegalTransition(t) => {
                Self::new(StatusCode::CONFLICT, "illegal_transition", t.to_string())
            }
            e @ DispatchError::AtCapacity { .. } => {
                Self::new(StatusCode::CONFLICT, "agent_at_capacity", e.to_string())
            }
            DispatchError::Conflict(d) => Self::conflict(d),
            DispatchError::Forbidden(d) => Self::forbidden(d),
            DispatchError::Store(s) => s.into(),
        }
    }
}

/// An inbox's routing configuration: default `skills` and `priority`, ordered `rules`,
/// `overflow` (`overflow_after_secs`, `step_secs`, `fallback_team_id`, `max_wait_secs`,
/// `max_wait_message`), `sticky_window_secs` and `allow_claim`. See the README for the rule
/// language.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoutingConfigView {
    /// The inbox.
    pub inbox_id: i64,
    /// The configuration.
    #[schema(value_type = Object)]
    pub routing: Value,
}

fn show(row: &inbox::Model) -> RoutingConfigView {
    let parsed = Dispatcher::parse_config(row.routing.clone()).unwrap_or_default();
    RoutingConfigView {
        inbox_id: row.id,
        routing: serde_json::to_value(parsed).unwrap_or_default(),
    }
}

/// An inbox's routing configuration.
#[utoipa::path(get, path = "/api/v1/inboxes/{id}/routing", tag = "routing",
    responses((status = 200, body = RoutingConfigView), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get_config(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<RoutingConfigView>> {
    if !me.visibility(&st).await?.belongs_to(id) {
        return Err(ApiError::not_found("inbox"));
    }
    Ok(Json(show(&st.inbox_store.get(id).await?)))
}

/// Replaces an inbox's routing configuration (admins). Every problem is reported at once, each
/// with the rule index and field. Applies to conversations routed from now on.
#[utoipa::path(put, path = "/api/v1/inboxes/{id}/routing", tag = "routing", request_body = Object,
    responses((status = 200, body = RoutingConfigView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn put_config(
    State(st): State<AppState>,
    me: Authed,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Json<RoutingConfigView>> {
    me.require(Role::Admin)?;
    let config = parse_routing(body)?;
    check_intents(&st, &config).await?;
    let routing = serde_json::to_value(&config).map_err(ApiError::internal)?;
    let row = st.inbox_store.set_routing(id, routing).await?;
    st.dispatcher.wake();
    Ok(Json(show(&row)))
}

/// Parses a routing configuration, reporting the first offending field in `field`.
fn parse_routing(body: Value) -> Result<RoutingConfig, ApiError> {
    let config = routing::parse_checked(body).map_err(|e| {
        let err = ApiError::invalid(e.detail);
        match e.field {
            Some(f) => err.with_field(f),
            None => err,
        }
    })?;
    super::agents::check_skills(&config.default_skills).map_err(|e| e.with_field("skills"))?;
    Ok(config)
}

/// Refuses a `when.intent` naming no stored intent (a typo would never match).
async fn check_intents(st: &AppState, config: &RoutingConfig) -> Result<(), ApiError> {
    if config.rules.iter().all(|r| r.when.intent.is_empty()) {
        return Ok(());
    }
    let known = st.intents.store().names().await?;
    config.check_intents(&known).map_err(|errors| {
        let field = errors.0.first().map(|e| match e.rule {
            Some(i) => format!("rules[{i}].{}", e.field),
            None => e.field.clone(),
        });
        let err = ApiError::invalid(errors.to_string());
        match field {
            Some(f) => err.with_field(f),
            None => err,
        }
    })
}

/// The intent detected in `text`, as routing would detect it; `None` when no intent is
/// enabled or the detector failed (logged).
async fn detect_intent(st: &AppState, text: &str) -> Option<kefu_normalizer::intents::IntentMatch> {
    if let Err(e) = st.intents.refresh().await {
        tracing::warn!(error = %e, "Cannot read the intents.");
    }
    if st.intents.is_empty() || text.trim().is_empty() {
        return None;
    }
    st.intents
        .detect(text)
        .inspect_err(|e| tracing::warn!(error = %e, "Intent detection failed."))
        .ok()
}

/// A message to try an inbox's routing with.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TryRequest {
    /// The first message's text.
    pub text: String,
    /// The channel type rules see; the inbox's own when left out.
    pub channel: Option<String>,
    /// The contact's attributes, e.g. `{"vip_level": 3}`.
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<Value>,
    /// An unsaved routing configuration to try instead of the stored one (same shape and
    /// validation as `PUT /api/v1/inboxes/{id}/routing`).
    #[schema(value_type = Option<Object>)]
    pub config: Option<Value>,
}

/// Which rules a message matches and the resulting requirements.
#[derive(Debug, Serialize, ToSchema)]
pub struct TryResult {
    /// `{rules: [{index, name, matched, why}], requirements: {skills, priority, team_id},
    /// language}`: every rule in order, whether it matched and on which conditions, and what
    /// the conversation would require.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub trial: Value,
    /// The intent detected in the text, with its score and candidates (`null` when no intent
    /// is defined).
    pub intent: Option<kefu_normalizer::intents::IntentMatch>,
}

/// Tries a message against the inbox's routing (or an unsaved configuration): which rules
/// match and the resulting requirements. Changes nothing.
#[utoipa::path(post, path = "/api/v1/inboxes/{id}/routing/try", tag = "routing", request_body = TryRequest,
    params(("id" = i64, Path, description = "Inbox id")),
    responses((status = 200, body = TryResult), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn try_routing(
    State(st): State<AppState>,
    _me: Authed,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<TryRequest>,
) -> ApiResult<Json<TryResult>> {
    let row = st.inbox_store.get(id).await?;
    let config = match req.config {
        Some(v) => parse_routing(v).map_err(|e| match e.field.clone() {
            Some(f) => e.with_field(format!("config.{f}")),
            None => e,
        })?,
        None => Dispatcher::parse_config(row.routing.clone()).unwrap_or_default(),
    };
    let attributes = req.attributes.unwrap_or_else(|| json!({}));
    if !attributes.is_object() {
        return Err(
            ApiError::invalid("attributes must be an object, e.g. {\"vip_level\": 3}")
                .with_field("attributes"),
        );
    }
    let intent = detect_intent(&st, &req.text).await;
    let trial = routing::try_message(
        &config,
        &routing::FirstMessage {
            text: &req.text,
            channel: req.channel.as_deref().unwrap_or(&row.channel_type),
            contact_attributes: &attributes,
            intent: intent.as_ref().and_then(|m| m.intent.as_deref()),
        },
    );
    Ok(Json(TryResult {
        trial: serde_json::to_value(trial).map_err(ApiError::internal)?,
        intent,
    }))
}

/// Where to transfer: exactly one of `agent_id`, `team_id`, `skills`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    /// Straight to this agent, who must have room.
    pub agent_id: Option<i64>,
    /// Back to the queue for this team's members.
    pub team_id: Option<i64>,
    /// Back to the queue for agents with these skills (levels 1–10).
    pub skills: Option<std::collections::BTreeMap<String, u8>>,
}

/// Transfers a conversation (its assignee, or a supervisor): to an agent directly, or back to
/// the queue for a team or a skill set.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/transfer", tag = "routing", request_body = TransferRequest,
    responses((status = 200, body = ConversationView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn transfer(
    State(st): State<AppState>,
    ActOnConversation { me, conversation }: ActOnConversation,
    ApiJson(req): ApiJson<TransferRequest>,
) -> ApiResult<Json<ConversationView>> {
    let id = conversation.id;
    let target = match (req.agent_id, req.team_id, req.skills) {
        (Some(a), None, None) => TransferTarget::Agent(a),
        (None, Some(t), None) => TransferTarget::Team(t),
        (None, None, Some(s)) => {
            super::agents::check_skills(&s)?;
            TransferTarget::Skills(s)
        }
        _ => {
            return Err(ApiError::invalid(
                "give exactly one of agent_id, team_id or skills",
            ));
        }
    };
    if conversation.assignee_id != Some(me.agent.id) {
        me.require(Role::Supervisor)?;
    }
    Ok(Json(
        st.dispatcher
            .transfer(id, &target, Some(me.agent.id))
            .await?,
    ))
}

/// Takes a queued conversation for yourself. Agents need the inbox's `allow_claim`;
/// supervisors may always. The agent must be online and have room.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/claim", tag = "routing",
    responses((status = 200, body = ConversationView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn claim(
    State(st): State<AppState>,
    ActOnConversation { me, conversation }: ActOnConversation,
) -> ApiResult<Json<ConversationView>> {
    let force = me.role >= Role::Supervisor;
    Ok(Json(
        st.dispatcher
            .claim(conversation.id, me.agent.id, force)
            .await?,
    ))
}

/// Why a conversation is routed and assigned as it is.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoutingExplanation {
    /// `{conversation_id, status, assignee_id, skills, priority, team_id, routed_for,
    /// rule_hits, decision: {agent_id, reason, explanation, decided_at}, history}`; an
    /// automatic decision's `explanation` has the overflow `stage`, the `requirements`, the
    /// `candidates` considered with `load`, `proficiency`, `idle_secs` or `why_not`, and the
    /// `winner_criteria`.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub routing: Value,
}

/// The routing explanation of a conversation: the rule hits and every assignment with the
/// candidates considered and the deciding criterion.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/routing", tag = "routing",
    responses((status = 200, body = RoutingExplanation), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn explain(
    State(st): State<AppState>,
    c: ReadConversation,
) -> ApiResult<Json<RoutingExplanation>> {
    let v = st.dispatcher.explain(c.conversation.id).await?;
    Ok(Json(RoutingExplanation {
        routing: serde_json::to_value(v).map_err(ApiError::internal)?,
    }))
}

/// A conversation's place in its inbox's queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueView {
    /// `true` while the conversation waits for an agent.
    pub queued: bool,
    /// 1 for the next one served; absent when not queued.
    pub position: Option<usize>,
    /// Conversations waiting in the inbox.
    pub queue_length: Option<usize>,
    /// Seconds waited so far.
    pub waited_secs: Option<i64>,
    /// Rough estimate of the remaining wait, from the recent assignment rate.
    pub estimated_wait_secs: Option<u64>,
}

/// Queue position and wait estimate of a conversation.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/queue", tag = "routing",
    responses((status = 200, body = QueueView), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn queue(State(st): State<AppState>, c: ReadConversation) -> ApiResult<Json<QueueView>> {
    let q = st.dispatcher.queue_status(c.conversation.id).await?;
    Ok(Json(QueueView {
        queued: q.is_some(),
        position: q.as_ref().map(|q| q.position),
        queue_length: q.as_ref().map(|q| q.queue_length),
        waited_secs: q.as_ref().map(|q| q.waited_secs),
        estimated_wait_secs: q.and_then(|q| q.estimated_wait_secs),
    }))
}
