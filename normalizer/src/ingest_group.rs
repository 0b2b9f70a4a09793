//! The grouped ingest path: a whole group of envelopes in a handful of statements.
//!
//! Most inbound traffic is a known customer writing into their open conversation. For those
//! envelopes the group is stored with one query per step — dedupe lookup, identity lookup,
//! contacts, open conversations, one `seq` bump for all conversations, one multi-row insert of
//! messages and one of outbox events — instead of seven statements per message. Everything else
//! (new customers, email references, a web chat token naming another conversation, reopening,
//! contact updates, repeated keys) takes the general
//! path, in order, in the same transaction. A customer whose envelope needs the general path
//! sends all their later envelopes of the group there too, so their messages keep their order.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use kefu_channel::{Accepted, InboundEnvelope};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, Set, Statement, Value,
};

use crate::db::WriteTx;
use crate::entity::message::{DeliveryStatus, Direction, SenderType};
use crate::entity::{contact, contact_identity, conversation, message};
use crate::error::StoreError;
use crate::events::EventData;
use crate::status::Status;
use crate::views::MessageView;

/// Conversation statuses a customer message does not change: only these take the grouped path.
const STEADY: [Status; 3] = [Status::Queued, Status::Assigned, Status::Transferring];

/// What to do with one envelope of a group.
enum Plan {
    /// Already stored before the group.
    Duplicate(Accepted),
    /// Append to this open conversation in the grouped insert.
    Fast {
        conversation: i64,
        contact: i64,
        sender_name: Option<String>,
    },
    /// Store through the general path.
    General,
}

/// Stores `envs` in `tx`, each with the sentiment score of the same index (stored as its
/// conversation's); `general` stores one envelope through the general path.
pub(crate) async fn store_group<F, Fut>(
    tx: &WriteTx,
    envs: &[&InboundEnvelope],
    sentiments: &[Option<f32>],
    mut general: F,
) -> Result<Vec<Accepted>, StoreError>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = Result<Accepted, StoreError>>,
{
    let plans = plan(tx, envs).await?;
    let mut results: Vec<Option<Accepted>> = vec![None; envs.len()];

    // Grouped appends: bump each conversation's seq once by its count of new messages, and
    // set its sentiment to that of its last scored message.
    let mut counts: Vec<Bump> = Vec::new();
    for (i, p) in plans.iter().enumerate() {
        if let Plan::Fast { conversation, .. } = p {
            let sentiment = sentiments.get(i).copied().flatten();
            match counts.iter_mut().find(|b| b.conversation == *conversation) {
                Some(b) => {
                    b.messages += 1;
                    b.sentiment = sentiment.or(b.sentiment);
                }
                None => counts.push(Bump {
                    conversation: *conversation,
                    messages: 1,
                    sentiment,
                }),
            }
        }
    }
    if !counts.is_empty() {
        let now = Utc::now();
        let last = bump_seqs(tx, &counts, now).await?;
        let mut next: HashMap<i64, i64> = counts
            .iter()
            .map(|b| {
                let last = last.get(&b.conversation).copied().unwrap_or_default();
                (b.conversation, last - b.messages + 1)
            })
            .collect();
        let mut rows = Vec::new();
        let mut seqs: Vec<Option<(i64, i64)>> = vec![None; envs.len()];
        for (i, p) in plans.iter().enumerate() {
            let Plan::Fast {
                conversation,
                contact,
                sender_name,
            } = p
            else {
                continue;
            };
            let env = envs[i];
            let seq = next.get_mut(conversation).map(|s| {
                *s += 1;
                *s - 1
            });
            seqs[i] = seq.map(|s| (*conversation, s));
            let mut stored_content = env.content.clone();
            stored_content.text.clear();
            rows.push(message::ActiveModel {
                conversation_id: Set(*conversation),
                inbox_id: Set(env.inbox_id),
                seq: Set(seq.unwrap_or_default()),
                direction: Set(Direction::Inbound),
                private: Set(false),
                sender_type: Set(SenderType::Contact),
                sender_id: Set(Some(*contact)),
                sender_name: Set(sender_name.clone()),
                text: Set(env.content.text.clone()),
                content: Set(serde_json::to_value(&stored_content).unwrap_or_default()),
                dedupe_key: Set(env.dedupe_key.clone()),
                message_ref: Set(env.thread.message_ref.clone()),
                delivery_status: Set(DeliveryStatus::Delivered),
                delivery_error: Set(None),
                provider_ref: Set(None),
                sent_at: Set(None),
                created_at: Set(now),
                ..Default::default()
            });
        }
        let mut inserted = message::Entity::insert_many(rows)
            .exec_with_returning(tx)
            .await?;
        // Outbox ids must follow seq within a conversation, whatever order RETURNING used.
        inserted.sort_by_key(|m| (m.conversation_id, m.seq));
        let by_pos: HashMap<(i64, i64), &message::Model> = inserted
            .iter()
            .map(|m| ((m.conversation_id, m.seq), m))
            .collect();
        let events = inserted
            .iter()
            .map(|m| EventData::MessageCreated(MessageView::from(m)));
        crate::events::emit_all(tx, events, now).await?;
        for (i, pos) in seqs.into_iter().enumerate() {
            if let Some(pos) = pos {
                let m = by_pos
                    .get(&pos)
                    .ok_or(StoreError::NotFound("inserted message"))?;
                results[i] = Some(Accepted {
                    message_id: m.id,
                    conversation_id: m.conversation_id,
                    seq: m.seq,
                    duplicate: false,
                });
            }
        }
    }
    for (i, p) in plans.iter().enumerate() {
        match p {
            Plan::Duplicate(a) => results[i] = Some(*a),
            Plan::General => results[i] = Some(general(i).await?),
            Plan::Fast { .. } => {}
        }
    }
    results
        .into_iter()
        .map(|r| r.ok_or(StoreError::NotFound("ingest result")))
        .collect()
}

async fn plan(
    tx: &DatabaseTransaction,
    envs: &[&InboundEnvelope],
) -> Result<Vec<Plan>, StoreError> {
    let inboxes: HashSet<i64> = envs.iter().map(|e| e.inbox_id).collect();
    let mut dupes: HashMap<(i64, String), Accepted> = HashMap::new();
    let mut identities: HashMap<(i64, String), contact_identity::Model> = HashMap::new();
    for inbox in &inboxes {
        let keys: Vec<&str> = envs
            .iter()
            .filter(|e| e.inbox_id == *inbox)
            .filter_map(|e| e.dedupe_key.as_deref())
            .collect();
        if !keys.is_empty() {
            for m in message::Entity::find()
                .filter(message::Column::InboxId.eq(*inbox))
                .filter(message::Column::DedupeKey.is_in(keys))
                .all(tx)
                .await?
            {
                let key = m.dedupe_key.clone().unwrap_or_default();
                let a = Accepted {
                    message_id: m.id,
                    conversation_id: m.conversation_id,
                    seq: m.seq,
                    duplicate: true,
                };
                dupes.insert((*inbox, key), a);
            }
        }
        let ids: Vec<&str> = envs
            .iter()
            .filter(|e| e.inbox_id == *inbox)
            .map(|e| e.sender.external_id.as_str())
            .collect();
        // Not locked: a grouped envelope only appends to an open conversation, and the `seq`
        // bump re-checks under the conversation's row lock that it is still open.
        let rows = contact_identity::Entity::find()
            .filter(contact_identity::Column::InboxId.eq(*inbox))
            .filter(contact_identity::Column::ExternalId.is_in(ids))
            .all(tx)
            .await?;
        for i in rows {
            identities.insert((*inbox, i.external_id.clone()), i);
        }
    }
    let contact_ids: Vec<i64> = identities.values().map(|i| i.contact_id).collect();
    let contacts: HashMap<i64, contact::Model> = if contact_ids.is_empty() {
        HashMap::new()
    } else {
        contact::Entity::find()
            .filter(contact::Column::Id.is_in(contact_ids))
            .all(tx)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect()
    };
    let identity_ids: Vec<i64> = identities.values().map(|i| i.id).collect();
    let mut open: HashMap<i64, conversation::Model> = HashMap::new();
    if !identity_ids.is_empty() {
        let rows = conversation::Entity::find()
            .filter(conversation::Column::IdentityId.is_in(identity_ids))
            .filter(conversation::Column::Status.is_not_in([Status::Resolved, Status::Closed]))
            .order_by_asc(conversation::Column::Id)
            .all(tx)
            .await?;
        for c in rows {
            open.insert(c.identity_id, c); // the newest open one wins
        }
    }

    let mut seen_keys: HashSet<(i64, String)> = HashSet::new();
    let mut general_senders: HashSet<(i64, String)> = HashSet::new();
    let mut plans = Vec::with_capacity(envs.len());
    for env in envs {
        let sender = (env.inbox_id, env.sender.external_id.clone());
        let key = env.dedupe_key.clone().map(|k| (env.inbox_id, k));
        if let Some(a) = key.as_ref().and_then(|k| dupes.get(k)) {
            plans.push(Plan::Duplicate(*a));
            continue;
        }
        let repeated = key.as_ref().is_some_and(|k| !seen_keys.insert(k.clone()));
        let fast = (!repeated && !general_senders.contains(&sender))
            .then(|| fast_target(env, identities.get(&sender), &contacts, &open))
            .flatten();
        match fast {
            Some(p) => plans.push(p),
            None => {
                general_senders.insert(sender);
                plans.push(Plan::General);
            }
        }
    }
    Ok(plans)
}

/// The open conversation a plain message from a known, unchanged customer goes to.
fn fast_target(
    env: &InboundEnvelope,
    identity: Option<&contact_identity::Model>,
    contacts: &HashMap<i64, contact::Model>,
    open: &HashMap<i64, conversation::Model>,
) -> Option<Plan> {
    let t = &env.thread;
    if !t.references.is_empty() || t.new_conversation {
        return None;
    }
    let identity = identity?;
    let contact = contacts.get(&identity.contact_id)?;
    let unchanged = contact.merged_into_id.is_none()
        && (env.sender.display_name.is_none() || contact.name.is_some())
        && (env.sender.email.is_none() || contact.email.is_some())
        && env
            .sender
            .attributes
            .iter()
            .all(|(k, v)| contact.attributes.get(k) == Some(v));
    let conv = open.get(&identity.id)?;
    // A web chat tab names its conversation by token: the open one, or the general path decides.
    if t.conversation_token
        .as_ref()
        .is_some_and(|token| *token != conv.token)
    {
        return None;
    }
    // A pending conversation changes status on a customer reply: the general path does that.
    let steady = STEADY.contains(&conv.status);
    (unchanged && steady).then(|| Plan::Fast {
        conversation: conv.id,
        contact: contact.id,
        sender_name: contact
            .name
            .clone()
            .or_else(|| identity.display_name.clone()),
    })
}

/// One conversation's share of a group.
struct Bump {
    conversation: i64,
    /// Its new messages.
    messages: i64,
    /// The score of its last message that has one.
    sentiment: Option<f32>,
}

/// `last_seq += messages` (and the sentiment, when scored) for every conversation in one
/// statement; returns the new `last_seq`s.
async fn bump_seqs(
    tx: &DatabaseTransaction,
    counts: &[Bump],
    now: chrono::DateTime<Utc>,
) -> Result<HashMap<i64, i64>, StoreError> {
    let backend = tx.get_database_backend();
    if backend == DbBackend::Postgres {
        // Lock the rows in id order first: an UPDATE locks them in whatever order its plan
        // visits them, and two nodes' groups sharing conversations would then deadlock.
        let ids: Vec<String> = counts.iter().map(|b| b.conversation.to_string()).collect();
        let sql = format!(
            "SELECT id FROM conversations WHERE id IN ({}) ORDER BY id FOR UPDATE",
            ids.join(", ")
        );
        tx.query_all_raw(Statement::from_string(backend, sql))
            .await?;
    }
    let mut values: Vec<Value> = Vec::new();
    let mut n = 0;
    let mut ph = |values: &mut Vec<Value>, v: Value, cast: &str| {
        values.push(v);
        n += 1;
        match backend {
            DbBackend::Postgres => format!("${n}{cast}"),
            _ => "?".to_owned(),
        }
    };
    let rows: Vec<String> = counts
        .iter()
        .map(|b| {
            let id = ph(&mut values, b.conversation.into(), "::bigint");
            let k = ph(&mut values, b.messages.into(), "::bigint");
            let s = ph(
                &mut values,
                b.sentiment.map(f64::from).into(),
                "::double precision",
            );
            format!("({id}, {k}, {s})")
        })
        .collect();
    let t1 = ph(&mut values, now.into(), "");
    let t2 = ph(&mut values, now.into(), "");
    let t3 = ph(&mut values, now.into(), "");
    let sql = format!(
        "WITH v(id, k, s) AS (VALUES {}) \
         UPDATE conversations SET last_seq = last_seq + (SELECT k FROM v WHERE v.id = conversations.id), \
         sentiment = COALESCE((SELECT s FROM v WHERE v.id = conversations.id), sentiment), \
         last_message_at = {t1}, last_inbound_at = {t2}, updated_at = {t3} \
         WHERE id IN (SELECT id FROM v) AND status IN ('{}', '{}', '{}') RETURNING id, last_seq",
        rows.join(", "),
        STEADY[0],
        STEADY[1],
        STEADY[2],
    );
    let out = tx
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    let mut last = HashMap::new();
    for r in out {
        last.insert(
            r.try_get::<i64>("", "id")?,
            r.try_get::<i64>("", "last_seq")?,
        );
    }
    if last.len() != counts.len() {
        // A conversation changed status since the plan read it (an agent resolved it, say):
        // the group is stored again envelope by envelope, through the general path.
        return Err(StoreError::Conflict(
            "a conversation changed while its messages were grouped".into(),
        ));
    }
    Ok(last)
}
