//! Index documents from database rows (for a rebuild and for conversations an event changed)
//! and from events. The same functions serve SQLite and PostgreSQL: only the rows differ in
//! where they come from, so both backends index the same documents.

use std::collections::{BTreeSet, HashMap};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::index::Doc;
use crate::entity::{contact, contact_identity, conversation, message};
use crate::error::StoreError;
use crate::events::{Event, EventData};

/// Rows read per statement.
pub(crate) const PAGE: u64 = 5000;

/// What a batch of events changes in the index.
#[derive(Debug, Default)]
pub(crate) struct Changes {
    /// Message documents, ready to write.
    pub docs: Vec<Doc>,
    /// Conversations whose document is re-read from the database.
    pub conversations: BTreeSet<i64>,
    /// Contacts whose conversations' documents are re-read.
    pub contacts: BTreeSet<i64>,
}

impl Changes {
    /// Sorts `events` into what they change. A message's text never changes, so its document
    /// comes from the event; a conversation's document joins several rows, so it is re-read.
    pub fn of(events: &[std::sync::Arc<Event>]) -> Self {
        let mut c = Self::default();
        for e in events {
            match &e.data {
                EventData::MessageCreated(m) if !m.content.text.trim().is_empty() => {
                    c.docs.push(Doc::Message {
                        id: m.id,
                        conversation_id: m.conversation_id,
                        text: m.content.text.clone(),
                    });
                }
                EventData::ContactCreated(k) | EventData::ContactUpdated(k) => {
                    c.contacts.insert(k.id);
                }
                EventData::ContactMerged(k) => {
                    c.contacts.insert(k.contact.id);
                }
                data => {
                    if let Some(v) = data.as_conversation() {
                        c.conversations.insert(v.id);
                    }
                }
            }
        }
        c
    }
}

/// The conversations of `contacts`.
pub(crate) async fn conversations_of<C: ConnectionTrait>(
    db: &C,
    contacts: &BTreeSet<i64>,
) -> Result<Vec<i64>, StoreError> {
    if contacts.is_empty() {
        return Ok(Vec::new());
    }
    Ok(conversation::Entity::find()
        .select_only()
        .column(conversation::Column::Id)
        .filter(conversation::Column::ContactId.is_in(contacts.iter().copied()))
        .into_tuple::<i64>()
        .all(db)
        .await?)
}

/// The documents of the conversations `ids` (missing ones are skipped).
pub(crate) async fn conversation_docs<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
) -> Result<Vec<Doc>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = conversation::Entity::find()
        .filter(conversation::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    docs_for(db, rows).await
}

/// Up to [`PAGE`] conversation documents after the id `after`, in id order.
pub(crate) async fn conversation_page<C: ConnectionTrait>(
    db: &C,
    after: i64,
) -> Result<(Vec<Doc>, Option<i64>), StoreError> {
    let rows = conversation::Entity::find()
        .filter(conversation::Column::Id.gt(after))
        .order_by_asc(conversation::Column::Id)
        .limit(PAGE)
        .all(db)
        .await?;
    let last = rows.last().map(|r| r.id);
    Ok((docs_for(db, rows).await?, last))
}

async fn docs_for<C: ConnectionTrait>(
    db: &C,
    rows: Vec<conversation::Model>,
) -> Result<Vec<Doc>, StoreError> {
    let contact_ids: BTreeSet<i64> = rows.iter().map(|r| r.contact_id).collect();
    let contacts: HashMap<i64, contact::Model> = contact::Entity::find()
        .filter(contact::Column::Id.is_in(contact_ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let mut identities: HashMap<i64, Vec<contact_identity::Model>> = HashMap::new();
    for i in contact_identity::Entity::find()
        .filter(contact_identity::Column::ContactId.is_in(contact_ids.iter().copied()))
        .order_by_asc(contact_identity::Column::Id)
        .all(db)
        .await?
    {
        identities.entry(i.contact_id).or_default().push(i);
    }
    Ok(rows
        .into_iter()
        .map(|conv| {
            let mut words = Vec::new();
            let mut exact = Vec::new();
            if let Some(k) = contacts.get(&conv.contact_id) {
                words.extend(k.name.clone());
                for id in [&k.email, &k.phone].into_iter().flatten() {
                    words.push(id.clone());
                    exact.push(id.clone());
                }
            }
            for i in identities.get(&conv.contact_id).into_iter().flatten() {
                words.extend(i.display_name.clone());
                words.push(i.external_id.clone());
                exact.push(i.external_id.clone());
            }
            words.dedup();
            exact.sort();
            exact.dedup();
            Doc::Conversation {
                id: conv.id,
                subject: conv.subject.filter(|s| !s.trim().is_empty()),
                contact: words,
                exact,
            }
        })
        .collect())
}

/// Up to [`PAGE`] message documents after the id `after`, in id order, and the last id read.
pub(crate) async fn message_page<C: ConnectionTrait>(
    db: &C,
    after: i64,
) -> Result<(Vec<Doc>, Option<i64>), StoreError> {
    let rows: Vec<(i64, i64, String)> = message::Entity::find()
        .select_only()
        .column(message::Column::Id)
        .column(message::Column::ConversationId)
        .column(message::Column::Text)
        .filter(message::Column::Id.gt(after))
        .order_by_asc(message::Column::Id)
        .limit(PAGE)
        .into_tuple()
        .all(db)
        .await?;
    let last = rows.last().map(|r| r.0);
    let docs = rows
        .into_iter()
        .filter(|(_, _, text)| !text.trim().is_empty())
        .map(|(id, conversation_id, text)| Doc::Message {
            id,
            conversation_id,
            text,
        })
        .collect();
    Ok((docs, last))
}
