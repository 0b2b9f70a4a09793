//! [`FaqBot`]: answers customers from the knowledge base in inboxes whose bot is in `auto`
//! mode, and hands the rest to humans; [`FaqBot::suggestions`] serves agents in `suggest` and
//! `auto` inboxes.
//!
//! The outbox's consumer hands every batch of committed events to [`FaqBot::on_events`], which
//! looks at customers' new messages (when no inbox is in `auto` mode that costs one query per
//! batch) and hands resolved conversations to the [`Learner`].

use std::sync::Arc;

use chrono::Utc;
use kefu_normalizer::knowledge::proposals::Proposals;
use kefu_normalizer::knowledge::{BotMode, BotStore, Candidate, Knowledge};
use kefu_normalizer::{Db, Direction, Event, EventData, SenderType};

use crate::AiError;
use crate::decide::decide;
use crate::index::{Hit, KnowledgeIndex};
use crate::learn::Learner;

/// Candidates the bot weighs and keeps with each decision.
pub const CANDIDATES: usize = 5;

/// How many suggestions agents get.
pub const SUGGESTIONS: usize = 3;

/// The FAQ bot and the agents' suggestions; cheap to clone.
#[derive(Clone)]
pub struct FaqBot {
    store: BotStore,
    knowledge: Knowledge,
    proposals: Proposals,
    learner: Learner,
    index: KnowledgeIndex,
}

impl FaqBot {
    /// The bot over `db`, matching with `index`.
    pub fn new(db: Db, index: KnowledgeIndex) -> Self {
        let store = BotStore::new(db.clone());
        let proposals = Proposals::new(db.clone());
        Self {
            learner: Learner::new(proposals.clone(), store.clone(), index.clone()),
            store,
            knowledge: Knowledge::new(db),
            proposals,
            index,
        }
    }

    /// The index it matches with (the API keeps it in step with edits).
    pub fn index(&self) -> &KnowledgeIndex {
        &self.index
    }

    /// The knowledge base's store.
    pub fn knowledge(&self) -> &Knowledge {
        &self.knowledge
    }

    /// The proposals learnt from resolved conversations.
    pub fn proposals(&self) -> &Proposals {
        &self.proposals
    }

    /// The bot's store (settings, decisions).
    pub fn store(&self) -> &BotStore {
        &self.store
    }

    /// Decides on the customers' new messages among `events`. A failure is logged and the
    /// batch goes on, like the out-of-office reply: the conversation stays with the bot until
    /// the customer writes again, and the next message is decided on.
    pub async fn on_events(&self, events: &[Arc<Event>]) {
        let resolved: Vec<(i64, i64)> = events
            .iter()
            .filter_map(|e| match &e.data {
                EventData::ConversationResolved(c) => Some((c.id, c.inbox_id)),
                _ => None,
            })
            .collect();
        if !resolved.is_empty()
            && let Err(e) = self.learner.learn(&resolved).await
        {
            // Like the bot's failures: logged; the next resolve of another conversation
            // is learnt from as usual.
            tracing::warn!(error = %e, "Learning from resolved conversations failed.");
        }
        let arrivals: Vec<(i64, i64)> = events
            .iter()
            .filter_map(|e| match &e.data {
                EventData::MessageCreated(m)
                    if m.direction == Direction::Inbound
                        && m.sender.kind == SenderType::Contact
                        && !m.private =>
                {
                    Some((m.conversation_id, m.id))
                }
                _ => None,
            })
            .collect();
        if arrivals.is_empty() {
            return;
        }
        if let Err(e) = self.answer(&arrivals).await {
            tracing::warn!(error = %e, "The FAQ bot failed.");
        }
    }

    /// Decides on each `(conversation_id, message_id)`; returns how many decisions were stored.
    pub async fn answer(&self, arrivals: &[(i64, i64)]) -> Result<usize, AiError> {
        let auto = self.store.auto_inboxes().await?;
        if auto.is_empty() {
            return Ok(0);
        }
        let mut decided = 0;
        for &(conversation_id, message_id) in arrivals {
            let Some(cx) = self
                .store
                .context(conversation_id, message_id, &auto)
                .await?
            else {
                continue;
            };
            let started = std::time::Instant::now();
            // An index failure hands the conversation to humans rather than leaving the
            // customer with nobody.
            let hits = self.index.search(&cx.text, CANDIDATES).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "The knowledge index failed; handing off.");
                Vec::new()
            });
            let decision = decide(
                &cx.text,
                &hits,
                &cx.settings,
                cx.answers_in_row,
                cx.within_hours,
            );
            metrics::histogram!("kefu_ai_match_seconds").record(started.elapsed().as_secs_f64());
            let candidates: Vec<Candidate> = hits.iter().map(candidate).collect();
            if self
                .store
                .record(&cx, &decision, &candidates, Utc::now())
                .await?
            {
                decided += 1;
                tracing::debug!(conversation = conversation_id, ?decision, "Bot decided.");
            }
        }
        Ok(decided)
    }

    /// The best [`SUGGESTIONS`] entries for the customer's latest message in conversation
    /// `conversation_id` of inbox `inbox_id`; none when the inbox's bot is off.
    pub async fn suggestions(
        &self,
        conversation_id: i64,
        inbox_id: i64,
    ) -> Result<Vec<Hit>, AiError> {
        match self.suggestion_question(conversation_id, inbox_id).await? {
            Some(text) => self.index.search(&text, SUGGESTIONS),
            None => Ok(Vec::new()),
        }
    }

    /// What agents are offered suggestions for in conversation `conversation_id` of inbox
    /// `inbox_id`: the customer's latest message, or `None` when the inbox's bot is off.
    pub async fn suggestion_question(
        &self,
        conversation_id: i64,
        inbox_id: i64,
    ) -> Result<Option<String>, AiError> {
        if self.store.settings(inbox_id).await?.mode == BotMode::Off {
            return Ok(None);
        }
        Ok(self.store.latest_inbound(conversation_id).await?)
    }
}

fn candidate(h: &Hit) -> Candidate {
    Candidate {
        knowledge_id: h.knowledge_id,
        score: h.score,
    }
}
