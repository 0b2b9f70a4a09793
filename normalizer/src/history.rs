//! [`ConversationHistory`] on the database: what a customer may read of their conversation
//! when the app syncs by `after_seq` or the web chat widget replays on `hello`. Both read
//! through one rule ([`DbHistory::latest`]): the customer's most recent conversation in the
//! inbox, its non-private messages after a `seq`.

use async_trait::async_trait;
use kefu_channel::{
    ConversationHistory, Direction, HistoryMessage, HistoryPage, IngestError, Unread, ViewPage,
};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::db::Db;
use crate::entity::{contact_identity, conversation, message};
use crate::views::MessageView;

/// Reads customers' conversations for channels whose clients sync.
#[derive(Debug, Clone)]
pub struct DbHistory {
    db: Db,
}

fn unavailable(e: sea_orm::DbErr) -> IngestError {
    IngestError::Unavailable(e.to_string())
}

/// A conversation's id and token, and the messages read from it.
type Latest = ((i64, String), Vec<message::Model>);

impl DbHistory {
    /// History stored in `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// The customer's most recent conversation in the inbox (whatever its status) and its
    /// non-private messages with `seq > after_seq`, oldest first, at most `limit`.
    async fn latest(
        &self,
        inbox_id: i64,
        external_id: &str,
        after_seq: i64,
        limit: u64,
    ) -> Result<Option<Latest>, IngestError> {
        let Some((conversation_id, token, _)) = self.conversation(inbox_id, external_id).await?
        else {
            return Ok(None);
        };
        let rows = message::Entity::find()
            .filter(message::Column::ConversationId.eq(conversation_id))
            .filter(message::Column::Private.eq(false))
            .filter(message::Column::Seq.gt(after_seq))
            .order_by_asc(message::Column::Seq)
            .limit(limit)
            .all(self.db.conn())
            .await
            .map_err(unavailable)?;
        Ok(Some(((conversation_id, token), rows)))
    }

    /// The customer's most recent conversation in the inbox (whatever its status): its id,
    /// token and newest `seq`.
    async fn conversation(
        &self,
        inbox_id: i64,
        external_id: &str,
    ) -> Result<Option<(i64, String, i64)>, IngestError> {
        let conn = self.db.conn();
        let Some(identity) = contact_identity::Entity::find()
            .filter(contact_identity::Column::InboxId.eq(inbox_id))
            .filter(contact_identity::Column::ExternalId.eq(external_id))
            .one(conn)
            .await
            .map_err(unavailable)?
        else {
            return Ok(None);
        };
        conversation::Entity::find()
            .select_only()
            .column(conversation::Column::Id)
            .column(conversation::Column::Token)
            .column(conversation::Column::LastSeq)
            .filter(conversation::Column::IdentityId.eq(identity.id))
            .order_by_desc(conversation::Column::Id)
            .into_tuple::<(i64, String, i64)>()
            .one(conn)
            .await
            .map_err(unavailable)
    }
}

#[async_trait]
impl ConversationHistory for DbHistory {
    async fn messages_after(
        &self,
        inbox_id: i64,
        external_id: &str,
        after_seq: i64,
        limit: u64,
    ) -> Result<Option<HistoryPage>, IngestError> {
        let Some(((conversation_id, _), rows)) =
            self.latest(inbox_id, external_id, after_seq, limit).await?
        else {
            return Ok(None);
        };
        Ok(Some(HistoryPage {
            conversation_id,
            messages: rows
                .into_iter()
                .map(|m| HistoryMessage {
                    id: m.id,
                    seq: m.seq,
                    direction: m.direction,
                    sender_name: m.sender_name,
                    menu: m.content["extra"]
                        .get("menu")
                        .filter(|v| v.is_object())
                        .cloned(),
                    text: m.text,
                    created_at: m.created_at,
                })
                .collect(),
        }))
    }

    async fn views_after(
        &self,
        inbox_id: i64,
        external_id: &str,
        after_seq: i64,
        limit: u64,
    ) -> Result<Option<ViewPage>, IngestError> {
        let Some(((conversation_id, conversation_token), rows)) =
            self.latest(inbox_id, external_id, after_seq, limit).await?
        else {
            return Ok(None);
        };
        let messages = rows
            .iter()
            .map(|m| serde_json::to_value(MessageView::from(m)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| IngestError::Unavailable(format!("cannot render a message: {e}")))?;
        Ok(Some(ViewPage {
            conversation_id,
            conversation_token,
            messages,
        }))
    }

    async fn unread_after(
        &self,
        inbox_id: i64,
        external_id: &str,
        after_seq: i64,
    ) -> Result<Option<Unread>, IngestError> {
        let Some((conversation_id, _, last_seq)) = self.conversation(inbox_id, external_id).await?
        else {
            return Ok(None);
        };
        let count = message::Entity::find()
            .filter(message::Column::ConversationId.eq(conversation_id))
            .filter(message::Column::Private.eq(false))
            .filter(message::Column::Direction.eq(Direction::Outbound))
            .filter(message::Column::Seq.gt(after_seq))
            .count(self.db.conn())
            .await
            .map_err(unavailable)?;
        Ok(Some(Unread {
            conversation_id,
            count,
            last_seq,
        }))
    }

    async fn conversation_token(
        &self,
        conversation_id: i64,
    ) -> Result<Option<String>, IngestError> {
        conversation::Entity::find_by_id(conversation_id)
            .select_only()
            .column(conversation::Column::Token)
            .into_tuple::<String>()
            .one(self.db.conn())
            .await
            .map_err(unavailable)
    }

    async fn seq_of(&self, message_id: i64) -> Result<Option<i64>, IngestError> {
        message::Entity::find_by_id(message_id)
            .select_only()
            .column(message::Column::Seq)
            .into_tuple::<i64>()
            .one(self.db.conn())
            .await
            .map_err(unavailable)
    }
}

#[cfg(test)]
mod tests {

    use kefu_channel::{Content, ExternalIdentity, InboundEnvelope, InboundSink, ThreadHints};

    use super::*;
    use crate::{Author, Conversations, Direction, Limits, Normalizer};

    fn envelope(inbox_id: i64, who: &str, key: &str, text: &str) -> InboundEnvelope {
        InboundEnvelope {
            inbox_id,
            sender: ExternalIdentity::new(who),
            dedupe_key: Some(key.into()),
            thread: ThreadHints::default(),
            content: Content::text(text),
            sent_at: None,
        }
    }

    #[tokio::test]
    async fn returns_the_customers_non_private_messages_after_a_seq() -> anyhow::Result<()> {
        let db = Db::connect("sqlite::memory:", 1).await?;
        db.migrate().await?;
        let now = chrono::Utc::now();
        let inbox = crate::entity::inbox::ActiveModel {
            name: sea_orm::Set("app".into()),
            channel_type: sea_orm::Set("app_push".into()),
            settings: sea_orm::Set(serde_json::json!({})),
            secrets_ciphertext: sea_orm::Set(None),
            public_token: sea_orm::Set(crate::token::random(24)),
            routing: sea_orm::Set(serde_json::json!({})),
            deleted_at: sea_orm::Set(None),
            created_at: sea_orm::Set(now),
            updated_at: sea_orm::Set(now),
            ..Default::default()
        };
        let inbox_id = crate::entity::inbox::Entity::insert(inbox)
            .exec(db.conn())
            .await?
            .last_insert_id;
        let limits = Limits {
            max_text_bytes: 10_000,
        };
        let normalizer = Normalizer::new(db.clone(), limits);
        let conversations = Conversations::new(db.clone(), limits);
        let first = normalizer
            .accept(envelope(inbox_id, "u1", "k1", "hello"))
            .await?;
        normalizer
            .accept(envelope(inbox_id, "someone-else", "k2", "not yours"))
            .await?;
        let author = Author {
            id: 1,
            name: "Alice".into(),
        };
        conversations
            .reply(first.conversation_id, &author, "a reply", &[], None, false)
            .await?;
        conversations
            .reply(
                first.conversation_id,
                &author,
                "an internal note",
                &[],
                None,
                true,
            )
            .await?;
        let reply2 = conversations
            .reply(
                first.conversation_id,
                &author,
                "second reply",
                &[],
                None,
                false,
            )
            .await?;

        let h = DbHistory::new(db);
        let all = h
            .messages_after(inbox_id, "u1", 0, 50)
            .await?
            .expect("u1 has a conversation");
        assert_eq!(all.conversation_id, first.conversation_id);
        let texts: Vec<_> = all.messages.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(texts, ["hello", "a reply", "second reply"]);
        assert_eq!(all.messages[0].direction, Direction::Inbound);
        assert_eq!(all.messages[1].direction, Direction::Outbound);
        assert_eq!(all.messages[1].sender_name.as_deref(), Some("Alice"));

        let after = h
            .messages_after(inbox_id, "u1", all.messages[1].seq, 50)
            .await?
            .expect("u1 has a conversation");
        assert_eq!(after.messages.len(), 1);
        assert_eq!(after.messages[0].text, "second reply");
        let limited = h.messages_after(inbox_id, "u1", 0, 1).await?.expect("page");
        assert_eq!(limited.messages.len(), 1);

        assert_eq!(h.messages_after(inbox_id, "nobody", 0, 50).await?, None);
        assert_eq!(h.messages_after(inbox_id + 1, "u1", 0, 50).await?, None);
        assert_eq!(
            h.seq_of(reply2.message.id).await?,
            Some(all.messages[2].seq)
        );
        assert_eq!(h.seq_of(999_999).await?, None);

        // The widget's rendering reads the same conversation and messages.
        let views = h
            .views_after(inbox_id, "u1", 0, 50)
            .await?
            .expect("u1 has a conversation");
        assert_eq!(views.conversation_id, all.conversation_id);
        let seqs: Vec<_> = views.messages.iter().map(|m| m["seq"].as_i64()).collect();
        let want: Vec<_> = all.messages.iter().map(|m| Some(m.seq)).collect();
        assert_eq!(seqs, want);
        assert_eq!(views.messages[1]["content"]["text"], "a reply");
        assert_eq!(views.messages[1]["sender"]["name"], "Alice");
        assert_eq!(
            h.conversation_token(all.conversation_id).await?,
            Some(views.conversation_token.clone())
        );
        assert!(!views.conversation_token.is_empty());
        assert_eq!(h.conversation_token(999_999).await?, None);
        assert_eq!(h.views_after(inbox_id, "nobody", 0, 50).await?, None);
        Ok(())
    }
}
