//! [`IntentDetector`]: which named intent a customer's message expresses, by nearest
//! neighbours over the intents' example phrases.
//!
//! Every example phrase is one document of a [`KnowledgeIndex`] — the FAQ bot's index, with
//! its features (jieba words and Chinese bigrams, synonyms, English plurals) and its typo
//! correction — scored by [`Scoring::Coverage`] rather than the FAQ bot's F1: each intent
//! scores how much of its closest example the message covers (0 to 1), every feature weighed
//! by how few intents' examples use it. A long message is not marked down for what it says
//! beyond the example, and a word every intent uses ("order") counts little against a telling
//! one ("invoice"). [`classify`] then names the best intent when its score reaches
//! [`MIN_SCORE`] and it leads the next intent by at least [`MIN_MARGIN`]; otherwise no intent.
//! It is deterministic: the same intents and text give the same answer on every node.
//!
//! When the index is unsure (it names no intent) and a language model is configured
//! ([`IntentDetector::set_model`]), [`IntentDetector::detect_first`] asks the model once per
//! message, in the background, and routing waits for its answer (at most [`MODEL_WAIT`]); the
//! model may only name an enabled intent, and its pick is stored with `source: "llm"`.
//!
//! The index is derived from the `intents` table: [`IntentDetector::refresh`] compares a
//! fingerprint of the table (how many intents, the latest change; one small query) and
//! rebuilds the index when it moved, so every node follows edits made through any node
//! before its next detection. Intents are few (tens, each with tens of examples), so a
//! rebuild takes milliseconds.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use kefu_normalizer::Db;
use kefu_normalizer::intents::{
    Fingerprint, IntentCandidate, IntentMatch, IntentStore, IntentView,
};
use tokio::sync::Mutex;

use crate::AiError;
use crate::index::{Document, Hit, KnowledgeIndex, Scoring};

/// The least score an intent needs to be named.
pub const MIN_SCORE: f32 = 0.35;
/// How far the best intent must lead the next one.
pub const MIN_MARGIN: f32 = 0.05;
/// Intents kept with a detection, best first.
pub const CANDIDATES: usize = 5;
/// How long a first message the index is unsure about waits for the model's answer; then it
/// is routed by the index's detection (no intent).
pub const MODEL_WAIT: Duration = Duration::from_secs(5);
/// How long a model's answer is kept for routing to pick up.
const ANSWER_KEPT: Duration = Duration::from_secs(600);

/// A language model that names the intent of a message the index is unsure about.
#[async_trait::async_trait]
pub trait IntentModel: Send + Sync {
    /// Which of `intents` (the enabled ones) `text`, a message in inbox `inbox_id`,
    /// expresses: its name, or `None`. `Err` says why there is no answer.
    async fn classify(
        &self,
        inbox_id: i64,
        text: &str,
        intents: &[IntentView],
    ) -> Result<Option<String>, String>;
}

/// Where the detection of a first message stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Detection {
    /// Decided: route with it.
    Ready(IntentMatch),
    /// The model was asked and has not answered yet: route it later.
    Waiting,
}

impl Document for IntentView {
    fn id(&self) -> i64 {
        self.id
    }

    fn enabled(&self) -> bool {
        self.enabled
    }

    fn phrasings(&self) -> impl Iterator<Item = &str> {
        self.examples.iter().map(String::as_str)
    }

    fn answer(&self) -> &str {
        &self.name
    }

    /// Examples of one intent mix languages freely; none counts less for its script.
    fn locale(&self) -> Option<&str> {
        None
    }
}

/// The detection for `hits` (one per intent, best first, as [`KnowledgeIndex::search`] gives
/// them): the best intent when it scores at least [`MIN_SCORE`] and leads the runner-up by at
/// least [`MIN_MARGIN`], else none; with the candidates either way.
pub fn classify(hits: &[Hit]) -> IntentMatch {
    let score = hits.first().map(|h| h.score).unwrap_or(0.0);
    let runner_up = hits.get(1).map(|h| h.score).unwrap_or(0.0);
    // Scores are rounded to thousandths; the margin too, so 0.8 − 0.75 is 0.05.
    let margin = ((score - runner_up) * 1000.0).round() / 1000.0;
    let intent = hits
        .first()
        .filter(|_| score >= MIN_SCORE && margin >= MIN_MARGIN)
        .map(|h| h.answer.clone());
    IntentMatch {
        intent,
        score,
        margin,
        candidates: hits
            .iter()
            .map(|h| IntentCandidate {
                intent: h.answer.clone(),
                score: h.score,
            })
            .collect(),
        message_id: None,
        detected_at: None,
        source: None,
    }
}

/// Detects intents; cheap to clone.
#[derive(Clone)]
pub struct IntentDetector {
    inner: Arc<Inner>,
}

struct Inner {
    store: IntentStore,
    index: KnowledgeIndex,
    /// The table as the index was last built from it; `None` before the first build.
    seen: Mutex<Option<Fingerprint>>,
    /// The enabled intents as last indexed (what the model is offered).
    listed: std::sync::Mutex<Arc<Vec<IntentView>>>,
    /// The model asked when the index is unsure, if any.
    model: OnceLock<Arc<dyn IntentModel>>,
    /// Messages the model was asked about: when, and its answer once it came.
    asked: std::sync::Mutex<HashMap<i64, (Instant, Option<IntentMatch>)>>,
}

impl IntentDetector {
    /// A detector over `db`'s intents; its index is built at the first [`Self::refresh`].
    pub fn new(db: Db) -> Result<Self, AiError> {
        Ok(Self {
            inner: Arc::new(Inner {
                store: IntentStore::new(db),
                index: KnowledgeIndex::with_scoring(Scoring::Coverage)?,
                seen: Mutex::new(None),
                listed: std::sync::Mutex::default(),
                model: OnceLock::new(),
                asked: std::sync::Mutex::default(),
            }),
        })
    }

    /// Asks `model` whenever the index is unsure (once; later calls change nothing).
    pub fn set_model(&self, model: Arc<dyn IntentModel>) {
        let _ = self.inner.model.set(model);
    }

    /// The intents' store.
    pub fn store(&self) -> &IntentStore {
        &self.inner.store
    }

    /// Rebuilds the index when the stored intents changed since the last build; returns
    /// whether it did.
    pub async fn refresh(&self) -> Result<bool, AiError> {
        let mut seen = self.inner.seen.lock().await;
        // Read before the intents: a change landing in between makes the next refresh
        // rebuild again, never miss it.
        let now = self.inner.store.fingerprint().await?;
        if *seen == Some(now) {
            return Ok(false);
        }
        let intents = self.inner.store.list().await?;
        let enabled: Vec<IntentView> = intents.iter().filter(|i| i.enabled).cloned().collect();
        let count = enabled.len();
        let index = self.inner.index.clone();
        tokio::task::spawn_blocking(move || index.rebuild(&intents))
            .await
            .map_err(|e| AiError::Index(format!("indexing stopped: {e}")))??;
        *seen = Some(now);
        *self
            .inner
            .listed
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(enabled);
        tracing::debug!(intents = count, "Intent index built.");
        Ok(true)
    }

    /// Whether no enabled intent is indexed (then nothing is detected, and nothing stored).
    pub fn is_empty(&self) -> bool {
        self.inner.index.is_empty()
    }

    /// The intent of `text` by the index as it stands (see [`classify`]).
    pub fn detect(&self, text: &str) -> Result<IntentMatch, AiError> {
        let started = std::time::Instant::now();
        let hits = self.inner.index.search(text, CANDIDATES)?;
        metrics::histogram!("kefu_ai_intent_seconds").record(started.elapsed().as_secs_f64());
        Ok(classify(&hits))
    }

    /// The intent of `text`, the first message `message_id` of a conversation in inbox
    /// `inbox_id`: the index's detection when it names an intent or no model is set. Else
    /// the model is asked (once per message, in the background; `woken` is called when it
    /// has answered or [`MODEL_WAIT`] passed) and this is [`Detection::Waiting`] until then,
    /// after which it is the model's pick (`source: "llm"`), or the index's detection when
    /// the model named none or failed.
    pub fn detect_first(
        &self,
        inbox_id: i64,
        message_id: i64,
        text: &str,
        woken: impl FnOnce() + Send + 'static,
    ) -> Result<Detection, AiError> {
        let local = self.detect(text)?;
        let Some(model) = self.inner.model.get().filter(|_| local.intent.is_none()) else {
            return Ok(Detection::Ready(local));
        };
        {
            let mut asked = self
                .inner
                .asked
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            match asked.get(&message_id) {
                Some((_, Some(answer))) => return Ok(Detection::Ready(answer.clone())),
                Some((_, None)) => return Ok(Detection::Waiting),
                None => {}
            }
            asked.retain(|_, (at, _)| at.elapsed() < ANSWER_KEPT);
            asked.insert(message_id, (Instant::now(), None));
        }
        let intents = self
            .inner
            .listed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let (model, inner, text) = (model.clone(), self.inner.clone(), text.to_owned());
        tokio::spawn(async move {
            let asked = tokio::time::timeout(MODEL_WAIT, model.classify(inbox_id, &text, &intents));
            let (answer, result) = match asked.await {
                Ok(Ok(intent)) => {
                    let result = if intent.is_some() { "named" } else { "none" };
                    // Asked only when the index named none: the model's pick, or none.
                    let answer = IntentMatch {
                        intent,
                        source: Some(crate::llm::prompt::SOURCE.to_owned()),
                        ..local
                    };
                    (answer, result)
                }
                Ok(Err(e)) => {
                    tracing::info!(message = message_id, error = %e, "The language model named no intent; routing by the index.");
                    (local, "failed")
                }
                Err(_) => {
                    tracing::info!(
                        message = message_id,
                        "The language model did not name an intent in time; routing by the index."
                    );
                    (local, "timeout")
                }
            };
            metrics::counter!("kefu_ai_intent_model_total", "result" => result).increment(1);
            inner
                .asked
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(message_id, (Instant::now(), Some(answer)));
            woken();
        });
        Ok(Detection::Waiting)
    }
}

#[cfg(test)]
#[path = "intent_tests.rs"]
mod tests;
