//! Routing newly queued conversations: the inbox's rules, applied to the first message of the
//! current wait and the contact, decide required skills, priority and team.
//!
//! "First message of the current wait" is the first inbound message after the conversation was
//! last resolved (so a reopened conversation is routed by what the customer wrote when they came
//! back), or the latest inbound message when there is none (an agent reopened it).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono::Utc;
use kefu_ai::{Detection, IntentDetector};
use kefu_normalizer::Status;
use kefu_normalizer::activities::{self, NewActivity};
use kefu_normalizer::entity::{contact, conversation};
use kefu_normalizer::intents::IntentMatch;
use kefu_normalizer::{ActivityKind, Db};
use sea_orm::sea_query::{CaseStatement, Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set, Statement,
};
use serde_json::{Value, json};

use super::entity::routing_state;
use super::error::DispatchError;
use super::snapshot::InboxRouting;
use crate::routing::{FirstMessage, RoutingDecision, RuleHit, evaluate};

/// Conversations routed per transaction.
const CHUNK: usize = 500;

/// Starts another dispatcher round.
pub type Waker = Arc<dyn Fn() + Send + Sync>;

/// Routes `convs` (queued, not yet routed for their current wait); returns how many were routed.
/// A conversation that changed meanwhile (assigned, queued again) is skipped; the next round
/// sees its new state.
///
/// With `intents`, the intent of each first message is detected first, so rules can match it
/// (`when.intent`), and stored on the conversation with the routing decision. A conversation
/// whose message the intents' language model is still classifying is left for a later round,
/// which `wake` starts when the model has answered.
pub async fn route_new(
    db: &Db,
    inboxes: &BTreeMap<i64, InboxRouting>,
    convs: &[conversation::Model],
    intents: Option<&IntentDetector>,
    wake: Waker,
) -> Result<usize, DispatchError> {
    let mut routed = 0;
    // Most rounds route nothing: no query for the intents then.
    let intents = match intents {
        Some(d) if !convs.is_empty() => ready(d).await,
        _ => None,
    };
    for chunk in convs.chunks(CHUNK) {
        let ids: Vec<i64> = chunk.iter().map(|c| c.id).collect();
        let firsts = first_messages(db, &ids).await?;
        let (detected, waiting) = detect(intents, chunk, &firsts, &wake);
        let contact_ids: Vec<i64> = chunk.iter().map(|c| c.contact_id).collect();
        let attributes: HashMap<i64, Value> = contact::Entity::find()
            .filter(contact::Column::Id.is_in(contact_ids))
            .all(db.conn())
            .await?
            .into_iter()
            .map(|c| (c.id, c.attributes))
            .collect();
        let none = Value::Null;
        let decisions: HashMap<i64, RoutingDecision> = chunk
            .iter()
            .filter(|c| !waiting.contains(&c.id))
            .map(|c| {
                let inbox = inboxes.get(&c.inbox_id);
                let first = firsts.get(&c.id);
                let msg = FirstMessage {
                    text: first.map(|f| f.text.as_str()).unwrap_or(""),
                    channel: inbox.map(|i| i.channel_type.as_str()).unwrap_or(""),
                    contact_attributes: attributes.get(&c.contact_id).unwrap_or(&none),
                    intent: detected.get(&c.id).and_then(|m| m.intent.as_deref()),
                };
                let config = inbox.map(|i| i.config.clone()).unwrap_or_default();
                let mut decision = evaluate(&config, &msg);
                if let Some(hit) = first.and_then(|f| f.sensitive_route.as_ref()) {
                    sensitive_route(&mut decision, hit);
                }
                (c.id, decision)
            })
            .collect();
        routed += store(db, chunk, &decisions, &detected).await?;
    }
    Ok(routed)
}

/// The detector with its index brought up to date, or `None` when no intent is enabled (or
/// the intents cannot be read: routing goes on without them).
async fn ready(d: &IntentDetector) -> Option<&IntentDetector> {
    if let Err(e) = d.refresh().await {
        tracing::warn!(error = %e, "Cannot read the intents; routing without them.");
    }
    (!d.is_empty()).then_some(d)
}

/// The intent of each first message with text in `chunk`, and the conversations whose
/// message waits for the language model (not routed this round; `wake` starts another round
/// once the model has answered).
fn detect(
    intents: Option<&IntentDetector>,
    chunk: &[conversation::Model],
    firsts: &HashMap<i64, First>,
    wake: &Waker,
) -> (HashMap<i64, IntentMatch>, HashSet<i64>) {
    let (mut detected, mut waiting) = (HashMap::new(), HashSet::new());
    let Some(d) = intents else {
        return (detected, waiting);
    };
    let now = Utc::now();
    for c in chunk {
        let Some(f) = firsts.get(&c.id).filter(|f| !f.text.trim().is_empty()) else {
            continue;
        };
        let wake = wake.clone();
        match d.detect_first(c.inbox_id, f.message_id, &f.text, move || wake()) {
            Ok(Detection::Ready(m)) => {
                detected.insert(
                    c.id,
                    IntentMatch {
                        message_id: Some(f.message_id),
                        detected_at: Some(now),
                        ..m
                    },
                );
            }
            Ok(Detection::Waiting) => {
                waiting.insert(c.id);
            }
            Err(e) => {
                tracing::warn!(conversation = c.id, error = %e, "Intent detection failed.");
            }
        }
    }
    (detected, waiting)
}

/// Writes the decisions of conversations still queued for the same wait, under their row locks.
async fn store(
    db: &Db,
    chunk: &[conversation::Model],
    decisions: &HashMap<i64, RoutingDecision>,
    detected: &HashMap<i64, IntentMatch>,
) -> Result<usize, DispatchError> {
    let now = Utc::now();
    let tx = db.begin_write().await?;
    let mut q = conversation::Entity::find()
        .filter(conversation::Column::Id.is_in(chunk.iter().map(|c| c.id)))
        .filter(conversation::Column::Status.eq(Status::Queued));
    if db.is_postgres() {
        q = q.lock_exclusive();
    }
    let current = q.all(&*tx).await?;
    // Routed meanwhile for the same wait (handed to a team by a sensitive-word rule): leave it.
    let routed: HashMap<i64, Option<chrono::DateTime<Utc>>> = routing_state::Entity::find()
        .filter(routing_state::Column::ConversationId.is_in(current.iter().map(|c| c.id)))
        .all(&*tx)
        .await?
        .into_iter()
        .map(|r| (r.conversation_id, r.routed_for))
        .collect();
    let mut states = Vec::new();
    let (mut skills_case, mut priority_case, mut team_case) = (
        CaseStatement::new(),
        CaseStatement::new(),
        CaseStatement::new(),
    );
    let mut changed = Vec::new();
    let (mut intent_case, mut match_case, mut matched) =
        (CaseStatement::new(), CaseStatement::new(), Vec::new());
    let mut lines = Vec::new();
    for c in current {
        let seen = chunk.iter().find(|s| s.id == c.id);
        let Some(d) = decisions.get(&c.id) else {
            continue;
        };
        if seen.map(|s| s.queued_at) != Some(c.queued_at) {
            continue;
        }
        let enqueued_at = c.queued_at.unwrap_or(c.created_at);
        if routed.get(&c.id).copied().flatten() == Some(enqueued_at) {
            continue;
        }
        let skills = json!(d.skills);
        if c.skills != skills || c.priority != d.priority || c.team_id != d.team_id {
            let is = || conversation::Column::Id.eq(c.id);
            skills_case = skills_case.case(is(), Expr::val(skills));
            priority_case = priority_case.case(is(), Expr::val(d.priority));
            team_case = team_case.case(is(), Expr::val(d.team_id));
            changed.push(c.id);
        }
        if let Some(m) = detected.get(&c.id) {
            let is = || conversation::Column::Id.eq(c.id);
            intent_case = intent_case.case(is(), Expr::val(m.intent.clone()));
            match_case = match_case.case(is(), Expr::val(json!(m)));
            matched.push(c.id);
            if m.intent.is_some() && m.intent != c.intent {
                lines.push(
                    NewActivity::new(c.id, ActivityKind::IntentDetected, None).details(
                        match &m.source {
                            Some(source) => {
                                json!({"intent": m.intent, "score": m.score, "source": source})
                            }
                            None => json!({"intent": m.intent, "score": m.score}),
                        },
                    ),
                );
            }
        }
        if !d.hits.is_empty() {
            let rules: Vec<String> = d
                .hits
                .iter()
                .map(|h| {
                    h.name
                        .clone()
                        .unwrap_or_else(|| format!("#{}", h.index + 1))
                })
                .collect();
            lines.push(
                NewActivity::new(c.id, ActivityKind::Routed, None)
                    .details(json!({ "rules": rules })),
            );
        }
        if c.priority != d.priority {
            lines.push(
                NewActivity::new(c.id, ActivityKind::PriorityChanged, None)
                    .details(json!({"from": c.priority, "to": d.priority})),
            );
        }
        states.push(routing_state::ActiveModel {
            conversation_id: Set(c.id),
            routed_for: Set(Some(enqueued_at)),
            rule_hits: Set(json!(d.hits)),
            notified_for: Set(None),
            updated_at: Set(now),
        });
    }
    if !changed.is_empty() {
        // One statement for the chunk instead of one per conversation. Every row filtered has a
        // WHEN, so no ELSE (on PostgreSQL an ELSE of the `json` column would clash with the
        // `jsonb` parameters).
        use conversation::Column as C;
        conversation::Entity::update_many()
            .col_expr(C::Skills, skills_case.into())
            .col_expr(C::Priority, priority_case.into())
            .col_expr(C::TeamId, team_case.into())
            .filter(C::Id.is_in(changed))
            .exec(&*tx)
            .await?;
    }
    if !matched.is_empty() {
        use conversation::Column as C;
        conversation::Entity::update_many()
            .col_expr(C::Intent, intent_case.into())
            .col_expr(C::IntentMatch, match_case.into())
            .filter(C::Id.is_in(matched))
            .exec(&*tx)
            .await?;
    }
    activities::record(&*tx, lines, now).await?;
    let n = states.len();
    if n > 0 {
        routing_state::Entity::insert_many(states)
            .on_conflict(
                OnConflict::column(routing_state::Column::ConversationId)
                    .update_columns([
                        routing_state::Column::RoutedFor,
                        routing_state::Column::RuleHits,
                        routing_state::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec(&*tx)
            .await?;
    }
    tx.commit().await?;
    Ok(n)
}

/// What routing reads of a conversation's first message.
struct First {
    message_id: i64,
    text: String,
    /// `(team_id, rule, term)` of a sensitive-word `route` rule that matched it.
    sensitive_route: Option<(i64, String, String)>,
}

/// A sensitive-word `route` rule matched the first message (see `kefu_ai::sensitive`): the
/// conversation waits for that team's members (any skills), whatever the inbox rules said.
fn sensitive_route(decision: &mut RoutingDecision, (team, rule, term): &(i64, String, String)) {
    decision.team_id = Some(*team);
    decision.skills.clear();
    decision.hits.push(RuleHit {
        index: 0,
        name: Some(rule.clone()),
        why: vec![format!("sensitive word {term:?}")],
    });
}

/// The first `route` finding recorded on a message's content (`extra.sensitive`).
fn route_finding(content: &Value) -> Option<(i64, String, String)> {
    content["extra"]["sensitive"]
        .as_array()?
        .iter()
        .find_map(|f| {
            (f["action"] == "route").then_some(())?;
            let text = |k: &str| f[k].as_str().unwrap_or_default().to_owned();
            Some((f["team_id"].as_i64()?, text("rule"), text("term")))
        })
}

/// The text of each conversation's first inbound message since it was last resolved, falling
/// back to its latest inbound message.
async fn first_messages(db: &Db, ids: &[i64]) -> Result<HashMap<i64, First>, DispatchError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    // Ids are integers from the database, so listing them inline is safe and keeps one
    // statement text for both backends.
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let pick = |agg: &str, since_resolve: bool| {
        let cond = if since_resolve {
            "AND (c.resolved_at IS NULL OR mm.created_at > c.resolved_at)"
        } else {
            ""
        };
        format!(
            "SELECT m.id, m.conversation_id, m.text, m.content FROM messages m JOIN (\
               SELECT mm.conversation_id, {agg}(mm.seq) AS seq FROM messages mm \
               JOIN conversations c ON c.id = mm.conversation_id \
               WHERE mm.conversation_id IN ({list}) AND mm.direction = 'inbound' {cond} \
               GROUP BY mm.conversation_id) f \
             ON f.conversation_id = m.conversation_id AND f.seq = m.seq"
        )
    };
    let backend = db.conn().get_database_backend();
    let mut out = HashMap::new();
    for sql in [pick("MIN", true), pick("MAX", false)] {
        for r in db
            .conn()
            .query_all_raw(Statement::from_string(backend, sql))
            .await?
        {
            let id: i64 = r.try_get("", "conversation_id")?;
            let text: String = r.try_get("", "text")?;
            let content: Value = r.try_get("", "content")?;
            let sensitive_route = route_finding(&content);
            out.entry(id).or_insert(First {
                message_id: r.try_get("", "id")?,
                text,
                sensitive_route,
            });
        }
        if out.len() == ids.len() {
            break;
        }
    }
    Ok(out)
}

/// Marks `conv` as routed for its current wait with `rule_hits` (`None` keeps the stored hits),
/// inside the caller's transaction. Used when a transfer or an offline agent puts a
/// conversation back in the queue with requirements that the rules must not recompute.
pub async fn mark_routed<C: ConnectionTrait>(
    tx: &C,
    conv: &conversation::Model,
    rule_hits: Option<Value>,
) -> Result<(), DispatchError> {
    let now = Utc::now();
    let enqueued_at = conv.queued_at.unwrap_or(conv.created_at);
    let existing = routing_state::Entity::find_by_id(conv.id)
        .select_only()
        .column(routing_state::Column::RuleHits)
        .into_tuple::<Value>()
        .one(tx)
        .await?;
    let hits = rule_hits.or(existing).unwrap_or_else(|| json!([]));
    routing_state::Entity::insert(routing_state::ActiveModel {
        conversation_id: Set(conv.id),
        routed_for: Set(Some(enqueued_at)),
        rule_hits: Set(hits),
        notified_for: Set(None),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(routing_state::Column::ConversationId)
            .update_columns([
                routing_state::Column::RoutedFor,
                routing_state::Column::RuleHits,
                routing_state::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec(tx)
    .await?;
    Ok(())
}
