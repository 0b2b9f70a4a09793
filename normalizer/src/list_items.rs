//! What the conversation list shows with each conversation, loaded for a whole page at once
//! (a fixed number of queries per page, whatever its size): the last message, the assignee,
//! the labels and the asking agent's unread count. Unread counts come from per-agent read
//! markers ([`Conversations::mark_read`]): customer messages with a higher `seq` are unread.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use kefu_channel::Content;
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, QuerySelect, Set,
};

use crate::conversations::Conversations;
use crate::entity::message::{Direction, SenderType};
use crate::entity::{agent, conversation, conversation_read, message};
use crate::error::StoreError;
use crate::views::{AgentRef, ConversationItem, ConversationView, LastMessageView};

/// The longest preview, in characters.
const PREVIEW_CHARS: usize = 160;

fn preview(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(PREVIEW_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

impl Conversations {
    /// One conversation as the list shows it to agent `viewer`.
    pub async fn item(&self, id: i64, viewer: i64) -> Result<ConversationItem, StoreError> {
        let conv = self.get(id).await?;
        let mut items = self.items(vec![conv], viewer).await?;
        items.pop().ok_or(StoreError::NotFound("conversation"))
    }

    /// A page of conversations as the list shows them to agent `viewer`.
    pub async fn items(
        &self,
        page: Vec<ConversationView>,
        viewer: i64,
    ) -> Result<Vec<ConversationItem>, StoreError> {
        let conn = self.db().conn();
        let ids: Vec<i64> = page.iter().map(|c| c.id).collect();
        let mut last: HashMap<i64, LastMessageView> = HashMap::new();
        let newest = page
            .iter()
            .filter(|c| c.last_seq > 0)
            .fold(Condition::any(), |any, c| {
                any.add(
                    message::Column::ConversationId
                        .eq(c.id)
                        .and(message::Column::Seq.eq(c.last_seq)),
                )
            });
        if page.iter().any(|c| c.last_seq > 0) {
            for m in message::Entity::find().filter(newest).all(conn).await? {
                let attachments = serde_json::from_value::<Content>(m.content.clone())
                    .map(|c| c.attachments.len())
                    .unwrap_or(0);
                last.insert(
                    m.conversation_id,
                    LastMessageView {
                        text: preview(&m.text),
                        direction: m.direction,
                        private: m.private,
                        attachments,
                        created_at: m.created_at,
                    },
                );
            }
        }
        let assignee_ids: Vec<i64> = page.iter().filter_map(|c| c.assignee_id).collect();
        let agents: HashMap<i64, String> = if assignee_ids.is_empty() {
            HashMap::new()
        } else {
            agent::Entity::find()
                .select_only()
                .column(agent::Column::Id)
                .column(agent::Column::Name)
                .filter(agent::Column::Id.is_in(assignee_ids))
                .into_tuple::<(i64, String)>()
                .all(conn)
                .await?
                .into_iter()
                .collect()
        };
        let mut labels = crate::labels::of_conversations(conn, &ids).await?;
        let read: HashMap<i64, i64> = if ids.is_empty() {
            HashMap::new()
        } else {
            conversation_read::Entity::find()
                .filter(conversation_read::Column::AgentId.eq(viewer))
                .filter(conversation_read::Column::ConversationId.is_in(ids.clone()))
                .all(conn)
                .await?
                .into_iter()
                .map(|r| (r.conversation_id, r.last_read_seq))
                .collect()
        };
        let unread = self.unread_counts(&page, &read).await?;
        let inbound: HashMap<i64, Option<DateTime<Utc>>> = if ids.is_empty() {
            HashMap::new()
        } else {
            conversation::Entity::find()
                .select_only()
                .column(conversation::Column::Id)
                .column(conversation::Column::LastInboundAt)
                .filter(conversation::Column::Id.is_in(ids.clone()))
                .into_tuple::<(i64, Option<DateTime<Utc>>)>()
                .all(conn)
                .await?
                .into_iter()
                .collect()
        };
        // The last answer an agent sent: automatic messages (an out-of-office reply, a wait
        // notice) and private notes do not end the customer's wait.
        let answered: HashMap<i64, DateTime<Utc>> = if ids.is_empty() {
            HashMap::new()
        } else {
            message::Entity::find()
                .select_only()
                .column(message::Column::ConversationId)
                .column_as(Expr::col(message::Column::CreatedAt).max(), "answered_at")
                .filter(message::Column::ConversationId.is_in(ids.clone()))
                .filter(message::Column::Direction.eq(Direction::Outbound))
                .filter(message::Column::Private.eq(false))
                .filter(message::Column::SenderType.eq(SenderType::Agent))
                .group_by(message::Column::ConversationId)
                .into_tuple::<(i64, DateTime<Utc>)>()
                .all(conn)
                .await?
                .into_iter()
                .collect()
        };
        Ok(page
            .into_iter()
            .map(|c| {
                let last_message = last.remove(&c.id);
                let last_inbound_at = inbound.get(&c.id).copied().flatten();
                let waiting_since = last_inbound_at
                    .filter(|at| answered.get(&c.id).is_none_or(|answer| answer < at));
                ConversationItem {
                    last_message,
                    assignee: c.assignee_id.map(|id| AgentRef {
                        id,
                        name: agents.get(&id).cloned().unwrap_or_default(),
                    }),
                    labels: labels.remove(&c.id).unwrap_or_default(),
                    unread_count: unread.get(&c.id).copied().unwrap_or(0),
                    last_read_seq: read.get(&c.id).copied().unwrap_or(0),
                    last_inbound_at,
                    waiting_since,
                    found: None,
                    conversation: c,
                }
            })
            .collect())
    }

    /// Customer messages above each conversation's read marker, in one grouped query.
    async fn unread_counts(
        &self,
        page: &[ConversationView],
        read: &HashMap<i64, i64>,
    ) -> Result<HashMap<i64, i64>, StoreError> {
        let pending: Vec<(i64, i64)> = page
            .iter()
            .filter_map(|c| {
                let seen = read.get(&c.id).copied().unwrap_or(0);
                (c.last_seq > seen).then_some((c.id, seen))
            })
            .collect();
        if pending.is_empty() {
            return Ok(HashMap::new());
        }
        let above = pending.iter().fold(Condition::any(), |any, (id, seen)| {
            any.add(
                message::Column::ConversationId
                    .eq(*id)
                    .and(message::Column::Seq.gt(*seen)),
            )
        });
        Ok(message::Entity::find()
            .select_only()
            .column(message::Column::ConversationId)
            .column_as(Expr::from(Func::count(Expr::col(message::Column::Id))), "n")
            .filter(message::Column::Direction.eq(Direction::Inbound))
            .filter(above)
            .group_by(message::Column::ConversationId)
            .into_tuple::<(i64, i64)>()
            .all(self.db().conn())
            .await?
            .into_iter()
            .collect())
    }

    /// Records that agent `agent_id` has read conversation `id` up to `seq` (capped at its
    /// newest message; a marker never moves back). Returns the marker as stored.
    pub async fn mark_read(&self, id: i64, agent_id: i64, seq: i64) -> Result<i64, StoreError> {
        if seq < 0 {
            return Err(StoreError::Invalid("seq must not be negative".into()));
        }
        let tx = self.db().begin_write().await?;
        let last_seq = conversation::Entity::find_by_id(id)
            .select_only()
            .column(conversation::Column::LastSeq)
            .into_tuple::<i64>()
            .one(&*tx)
            .await?
            .ok_or(StoreError::NotFound("conversation"))?;
        let seq = Ord::min(seq, last_seq);
        let now = Utc::now();
        let current = conversation_read::Entity::find_by_id((agent_id, id))
            .one(&*tx)
            .await?;
        let stored = match current {
            Some(r) if r.last_read_seq >= seq => r.last_read_seq,
            Some(r) => {
                let mut am: conversation_read::ActiveModel = r.into();
                am.last_read_seq = Set(seq);
                am.updated_at = Set(now);
                am.update(&*tx).await?;
                seq
            }
            None => {
                conversation_read::ActiveModel {
                    agent_id: Set(agent_id),
                    conversation_id: Set(id),
                    last_read_seq: Set(seq),
                    updated_at: Set(now),
                }
                .insert(&*tx)
                .await?;
                seq
            }
        };
        tx.commit().await?;
        Ok(stored)
    }
}

#[cfg(test)]
mod tests {
    use super::preview;

    #[test]
    fn previews_are_cut_on_character_boundaries() {
        assert_eq!(preview("  hello \n"), "hello");
        let long = "退".repeat(200);
        let cut = preview(&long);
        assert_eq!(cut.chars().count(), 161);
        assert!(cut.ends_with('…'));
    }
}
