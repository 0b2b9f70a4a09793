//! Summaries by the language model. A resolve or transfer commits its extractive summary as
//! always (the model is slow and remote, and must never hold that transaction); once the
//! event is relayed, the model is asked for a summary of the same messages, to a fixed JSON
//! schema (`kefu_ai::llm::prompt`), and the stored summary's body is replaced by it
//! (`source: "llm"`). On any failure — timeout, the API's error, an answer off the schema, the
//! inbox's budget — the extractive summary stays and records why (`llm_error`).
//!
//! [`Consumers`] runs the dispatcher's fan-out, then starts these rewrites without waiting
//! for them, so the relay goes on at its pace. The relay runs each batch on one node, so each
//! summary is asked for once (again only when a batch is retried after a failure; the first
//! replacement wins).

use std::sync::Arc;

use kefu_ai::llm::prompt;
use kefu_dispatcher::outbound::fanout::Fanout;
use kefu_normalizer::events::{ConsumeError, OutboxConsumer};
use kefu_normalizer::summaries::{self, SummaryBody, SummaryView};
use kefu_normalizer::{Db, Event, EventData};
use tokio::sync::Semaphore;

use super::{Assist, AssistError};
use crate::state::AppState;

/// Summaries asked for at once (per node); further ones wait their turn.
const CONCURRENT: usize = 4;

/// Rewrites committed summaries with the model.
#[derive(Clone)]
pub struct SummaryWriter {
    assist: Assist,
    db: Db,
    slots: Arc<Semaphore>,
}

impl SummaryWriter {
    /// A writer asking `assist`, storing in `db`.
    pub fn new(assist: Assist, db: Db) -> Self {
        Self {
            assist,
            db,
            slots: Arc::new(Semaphore::new(CONCURRENT)),
        }
    }

    /// Starts a rewrite of each summary `events` carry.
    pub fn on_events(&self, events: &[Arc<Event>]) {
        for e in events {
            if let EventData::ConversationResolved(c) | EventData::ConversationTransferred(c) =
                &e.data
                && let Some(summary) = &c.summary
                && summary.source == kefu_ai::summary::SOURCE
            {
                let this = self.clone();
                let (inbox, summary) = (c.inbox_id, summary.clone());
                tokio::spawn(async move { this.rewrite(inbox, summary).await });
            }
        }
    }

    /// Asks the model for summary `s` of a conversation of inbox `inbox_id` and stores its
    /// answer, or why there is none.
    pub async fn rewrite(&self, inbox_id: i64, s: SummaryView) {
        let Ok(_slot) = self.slots.acquire().await else {
            return;
        };
        let extractive = SummaryBody {
            source: s.source.clone(),
            facts: s.facts.clone(),
            sentences: s.sentences.clone(),
            llm_error: None,
        };
        let body = match self.ask(inbox_id, &s).await {
            Ok(body) => body,
            Err(e) => {
                tracing::info!(summary = s.id, error = %e, "The language model did not write a summary; the extractive one stays.");
                SummaryBody {
                    llm_error: Some(e.to_string()),
                    ..extractive
                }
            }
        };
        if let Err(e) = summaries::replace(&self.db, s.id, &body).await {
            tracing::warn!(summary = s.id, error = %e, "Cannot store the language model's summary.");
        }
    }

    async fn ask(&self, inbox_id: i64, s: &SummaryView) -> Result<SummaryBody, AssistError> {
        let input = summaries::input_of(&self.db, s.conversation_id, s.created_at).await?;
        let answer = self
            .assist
            .ask(inbox_id, &prompt::summary_request(&input), true)
            .await?;
        Ok(prompt::parse_summary(&answer.content, s.facts.clone())?)
    }
}

/// The relay's consumer: the dispatcher's fan-out, then the model's summaries when
/// configured.
pub struct Consumers {
    /// Jobs, metrics, webhooks, the bot.
    pub fanout: Arc<Fanout>,
    /// Summaries by the language model.
    pub summaries: Option<SummaryWriter>,
}

impl Consumers {
    /// `fanout`, plus summaries by the state's model when there is one and
    /// `ai.llm.summaries` is on.
    pub fn new(fanout: Arc<Fanout>, st: &AppState) -> Arc<Self> {
        Arc::new(Self {
            fanout,
            summaries: st
                .llm
                .as_ref()
                .filter(|_| st.config.ai.llm.summaries)
                .map(|a| SummaryWriter::new(a.clone(), st.db.clone())),
        })
    }
}

#[async_trait::async_trait]
impl OutboxConsumer for Consumers {
    async fn consume(&self, events: &[Arc<Event>]) -> Result<(), ConsumeError> {
        self.fanout.consume(events).await?;
        if let Some(s) = &self.summaries {
            s.on_events(events);
        }
        Ok(())
    }
}
