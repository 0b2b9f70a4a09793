//! Learning: when a conversation resolves with a human agent's answer to a question the
//! knowledge base does not clearly answer, the pair is proposed for the knowledge base.
//!
//! It runs on the outbox's committed `conversation.resolved` events ([`crate::FaqBot`] hands
//! them over), so the resolve's own transaction does no extra work. For each conversation
//! without a proposal yet: the first exchange a human agent answered
//! ([`kefu_normalizer::knowledge::proposals::exchange`]: no private notes, no bot or automatic
//! messages); the question is searched in the index, and a weak match by the inbox's bot
//! thresholds ([`crate::decide::weak_match`], whatever the bot's mode) makes a proposal, with
//! personal data redacted ([`crate::sensitive::redact`]) from both texts.

use kefu_normalizer::StoreError;
use kefu_normalizer::knowledge::proposals::{NewProposal, Proposals};
use kefu_normalizer::knowledge::{BotSettings, BotStore};

use crate::AiError;
use crate::decide::weak_match;
use crate::index::KnowledgeIndex;
use crate::sensitive::redact;

/// Proposes what resolved conversations teach.
#[derive(Clone)]
pub struct Learner {
    proposals: Proposals,
    store: BotStore,
    index: KnowledgeIndex,
}

impl Learner {
    /// A learner storing with `proposals`, reading inboxes' thresholds from `store` and
    /// matching with `index`.
    pub fn new(proposals: Proposals, store: BotStore, index: KnowledgeIndex) -> Self {
        Self {
            proposals,
            store,
            index,
        }
    }

    /// Looks at each resolved `(conversation_id, inbox_id)`; returns how many proposals were
    /// stored.
    pub async fn learn(&self, resolved: &[(i64, i64)]) -> Result<usize, AiError> {
        let mut proposed = 0;
        for &(conversation_id, inbox_id) in resolved {
            if self.proposals.exists(conversation_id).await? {
                continue;
            }
            let Some(mut exchange) = self.proposals.exchange_of(conversation_id).await? else {
                continue;
            };
            let settings = match self.store.settings(inbox_id).await {
                Ok(s) => s,
                Err(StoreError::NotFound(_)) => BotSettings::default(),
                Err(e) => return Err(e.into()),
            };
            let hits = self.index.search(&exchange.question, 2)?;
            if !weak_match(&hits, &settings) {
                continue;
            }
            exchange.question = redact(&exchange.question);
            exchange.answer = redact(&exchange.answer);
            let stored = self
                .proposals
                .propose(NewProposal {
                    conversation_id,
                    inbox_id,
                    exchange,
                    // Scores are rounded to thousandths already; keep them so in f64.
                    best_score: hits
                        .first()
                        .map(|h| (f64::from(h.score) * 1000.0).round() / 1000.0),
                })
                .await?;
            if stored {
                proposed += 1;
                metrics::counter!("kefu_ai_proposals_total").increment(1);
                tracing::debug!(conversation = conversation_id, "Knowledge proposed.");
            }
        }
        Ok(proposed)
    }
}
