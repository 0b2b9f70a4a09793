//! [`BotStore`]: the FAQ bot's settings, its hold on conversations, and its decisions.
//!
//! A decision is written in one transaction under the conversation's lock, after checking again
//! that the bot may still act: the conversation is queued, unassigned, in the same wait, not
//! yet handed off, and this message was not decided on before (a unique index on
//! `bot_decisions.message_id`), so a batch relayed twice, or two nodes, decide once.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use kefu_channel::Content;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::json;

use super::{BotHandoffView, BotSettings, BotSettingsInput, Candidate, HandoffReason};
use crate::activities::{NewActivity, record as record_activities};
use crate::conversations::{NewMessage, append_message, lock};
use crate::db::Db;
use crate::entity::conversation_activity::ActivityKind;
use crate::entity::message::{DeliveryStatus, Direction, SenderType};
use crate::entity::{bot_decision, bot_state, conversation, inbox, message, schedule};
use crate::error::StoreError;
use crate::events::EventData;
use crate::schedules::Schedules;
use crate::status::Status;

/// What the bot decided about one customer message.
#[derive(Debug, Clone, PartialEq)]
pub enum Decided {
    /// Send this entry's answer.
    Answer {
        /// The entry.
        knowledge_id: i64,
        /// Its answer.
        answer: String,
    },
    /// Give the conversation to humans.
    Handoff(HandoffReason),
}

/// A customer message the bot may act on, with what the decision needs.
#[derive(Debug, Clone, PartialEq)]
pub struct BotContext {
    /// The conversation.
    pub conversation_id: i64,
    /// Its inbox.
    pub inbox_id: i64,
    /// The customer's message.
    pub message_id: i64,
    /// Its text.
    pub text: String,
    /// The start of the conversation's current wait.
    pub enqueued_at: DateTime<Utc>,
    /// The bot's answers in a row so far in this wait.
    pub answers_in_row: u32,
    /// The inbox's bot.
    pub settings: BotSettings,
    /// Whether the bot is within its hours now (always, when its settings name no schedule).
    pub within_hours: bool,
}

/// The bot's records.
#[derive(Debug, Clone)]
pub struct BotStore {
    db: Db,
}

impl BotStore {
    /// The store over `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    async fn inbox(&self, inbox_id: i64) -> Result<inbox::Model, StoreError> {
        inbox::Entity::find_by_id(inbox_id)
            .filter(inbox::Column::DeletedAt.is_null())
            .one(self.db.conn())
            .await?
            .ok_or(StoreError::NotFound("inbox"))
    }

    /// Inbox `inbox_id`'s bot.
    pub async fn settings(&self, inbox_id: i64) -> Result<BotSettings, StoreError> {
        Ok(BotSettings::of(&self.inbox(inbox_id).await?))
    }

    /// Changes inbox `inbox_id`'s bot.
    pub async fn set_settings(
        &self,
        inbox_id: i64,
        input: BotSettingsInput,
    ) -> Result<BotSettings, StoreError> {
        let row = self.inbox(inbox_id).await?;
        if let Some(Some(id)) = input.schedule_id
            && schedule::Entity::find_by_id(id)
                .one(self.db.conn())
                .await?
                .is_none()
        {
            return Err(StoreError::Invalid(format!(
                "schedule_id: schedule {id} does not exist"
            )));
        }
        let now = Utc::now();
        let settings = input.apply(&BotSettings::of(&row), now)?;
        let mut am: inbox::ActiveModel = row.into();
        am.bot = Set(Some(json!(settings)));
        am.updated_at = Set(now);
        am.update(self.db.conn()).await?;
        Ok(settings)
    }

    /// The live inboxes whose bot is in `auto` mode.
    pub async fn auto_inboxes(&self) -> Result<HashMap<i64, BotSettings>, StoreError> {
        Ok(inbox::Entity::find()
            .filter(inbox::Column::DeletedAt.is_null())
            .filter(inbox::Column::Bot.is_not_null())
            .all(self.db.conn())
            .await?
            .iter()
            .map(|r| (r.id, BotSettings::of(r)))
            .filter(|(_, s)| s.mode == super::BotMode::Auto)
            .collect())
    }

    /// Of the queued conversations `queued`, those the bot holds: their inbox is in `auto`
    /// mode since before their wait began, and the bot has not handed this wait to humans.
    /// The assigner leaves them out of the queue.
    pub async fn held(&self, queued: &[conversation::Model]) -> Result<HashSet<i64>, StoreError> {
        if queued.is_empty() {
            return Ok(HashSet::new());
        }
        let auto = self.auto_inboxes().await?;
        let candidates: Vec<&conversation::Model> = queued
            .iter()
            .filter(|c| {
                auto.get(&c.inbox_id)
                    .is_some_and(|s| s.holds(c.queued_at.unwrap_or(c.created_at)))
            })
            .collect();
        if candidates.is_empty() {
            return Ok(HashSet::new());
        }
        let states: HashMap<i64, Option<DateTime<Utc>>> = bot_state::Entity::find()
            .filter(bot_state::Column::ConversationId.is_in(candidates.iter().map(|c| c.id)))
            .all(self.db.conn())
            .await?
            .into_iter()
            .map(|s| (s.conversation_id, s.handed_off_for))
            .collect();
        Ok(candidates
            .into_iter()
            .filter(|c| {
                let wait = c.queued_at.unwrap_or(c.created_at);
                states.get(&c.id).copied().flatten() != Some(wait)
            })
            .map(|c| c.id)
            .collect())
    }

    /// The customer's message `message_id` in conversation `conversation_id`, when the bot
    /// of its inbox (among `auto`, the inboxes in auto mode) may act on it: the conversation
    /// is queued, unassigned, waiting since auto mode was on, and not handed to humans in
    /// this wait.
    pub async fn context(
        &self,
        conversation_id: i64,
        message_id: i64,
        auto: &HashMap<i64, BotSettings>,
    ) -> Result<Option<BotContext>, StoreError> {
        let Some(conv) = conversation::Entity::find_by_id(conversation_id)
            .one(self.db.conn())
            .await?
        else {
            return Ok(None);
        };
        let Some(settings) = auto.get(&conv.inbox_id) else {
            return Ok(None);
        };
        let Some(msg) = message::Entity::find_by_id(message_id)
            .one(self.db.conn())
            .await?
        else {
            return Ok(None);
        };
        let state = bot_state::Entity::find_by_id(conversation_id)
            .one(self.db.conn())
            .await?;
        let enqueued_at = conv.queued_at.unwrap_or(conv.created_at);
        if !may_act(&conv, state.as_ref(), settings) {
            return Ok(None);
        }
        let answers_in_row = state
            .as_ref()
            .map(|s| u32::try_from(s.answers_in_row).unwrap_or(0))
            .unwrap_or(0);
        let within_hours = match settings.schedule_id {
            None => true,
            Some(id) => Schedules::new(self.db.clone())
                .hours(id)
                .await?
                .is_none_or(|h| h.is_open(Utc::now())),
        };
        Ok(Some(BotContext {
            conversation_id,
            inbox_id: conv.inbox_id,
            message_id,
            text: msg.text,
            enqueued_at,
            answers_in_row,
            settings: settings.clone(),
            within_hours,
        }))
    }

    /// Stores `decided` about `cx` with the `candidates` weighed, if the bot may still act;
    /// returns whether it did. An answer is an outbound `bot` message the delivery pipeline
    /// sends; a handoff adds a timeline line and emits `conversation.bot_handoff`, after
    /// which the assigner offers the conversation to agents.
    pub async fn record(
        &self,
        cx: &BotContext,
        decided: &Decided,
        candidates: &[Candidate],
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let tx = self.db.begin_write().await?;
        let conv = lock(&self.db, &tx, cx.conversation_id).await?;
        let state = bot_state::Entity::find_by_id(conv.id).one(&*tx).await?;
        let decided_before = bot_decision::Entity::find()
            .filter(bot_decision::Column::MessageId.eq(cx.message_id))
            .one(&*tx)
            .await?
            .is_some();
        if decided_before
            || conv.queued_at.unwrap_or(conv.created_at) != cx.enqueued_at
            || !may_act(&conv, state.as_ref(), &cx.settings)
        {
            tx.rollback().await?;
            return Ok(false);
        }
        let answers = state.as_ref().map(|s| s.answers_in_row).unwrap_or(0);
        let (action, reason, knowledge_id, reply_id, next_state) = match decided {
            Decided::Answer {
                knowledge_id,
                answer,
            } => {
                let files = super::answer_files(&*tx, *knowledge_id).await?;
                let content = Content {
                    attachments: files.iter().map(crate::files::attachment_of).collect(),
                    ..Content::text(answer.clone())
                };
                let reply = append_message(
                    &tx,
                    &conv,
                    NewMessage {
                        direction: Direction::Outbound,
                        private: false,
                        sender_type: SenderType::Bot,
                        sender_id: None,
                        sender_name: None,
                        text: answer.clone(),
                        content: serde_json::to_value(&content)
                            .map_err(|e| StoreError::Invalid(format!("bot answer: {e}")))?,
                        dedupe_key: Some(format!("bot:{}:{}", conv.id, cx.message_id)),
                        message_ref: None,
                        delivery_status: DeliveryStatus::Pending,
                        fallback: None,
                        sentiment: None,
                    },
                    now,
                )
                .await?;
                (
                    "answer",
                    None,
                    Some(*knowledge_id),
                    Some(reply.id),
                    (answers.saturating_add(1), None),
                )
            }
            Decided::Handoff(reason) => {
                let top = candidates.first().map(|c| c.score);
                record_activities(
                    &*tx,
                    [NewActivity::new(conv.id, ActivityKind::BotHandoff, None)
                        .details(json!({ "reason": reason, "score": top }))],
                    now,
                )
                .await?;
                tx.emit(EventData::ConversationBotHandoff(BotHandoffView {
                    conversation_id: conv.id,
                    inbox_id: conv.inbox_id,
                    reason: *reason,
                    message_id: cx.message_id,
                }))
                .await?;
                (
                    "handoff",
                    Some(reason.as_str().to_owned()),
                    None,
                    None,
                    (0, Some(cx.enqueued_at)),
                )
            }
        };
        bot_decision::ActiveModel {
            conversation_id: Set(conv.id),
            inbox_id: Set(conv.inbox_id),
            message_id: Set(cx.message_id),
            action: Set(action.to_owned()),
            reason: Set(reason),
            knowledge_id: Set(knowledge_id),
            reply_id: Set(reply_id),
            candidates: Set(json!(candidates)),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&*tx)
        .await?;
        bot_state::Entity::insert(bot_state::ActiveModel {
            conversation_id: Set(conv.id),
            answers_in_row: Set(next_state.0),
            handed_off_for: Set(next_state.1),
            updated_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(bot_state::Column::ConversationId)
                .update_columns([
                    bot_state::Column::AnswersInRow,
                    bot_state::Column::HandedOffFor,
                    bot_state::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec(&*tx)
        .await?;
        tx.commit().await?;
        metrics::counter!("kefu_ai_bot_decisions_total", "action" => action).increment(1);
        Ok(true)
    }

    /// The bot's decisions in conversation `conversation_id`, oldest first.
    pub async fn decisions(
        &self,
        conversation_id: i64,
    ) -> Result<Vec<bot_decision::Model>, StoreError> {
        Ok(bot_decision::Entity::find()
            .filter(bot_decision::Column::ConversationId.eq(conversation_id))
            .order_by_asc(bot_decision::Column::Id)
            .all(self.db.conn())
            .await?)
    }

    /// The text of the customer's latest message in conversation `conversation_id`.
    pub async fn latest_inbound(&self, conversation_id: i64) -> Result<Option<String>, StoreError> {
        Ok(message::Entity::find()
            .filter(message::Column::ConversationId.eq(conversation_id))
            .filter(message::Column::Direction.eq(Direction::Inbound))
            .filter(message::Column::SenderType.eq(SenderType::Contact))
            .order_by_desc(message::Column::Seq)
            .one(self.db.conn())
            .await?
            .map(|m| m.text))
    }
}

/// Whether the bot may act in `conv`: queued, nobody assigned, the wait held by the bot.
fn may_act(
    conv: &conversation::Model,
    state: Option<&bot_state::Model>,
    settings: &BotSettings,
) -> bool {
    let wait = conv.queued_at.unwrap_or(conv.created_at);
    conv.status == Status::Queued
        && conv.assignee_id.is_none()
        && settings.holds(wait)
        && state.and_then(|s| s.handed_off_for) != Some(wait)
}
