//! Conversation summaries, written when a conversation is resolved or transferred: a header
//! of facts (channel, duration, labels, the last open question, intent) and a few sentences
//! of the conversation, so whoever picks it up next, or a system receiving
//! `conversation.resolved`, knows what it was about without reading the thread.
//!
//! This module reads what a summary is made from ([`SummaryInput`]: the last
//! [`READ_MESSAGES`] messages, without private notes) and stores what a [`Summarizer`] makes
//! of it, inside the transaction that resolves or transfers, so the event and the timeline
//! line always carry it. The summarizing itself is elsewhere: the gateway plugs in
//! `kefu_ai::summary::Extractive` (offline TextRank); a language model can be another
//! [`Summarizer`] writing the same [`SummaryBody`].

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::entity::conversation_summary::{self, Occasion};
use crate::entity::message::SenderType;
use crate::entity::{contact, conversation, message};
use crate::error::StoreError;
use crate::events::EventData;
use crate::views::ConversationView;

/// How many of the newest messages a summary reads.
pub const READ_MESSAGES: u64 = 200;

/// Who wrote a message a summary reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Speaker {
    /// The customer.
    Customer,
    /// An agent.
    Agent,
    /// The FAQ bot.
    Bot,
}

/// One message a summary reads.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryMessage {
    /// Who wrote it.
    pub speaker: Speaker,
    /// Its plain text.
    pub text: String,
}

/// Everything a summary is made from.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryInput {
    /// The inbox's channel type (`web_chat`, `wechat`, `email`...).
    pub channel: Option<String>,
    /// The conversation's labels, by name, sorted.
    pub labels: Vec<String>,
    /// The intent detected for it (`conversations.intent`), if any.
    pub intent: Option<String>,
    /// When its first message was written (`None` without messages).
    pub started_at: Option<DateTime<Utc>>,
    /// When it was resolved or transferred.
    pub ended_at: DateTime<Utc>,
    /// Its newest messages (at most [`READ_MESSAGES`]), oldest first, without private notes
    /// and Kefu's automatic messages.
    pub messages: Vec<SummaryMessage>,
}

/// The header of a summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SummaryFacts {
    /// The channel type the conversation came through.
    pub channel: Option<String>,
    /// Seconds from the first message to the resolve or transfer.
    pub duration_secs: Option<i64>,
    /// What the customer wanted: the intent detected in their first message of the current
    /// wait (see `kefu_normalizer::intents`), `null` when none matched.
    pub intent: Option<String>,
    /// The conversation's labels, by name.
    pub labels: Vec<String>,
    /// The customer's last question that no agent answered after it.
    pub open_question: Option<String>,
}

/// One sentence of a summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SummarySentence {
    /// Who said it.
    pub speaker: Speaker,
    /// The sentence (at most a few hundred characters).
    pub text: String,
}

/// What a [`Summarizer`] writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SummaryBody {
    /// Who wrote it: `extractive` (sentences chosen from the conversation by TextRank) or
    /// `llm` (the configured language model, which replaces the extractive summary after the
    /// resolve or transfer).
    pub source: String,
    /// The header.
    pub facts: SummaryFacts,
    /// The sentences that say most about the conversation, in the order they were said.
    pub sentences: Vec<SummarySentence>,
    /// With a language model configured: why it did not write this summary (a timeout, the
    /// API's error, an answer off the schema, the inbox's budget), so the extractive one stays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub llm_error: Option<String>,
}

/// A stored summary, as the API, the timeline and the events show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SummaryView {
    /// Summary id.
    pub id: i64,
    /// The conversation.
    pub conversation_id: i64,
    /// Written when it was resolved or transferred.
    pub occasion: Occasion,
    /// Who wrote it: `extractive` or `llm`.
    pub source: String,
    /// The header.
    pub facts: SummaryFacts,
    /// The sentences.
    pub sentences: Vec<SummarySentence>,
    /// Why the configured language model did not write it (absent without one, and when it
    /// did).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub llm_error: Option<String>,
    /// When it was written.
    pub created_at: DateTime<Utc>,
}

/// Writes summaries: a pure function of what it is given, run inside a write transaction, so
/// it must not wait on anything.
pub trait Summarizer: Send + Sync + 'static {
    /// The summary of `input`.
    fn summarize(&self, input: &SummaryInput) -> SummaryBody;
}

/// A summarizer to share.
pub type SharedSummarizer = Arc<dyn Summarizer>;

/// Reads what `conv` is summarized from, inside the caller's transaction.
pub async fn input<C: ConnectionTrait>(
    tx: &C,
    conv: &conversation::Model,
    ended_at: DateTime<Utc>,
) -> Result<SummaryInput, StoreError> {
    let channel = crate::delivery::channel_type(tx, conv.inbox_id).await?;
    let labels = crate::labels::of_conversations(tx, &[conv.id])
        .await?
        .remove(&conv.id)
        .unwrap_or_default();
    let started_at = message::Entity::find()
        .select_only()
        .column(message::Column::CreatedAt)
        .filter(message::Column::ConversationId.eq(conv.id))
        .order_by_asc(message::Column::Seq)
        .into_tuple::<DateTime<Utc>>()
        .one(tx)
        .await?;
    let mut rows = message::Entity::find()
        .filter(message::Column::ConversationId.eq(conv.id))
        .filter(message::Column::Private.eq(false))
        .filter(message::Column::SenderType.ne(SenderType::System))
        .order_by_desc(message::Column::Seq)
        .limit(READ_MESSAGES)
        .all(tx)
        .await?;
    rows.reverse();
    let messages = rows
        .into_iter()
        .filter_map(|m| {
            let speaker = match m.sender_type {
                SenderType::Contact => Speaker::Customer,
                SenderType::Agent => Speaker::Agent,
                SenderType::Bot => Speaker::Bot,
                SenderType::System => return None,
            };
            Some(SummaryMessage {
                speaker,
                text: m.text,
            })
        })
        .collect();
    Ok(SummaryInput {
        channel,
        labels,
        intent: conv.intent.clone(),
        started_at,
        ended_at,
        messages,
    })
}

/// Summarizes `conv` with `summarizer` and stores the summary, inside the caller's
/// transaction (the one that resolves or transfers it).
pub async fn write<C: ConnectionTrait>(
    tx: &C,
    summarizer: &dyn Summarizer,
    conv: &conversation::Model,
    occasion: Occasion,
    at: DateTime<Utc>,
) -> Result<SummaryView, StoreError> {
    // Stored to the microsecond on every backend: the event shows what the API reads back.
    let at = at.trunc_subsecs(6);
    let input = input(tx, conv, at).await?;
    let body = summarizer.summarize(&input);
    let row = conversation_summary::ActiveModel {
        conversation_id: Set(conv.id),
        occasion: Set(occasion),
        body: Set(serde_json::to_value(&body)
            .map_err(|e| StoreError::Invalid(format!("summary: {e}")))?),
        created_at: Set(at),
        ..Default::default()
    }
    .insert(tx)
    .await?;
    Ok(view(row.id, row.conversation_id, occasion, body, at))
}

fn view(
    id: i64,
    conversation_id: i64,
    occasion: Occasion,
    body: SummaryBody,
    created_at: DateTime<Utc>,
) -> SummaryView {
    SummaryView {
        id,
        conversation_id,
        occasion,
        source: body.source,
        facts: body.facts,
        sentences: body.sentences,
        llm_error: body.llm_error,
        created_at,
    }
}

/// Reads, outside a transaction, what conversation `conversation_id` is summarized from as of
/// `ended_at` (the language model rewrites a stored summary after the commit).
pub async fn input_of(
    db: &crate::Db,
    conversation_id: i64,
    ended_at: DateTime<Utc>,
) -> Result<SummaryInput, StoreError> {
    let conv = conversation::Entity::find_by_id(conversation_id)
        .one(db.conn())
        .await?
        .ok_or(StoreError::NotFound("conversation"))?;
    input(db.conn(), &conv, ended_at).await
}

/// Replaces the body of summary `id` with `body`, unless it was already replaced (its source
/// is no longer `extractive`); returns whether it was. The occasion, time and id stay, so the
/// timeline line and the list show the new body. A body from another source than the
/// extractive one (the language model's) is announced by `conversation.updated`, carrying the
/// new summary, in the same transaction.
pub async fn replace(db: &crate::Db, id: i64, body: &SummaryBody) -> Result<bool, StoreError> {
    let tx = db.begin_write().await?;
    let Some(row) = conversation_summary::Entity::find_by_id(id)
        .one(&*tx)
        .await?
    else {
        return Ok(false);
    };
    let current: Option<SummaryBody> = serde_json::from_value(row.body.clone()).ok();
    if current.is_none_or(|b| b.source != "extractive" || b.llm_error.is_some()) {
        return Ok(false);
    }
    let mut active: conversation_summary::ActiveModel = row.into();
    active.body =
        Set(serde_json::to_value(body).map_err(|e| StoreError::Invalid(format!("summary: {e}")))?);
    let row = active.update(&*tx).await?;
    if body.source != "extractive"
        && let Some(conv) = conversation::Entity::find_by_id(row.conversation_id)
            .one(&*tx)
            .await?
    {
        let contact = contact::Entity::find_by_id(conv.contact_id)
            .one(&*tx)
            .await?;
        let mut view = ConversationView::new(&conv, contact.as_ref());
        view.summary = decode(row);
        tx.emit(EventData::ConversationUpdated(view)).await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// Summary `id`, if it exists and decodes.
pub async fn get(db: &crate::Db, id: i64) -> Result<Option<SummaryView>, StoreError> {
    Ok(conversation_summary::Entity::find_by_id(id)
        .one(db.conn())
        .await?
        .and_then(decode))
}

/// Stored summaries by id (those that no longer decode are left out).
pub(crate) async fn by_id<C: ConnectionTrait>(
    conn: &C,
    ids: &BTreeSet<i64>,
) -> Result<HashMap<i64, SummaryView>, StoreError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = conversation_summary::Entity::find()
        .filter(conversation_summary::Column::Id.is_in(ids.iter().copied()))
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(decode)
        .map(|v| (v.id, v))
        .collect())
}

/// A conversation's newest `limit` summaries, oldest first.
pub(crate) async fn of_conversation<C: ConnectionTrait>(
    conn: &C,
    conversation_id: i64,
    limit: u64,
) -> Result<Vec<SummaryView>, StoreError> {
    let mut rows = conversation_summary::Entity::find()
        .filter(conversation_summary::Column::ConversationId.eq(conversation_id))
        .order_by_desc(conversation_summary::Column::Id)
        .limit(limit)
        .all(conn)
        .await?;
    rows.reverse();
    Ok(rows.into_iter().filter_map(decode).collect())
}

/// The view of a stored row (`None` when its body no longer decodes).
fn decode(r: conversation_summary::Model) -> Option<SummaryView> {
    let body: SummaryBody = serde_json::from_value(r.body).ok()?;
    Some(view(
        r.id,
        r.conversation_id,
        r.occasion,
        body,
        r.created_at,
    ))
}
