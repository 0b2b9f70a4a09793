//! [`Proposals`]: question and answer pairs learnt from resolved conversations, and the
//! admins' decisions on them.
//!
//! What is learnt ([`exchange`], pure): among a conversation's messages without private notes
//! and Kefu's automatic ones, the first human agent's answer that follows something the
//! customer wrote; the question is what the customer wrote since the last answer before it
//! (the bot's or an agent's), the answer the agent's messages up to the customer's next one.
//! Deciding whether the knowledge base already covers the question, and redacting personal
//! data, is the caller's job (`kefu-ai`), which stores the pair with [`Proposals::propose`].

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{KnowledgeInput, KnowledgeView, MAX_ANSWER_CHARS, MAX_QUESTION_CHARS};
use crate::db::Db;
use crate::entity::knowledge_proposal;
use crate::entity::message::{self, SenderType};
use crate::error::StoreError;

/// How many of a conversation's first messages are read to find the exchange.
pub const READ_MESSAGES: u64 = 200;

/// Where a proposal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProposalStatus {
    /// Waiting for an admin.
    Pending,
    /// Turned into a knowledge-base entry.
    Approved,
    /// Dropped.
    Rejected,
}

impl ProposalStatus {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
        }
    }

    fn of(s: &str) -> Self {
        match s {
            "approved" => Self::Approved,
            "rejected" => Self::Rejected,
            _ => Self::Pending,
        }
    }
}

/// A proposal as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProposalView {
    /// The proposal's id.
    pub id: i64,
    /// The conversation it was learnt from.
    pub conversation_id: i64,
    /// Its inbox.
    pub inbox_id: i64,
    /// The customer's question (personal data redacted).
    pub question: String,
    /// The agent's answer (personal data redacted).
    pub answer: String,
    /// The best score the knowledge base had for the question, 0 to 1 (`null`: none at all).
    pub best_score: Option<f64>,
    /// The agent who answered.
    pub agent_id: Option<i64>,
    /// `pending`, `approved` or `rejected`.
    pub status: ProposalStatus,
    /// The entry an approval created.
    pub knowledge_id: Option<i64>,
    /// Who approved or rejected it.
    pub decided_by: Option<i64>,
    /// When.
    pub decided_at: Option<DateTime<Utc>>,
    /// When it was proposed.
    pub created_at: DateTime<Utc>,
}

impl From<&knowledge_proposal::Model> for ProposalView {
    fn from(m: &knowledge_proposal::Model) -> Self {
        Self {
            id: m.id,
            conversation_id: m.conversation_id,
            inbox_id: m.inbox_id,
            question: m.question.clone(),
            answer: m.answer.clone(),
            best_score: m.best_score,
            agent_id: m.agent_id,
            status: ProposalStatus::of(&m.status),
            knowledge_id: m.knowledge_id,
            decided_by: m.decided_by,
            decided_at: m.decided_at,
            created_at: m.created_at,
        }
    }
}

/// One message as [`exchange`] reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Said {
    /// The message.
    pub id: i64,
    /// Who wrote it (never a private note).
    pub sender: SenderType,
    /// The agent, for an agent's message.
    pub sender_id: Option<i64>,
    /// Its text.
    pub text: String,
}

/// A customer's question and the human agent's answer to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// What the customer wrote, one message per line.
    pub question: String,
    /// The customer's last message of it.
    pub question_message_id: i64,
    /// What the agent answered, one message per line.
    pub answer: String,
    /// The agent's first message of it.
    pub answer_message_id: i64,
    /// The agent.
    pub agent_id: Option<i64>,
}

/// The first exchange of `messages` (oldest first, no private notes) where a human agent
/// answered the customer; `None` when no agent answered anything the customer wrote, or the
/// question or answer would be too long for an entry (more than the last message of a long
/// question is not kept).
pub fn exchange(messages: &[Said]) -> Option<Exchange> {
    let mut asked: Vec<&Said> = Vec::new();
    let mut i = 0;
    while i < messages.len() {
        let m = &messages[i];
        match m.sender {
            SenderType::Contact => {
                if !m.text.trim().is_empty() {
                    asked.push(m);
                }
            }
            SenderType::Bot => asked.clear(),
            SenderType::System => {}
            SenderType::Agent if asked.is_empty() || m.text.trim().is_empty() => asked.clear(),
            SenderType::Agent => {
                let mut answer: Vec<&Said> = vec![m];
                for next in &messages[i + 1..] {
                    match next.sender {
                        SenderType::Agent if next.sender_id == m.sender_id => answer.push(next),
                        SenderType::System => {}
                        _ => break,
                    }
                }
                let joined = |ms: &[&Said]| {
                    ms.iter()
                        .map(|s| s.text.trim())
                        .filter(|t| !t.is_empty())
                        .collect::<Vec<_>>()
                        .join("\n")
                };
                let mut question = joined(&asked);
                if question.chars().count() > MAX_QUESTION_CHARS {
                    question = joined(&asked[asked.len() - 1..]);
                }
                let answer_text = joined(&answer);
                if question.chars().count() > MAX_QUESTION_CHARS
                    || answer_text.chars().count() > MAX_ANSWER_CHARS
                {
                    return None;
                }
                return Some(Exchange {
                    question,
                    question_message_id: asked.last().map(|s| s.id)?,
                    answer: answer_text,
                    answer_message_id: m.id,
                    agent_id: m.sender_id,
                });
            }
        }
        i += 1;
    }
    None
}

/// A pair to propose.
#[derive(Debug, Clone, PartialEq)]
pub struct NewProposal {
    /// The conversation.
    pub conversation_id: i64,
    /// Its inbox.
    pub inbox_id: i64,
    /// The exchange, personal data already redacted.
    pub exchange: Exchange,
    /// The knowledge base's best score for the question.
    pub best_score: Option<f64>,
}

/// Why a decision on a proposal failed.
#[derive(Debug, thiserror::Error)]
pub enum ProposalError {
    /// It was approved or rejected already (409).
    #[error("the proposal was {} already", .0.as_str())]
    Decided(ProposalStatus),
    /// Not found, an invalid entry, or the database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sea_orm::DbErr> for ProposalError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Store(e.into())
    }
}

/// The proposals.
#[derive(Debug, Clone)]
pub struct Proposals {
    db: Db,
}

impl Proposals {
    /// The store over `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Whether conversation `conversation_id` has a proposal (whatever became of it).
    pub async fn exists(&self, conversation_id: i64) -> Result<bool, StoreError> {
        Ok(knowledge_proposal::Entity::find()
            .filter(knowledge_proposal::Column::ConversationId.eq(conversation_id))
            .one(self.db.conn())
            .await?
            .is_some())
    }

    /// The first exchange of conversation `conversation_id` an agent answered ([`exchange`]).
    pub async fn exchange_of(&self, conversation_id: i64) -> Result<Option<Exchange>, StoreError> {
        let said: Vec<Said> = message::Entity::find()
            .filter(message::Column::ConversationId.eq(conversation_id))
            .filter(message::Column::Private.eq(false))
            .order_by_asc(message::Column::Seq)
            .limit(READ_MESSAGES)
            .all(self.db.conn())
            .await?
            .into_iter()
            .map(|m| Said {
                id: m.id,
                sender: m.sender_type,
                sender_id: m.sender_id,
                text: m.text,
            })
            .collect();
        Ok(exchange(&said))
    }

    /// Stores `p` as pending; `false` when the conversation has a proposal already.
    pub async fn propose(&self, p: NewProposal) -> Result<bool, StoreError> {
        let res = knowledge_proposal::Entity::insert(knowledge_proposal::ActiveModel {
            conversation_id: Set(p.conversation_id),
            inbox_id: Set(p.inbox_id),
            question: Set(p.exchange.question),
            answer: Set(p.exchange.answer),
            best_score: Set(p.best_score),
            question_message_id: Set(p.exchange.question_message_id),
            answer_message_id: Set(p.exchange.answer_message_id),
            agent_id: Set(p.exchange.agent_id),
            status: Set(ProposalStatus::Pending.as_str().to_owned()),
            created_at: Set(Utc::now()),
            ..Default::default()
        })
        .on_conflict(
            OnConflict::column(knowledge_proposal::Column::ConversationId)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(self.db.conn())
        .await?;
        Ok(res > 0)
    }

    /// Up to `limit` proposals after `after` in list order: pending ones first, then decided
    /// ones, newest first within each. `after` is the previous page's last `(pending, id)`.
    pub async fn list(
        &self,
        after: Option<(bool, i64)>,
        limit: u64,
    ) -> Result<Vec<ProposalView>, StoreError> {
        let page = |pending: bool, below: Option<i64>, n: u64| {
            let mut q = knowledge_proposal::Entity::find();
            q = if pending {
                q.filter(knowledge_proposal::Column::Status.eq(ProposalStatus::Pending.as_str()))
            } else {
                q.filter(knowledge_proposal::Column::Status.ne(ProposalStatus::Pending.as_str()))
            };
            if let Some(id) = below {
                q = q.filter(knowledge_proposal::Column::Id.lt(id));
            }
            q.order_by_desc(knowledge_proposal::Column::Id)
                .limit(n)
                .all(self.db.conn())
        };
        let mut rows = Vec::new();
        if after.is_none_or(|(pending, _)| pending) {
            rows = page(true, after.map(|a| a.1), limit).await?;
        }
        let room = limit.saturating_sub(rows.len() as u64);
        if room > 0 {
            let below = after.filter(|(pending, _)| !pending).map(|a| a.1);
            rows.extend(page(false, below, room).await?);
        }
        Ok(rows.iter().map(ProposalView::from).collect())
    }

    /// Proposal `id`.
    pub async fn get(&self, id: i64) -> Result<ProposalView, StoreError> {
        knowledge_proposal::Entity::find_by_id(id)
            .one(self.db.conn())
            .await?
            .map(|r| ProposalView::from(&r))
            .ok_or(StoreError::NotFound("proposal"))
    }

    /// Approves pending proposal `id` as agent `by`: adds `entry` (the proposal's own question
    /// and answer, or an admin's edit of them) to the knowledge base, in one transaction with
    /// the decision.
    pub async fn approve(
        &self,
        id: i64,
        entry: KnowledgeInput,
        by: i64,
    ) -> Result<(ProposalView, KnowledgeView), ProposalError> {
        let input = entry.checked()?;
        let tx = self.db.begin_write().await?;
        let now = Utc::now();
        let row = super::entries::new_row(input, now).insert(&*tx).await?;
        let decided = decide(&tx, id, ProposalStatus::Approved, Some(row.id), by, now).await;
        match decided {
            Ok(p) => {
                tx.commit().await?;
                Ok((p, KnowledgeView::from(&row)))
            }
            Err(e) => {
                tx.rollback().await?;
                Err(e)
            }
        }
    }

    /// Rejects pending proposal `id` as agent `by`.
    pub async fn reject(&self, id: i64, by: i64) -> Result<ProposalView, ProposalError> {
        let tx = self.db.begin_write().await?;
        match decide(&tx, id, ProposalStatus::Rejected, None, by, Utc::now()).await {
            Ok(p) => {
                tx.commit().await?;
                Ok(p)
            }
            Err(e) => {
                tx.rollback().await?;
                Err(e)
            }
        }
    }
}

/// Marks pending proposal `id` as `status`; the update is conditional on its being pending,
/// so two admins deciding at once decide once.
async fn decide(
    tx: &crate::db::WriteTx,
    id: i64,
    status: ProposalStatus,
    knowledge_id: Option<i64>,
    by: i64,
    now: DateTime<Utc>,
) -> Result<ProposalView, ProposalError> {
    let res = knowledge_proposal::Entity::update_many()
        .col_expr(
            knowledge_proposal::Column::Status,
            Expr::value(status.as_str()),
        )
        .col_expr(
            knowledge_proposal::Column::KnowledgeId,
            Expr::value(knowledge_id),
        )
        .col_expr(knowledge_proposal::Column::DecidedBy, Expr::value(Some(by)))
        .col_expr(
            knowledge_proposal::Column::DecidedAt,
            Expr::value(Some(now)),
        )
        .filter(knowledge_proposal::Column::Id.eq(id))
        .filter(knowledge_proposal::Column::Status.eq(ProposalStatus::Pending.as_str()))
        .exec(&**tx)
        .await?;
    let row = knowledge_proposal::Entity::find_by_id(id)
        .one(&**tx)
        .await?
        .ok_or(StoreError::NotFound("proposal"))?;
    if res.rows_affected == 0 {
        return Err(ProposalError::Decided(ProposalStatus::of(&row.status)));
    }
    Ok(ProposalView::from(&row))
}

#[cfg(test)]
#[path = "proposals_tests.rs"]
mod tests;
