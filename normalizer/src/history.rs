//! [`ConversationHistory`] on the database: what an app user may read of their conversation
//! when the app syncs by `after_seq`.

use async_trait::async_trait;
use kefu_channel::{ConversationHistory, HistoryMessage, HistoryPage, IngestError};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::db::Db;
use crate::entity::{contact_identity, conversation, message};

/// Reads customers' conversations for channels whose clients sync.
#[derive(Debug, Clone)]
pub struct DbHistory {
    db: Db,
}

impl DbHistory {
    /// History stored in `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

fn unavailable(e: sea_orm::DbErr) -> IngestError {
    IngestError::Unavailable(e.to_string())
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
        let Some(conversation_id) = conversation::Entity::find()
            .select_only()
            .column(conversation::Column::Id)
            .filter(conversation::Column::IdentityId.eq(identity.id))
            .order_by_desc(conversation::Column::Id)
            .into_tuple::<i64>()
            .one(conn)
            .await
            .map_err(unavailable)?
        else {
            return Ok(None);
        };
        let rows = message::Entity::find()
            .filter(message::Column::ConversationId.eq(conversation_id))
            .filter(message::Column::Private.eq(false))
            .filter(message::Column::Seq.gt(after_seq))
            .order_by_asc(message::Column::Seq)
            .limit(limit)
            .all(conn)
            .await
            .map_err(unavailable)?;
        Ok(Some(HistoryPage {
            conversation_id,
            messages: rows
                .into_iter()
                .map(|m| HistoryMessage {
                    id: m.id,
                    seq: m.seq,
                    direction: m.direction,
                    sender_name: m.sender_name,
                    text: m.text,
                    created_at: m.created_at,
                })
                .collect(),
        }))
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
    use crate::{Author, Conversations, Limits, Normalizer};

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
        assert_eq!(all.messages[0].direction, "inbound");
        assert_eq!(all.messages[1].direction, "outbound");
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
        Ok(())
    }
}
