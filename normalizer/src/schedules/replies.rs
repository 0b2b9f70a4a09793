//! [`OutOfOfficeReplies`]: sends an inbox's out-of-office reply ([`OutOfOffice`]).
//!
//! The outbox's consumer hands every batch's new customer messages to
//! [`OutOfOfficeReplies::answer`]. During open hours, or when no inbox has the reply on, that
//! costs one query per batch. When an inbox is closed, the decision is taken in one write
//! transaction under the conversation's lock: answered within `repeat_after_hours` (the
//! time is in `out_of_office_replies`, so every node sees it), or an agent replied within
//! [`AGENT_QUIET`], means no reply; otherwise the reply is appended as an outbound system
//! message and the time recorded. A batch relayed twice finds its own reply and adds nothing.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, Set};
use serde_json::json;

use super::away::OutOfOffice;
use super::hours::Hours;
use super::store::hours_of;
use crate::conversations::{NewMessage, append_message};
use crate::db::Db;
use crate::entity::message::{DeliveryStatus, Direction, SenderType};
use crate::entity::{conversation, inbox, message, out_of_office_reply, schedule};
use crate::error::StoreError;

/// How long an agent's reply keeps the out-of-office reply quiet: a customer an agent is
/// answering outside hours is not told that nobody is there.
pub const AGENT_QUIET: Duration = Duration::minutes(5);

/// A customer's message that arrived, as the out-of-office check needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arrival {
    /// Its conversation.
    pub conversation_id: i64,
    /// The message.
    pub message_id: i64,
    /// When it was stored.
    pub at: DateTime<Utc>,
}

/// Sends out-of-office replies. Each decision is taken under the conversation's lock, from
/// `out_of_office_replies` in the database, so nodes (and a batch relayed twice) agree.
#[derive(Debug, Clone)]
pub struct OutOfOfficeReplies {
    db: Db,
}

/// What is needed to answer in one inbox.
struct Answering {
    reply: OutOfOffice,
    hours: Hours,
}

impl OutOfOfficeReplies {
    /// Replies over `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Answers the customers of `arrivals` whose inbox is closed at the time they wrote and
    /// has its out-of-office reply on, unless their conversation was answered within the
    /// reply's `repeat_after_hours` or an agent replied within [`AGENT_QUIET`] of `now`.
    /// Returns how many replies were stored; each is an outbound system message with
    /// delivery `pending`, which the delivery pipeline sends like any reply.
    pub async fn answer(
        &self,
        arrivals: &[Arrival],
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        if arrivals.is_empty() {
            return Ok(0);
        }
        let inboxes = self.answering_inboxes().await?;
        if inboxes.is_empty() {
            return Ok(0);
        }
        let ids: BTreeSet<i64> = arrivals.iter().map(|a| a.conversation_id).collect();
        let conversations: HashMap<i64, i64> = conversation::Entity::find()
            .select_only()
            .column(conversation::Column::Id)
            .column(conversation::Column::InboxId)
            .filter(conversation::Column::Id.is_in(ids))
            .into_tuple::<(i64, i64)>()
            .all(self.db.conn())
            .await?
            .into_iter()
            .collect();
        let mut sent = 0;
        for a in arrivals {
            let Some(inbox) = conversations.get(&a.conversation_id) else {
                continue;
            };
            let Some(answering) = inboxes.get(inbox) else {
                continue;
            };
            if answering.hours.is_open(a.at) {
                continue;
            }
            match self.reply_once(a, answering, now).await {
                Ok(true) => sent += 1,
                Ok(false) => {}
                // Merged or deleted since the message arrived: nobody to answer.
                Err(StoreError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(sent)
    }

    /// The live inboxes with a schedule and the reply on, with their calculators.
    async fn answering_inboxes(&self) -> Result<HashMap<i64, Answering>, StoreError> {
        let rows = inbox::Entity::find()
            .filter(inbox::Column::DeletedAt.is_null())
            .filter(inbox::Column::ScheduleId.is_not_null())
            .all(self.db.conn())
            .await?;
        let rows: Vec<(inbox::Model, OutOfOffice)> = rows
            .into_iter()
            .map(|r| {
                let reply = OutOfOffice::of(&r);
                (r, reply)
            })
            .filter(|(_, reply)| reply.enabled && !reply.message.is_empty())
            .collect();
        if rows.is_empty() {
            return Ok(HashMap::new());
        }
        let schedule_ids: BTreeSet<i64> = rows.iter().filter_map(|(r, _)| r.schedule_id).collect();
        let schedules: HashMap<i64, Hours> = schedule::Entity::find()
            .filter(schedule::Column::Id.is_in(schedule_ids))
            .all(self.db.conn())
            .await?
            .iter()
            .filter_map(|s| hours_of(s).ok().map(|h| (s.id, h)))
            .collect();
        Ok(rows
            .into_iter()
            .filter_map(|(r, reply)| {
                let hours = schedules.get(&r.schedule_id?)?.clone();
                Some((r.id, Answering { reply, hours }))
            })
            .collect())
    }

    async fn reply_once(
        &self,
        a: &Arrival,
        answering: &Answering,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let tx = self.db.begin_write().await?;
        let conv = crate::conversations::lock(&self.db, &tx, a.conversation_id).await?;
        let last = out_of_office_reply::Entity::find_by_id(conv.id)
            .one(&*tx)
            .await?;
        let repeat = answering.reply.repeat_after_hours;
        let answered_lately = last.is_some_and(|l| {
            l.message_id >= a.message_id
                || repeat == 0
                || now < l.sent_at + Duration::hours(i64::from(repeat))
        });
        let agent_replied = message::Entity::find()
            .filter(message::Column::ConversationId.eq(conv.id))
            .filter(message::Column::SenderType.eq(SenderType::Agent))
            .filter(message::Column::Private.eq(false))
            .filter(message::Column::CreatedAt.gt(now - AGENT_QUIET))
            .one(&*tx)
            .await?
            .is_some();
        if answered_lately || agent_replied {
            tx.rollback().await?;
            return Ok(false);
        }
        let text = fill(&answering.reply.message, &answering.hours, now);
        let msg = append_message(
            &tx,
            &conv,
            NewMessage {
                direction: Direction::Outbound,
                private: false,
                sender_type: SenderType::System,
                sender_id: None,
                sender_name: None,
                text,
                content: json!({}),
                dedupe_key: Some(format!("out_of_office:{}:{}", conv.id, a.message_id)),
                message_ref: None,
                delivery_status: DeliveryStatus::Pending,
                fallback: None,
                sentiment: None,
            },
            now,
        )
        .await?;
        out_of_office_reply::Entity::insert(out_of_office_reply::ActiveModel {
            conversation_id: Set(conv.id),
            message_id: Set(msg.id),
            sent_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(out_of_office_reply::Column::ConversationId)
                .update_columns([
                    out_of_office_reply::Column::MessageId,
                    out_of_office_reply::Column::SentAt,
                ])
                .to_owned(),
        )
        .exec(&*tx)
        .await?;
        tx.commit().await?;
        metrics::counter!("kefu_schedules_out_of_office_replies_total").increment(1);
        Ok(true)
    }
}

/// The message with `{{next_open}}` filled: the next opening after `now` in the schedule's
/// zone, `YYYY-MM-DD HH:MM Zone/Name` (empty when the schedule never opens).
pub fn fill(message: &str, hours: &Hours, now: DateTime<Utc>) -> String {
    if !message.contains("{{next_open}}") {
        return message.to_owned();
    }
    let next = hours
        .next_open(now)
        .map(|t| {
            let local = t.with_timezone(&hours.zone());
            format!("{} {}", local.format("%Y-%m-%d %H:%M"), hours.zone().name())
        })
        .unwrap_or_default();
    message.replace("{{next_open}}", &next)
}
