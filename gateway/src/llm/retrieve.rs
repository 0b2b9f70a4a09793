//! Which knowledge base entries a draft draws on, and which agents are offered as
//! suggestions: BM25's best (the FAQ bot's index) and, with `ai.embeddings` configured, the
//! entries whose embeddings are nearest the question, fused by reciprocal rank
//! (`kefu_ai::llm::fusion`). Entries are embedded once and again only when they change (kept
//! in memory per node, keyed by id and last change); the question is embedded per request.
//! Every embeddings request counts against the inbox's daily budget, like a chat request.
//! Any failure of the embeddings API, or a spent budget, falls back to BM25 alone, so a draft
//! or a suggestion never fails because of it.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use kefu_ai::FaqBot;
use kefu_ai::llm::fusion::{nearest, reciprocal_rank_fusion};
use kefu_ai::llm::{LlmClient, LlmError};
use kefu_normalizer::knowledge::KnowledgeView;
use kefu_normalizer::llm_usage::{Budget, LlmUsage};
use tokio::sync::Mutex;

/// Candidates each ranking contributes before fusion.
const CANDIDATES: usize = 20;
/// Entries embedded per request.
const BATCH: usize = 64;

/// Entries' embeddings: id → (last change, vector).
type Cache = HashMap<i64, (DateTime<Utc>, Vec<f32>)>;

/// One entry found for a question.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Found {
    /// The entry.
    pub knowledge_id: i64,
    /// How closely it matches, 0 to 1: BM25's score when BM25 found it, else the cosine
    /// similarity of the embeddings.
    pub score: f32,
}

/// Finds entries for a question; cheap to clone.
#[derive(Clone)]
pub struct Retriever {
    embeddings: Option<LlmClient>,
    cache: Arc<Mutex<Cache>>,
    usage: LlmUsage,
    budget: Budget,
}

impl Retriever {
    /// BM25 alone, or fused with `embeddings`, whose requests count in `usage` within
    /// `budget`.
    pub fn new(embeddings: Option<LlmClient>, usage: LlmUsage, budget: Budget) -> Self {
        Self {
            embeddings,
            cache: Arc::default(),
            usage,
            budget,
        }
    }

    /// Whether embeddings are configured.
    pub fn has_embeddings(&self) -> bool {
        self.embeddings.is_some()
    }

    /// The `n` entries that best answer `question`, asked in a conversation of inbox
    /// `inbox_id`, best first.
    pub async fn top(
        &self,
        bot: &FaqBot,
        question: &str,
        n: usize,
        inbox_id: i64,
    ) -> Result<Vec<Found>, String> {
        let bm25: Vec<Found> = bot
            .index()
            .search(question, CANDIDATES)
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|h| Found {
                knowledge_id: h.knowledge_id,
                score: h.score,
            })
            .collect();
        let Some(client) = &self.embeddings else {
            return Ok(bm25.into_iter().take(n).collect());
        };
        let dense = match self.dense(client, bot, question, inbox_id).await {
            Ok(dense) => dense,
            Err(e) => {
                tracing::warn!(error = %e, "Embeddings failed; the entries come from BM25 alone.");
                metrics::counter!("kefu_llm_embedding_failures_total", "kind" => e.kind())
                    .increment(1);
                return Ok(bm25.into_iter().take(n).collect());
            }
        };
        let ids = |found: &[Found]| found.iter().map(|f| f.knowledge_id).collect::<Vec<_>>();
        let fused = reciprocal_rank_fusion(&[&ids(&bm25), &ids(&dense)], n);
        Ok(fused
            .into_iter()
            .filter_map(|id| {
                bm25.iter()
                    .chain(&dense)
                    .find(|f| f.knowledge_id == id)
                    .copied()
            })
            .collect())
    }

    /// The entries nearest `question` by embedding, with their similarity.
    async fn dense(
        &self,
        client: &LlmClient,
        bot: &FaqBot,
        question: &str,
        inbox_id: i64,
    ) -> Result<Vec<Found>, EmbedError> {
        let entries = bot.knowledge().all_enabled().await?;
        self.refresh(client, &entries, inbox_id).await?;
        let query = self
            .embed(client, &[question.to_owned()], inbox_id)
            .await?
            .pop()
            .unwrap_or_default();
        let cache = self.cache.lock().await;
        let docs = entries
            .iter()
            .filter_map(|e| cache.get(&e.id).map(|(_, v)| (e.id, v.as_slice())));
        Ok(nearest(&query, docs, CANDIDATES)
            .into_iter()
            .map(|(knowledge_id, score)| Found {
                knowledge_id,
                score: (score * 1000.0).round() / 1000.0,
            })
            .collect())
    }

    /// One embeddings request for inbox `inbox_id`, counted against its budget.
    async fn embed(
        &self,
        client: &LlmClient,
        texts: &[String],
        inbox_id: i64,
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        let now = Utc::now();
        if !self.usage.take(inbox_id, now, self.budget).await? {
            return Err(EmbedError::Budget);
        }
        let answer = client.embed(texts).await?;
        if let Some(tokens) = answer.total_tokens {
            self.usage.add_tokens(inbox_id, now, tokens).await?;
        }
        Ok(answer.vectors)
    }

    /// Embeds the `entries` missing from the cache or changed since, and forgets the entries
    /// no longer there.
    async fn refresh(
        &self,
        client: &LlmClient,
        entries: &[KnowledgeView],
        inbox_id: i64,
    ) -> Result<(), EmbedError> {
        let mut cache = self.cache.lock().await;
        let ids: HashSet<i64> = entries.iter().map(|e| e.id).collect();
        cache.retain(|id, _| ids.contains(id));
        let stale: Vec<&KnowledgeView> = entries
            .iter()
            .filter(|e| cache.get(&e.id).is_none_or(|(at, _)| *at != e.updated_at))
            .collect();
        for chunk in stale.chunks(BATCH) {
            let texts: Vec<String> = chunk.iter().map(|e| text_of(e)).collect();
            let vectors = self.embed(client, &texts, inbox_id).await?;
            for (e, v) in chunk.iter().zip(vectors) {
                cache.insert(e.id, (e.updated_at, v));
            }
        }
        Ok(())
    }
}

/// What an entry is embedded as: its phrasings and its answer.
fn text_of(e: &KnowledgeView) -> String {
    let mut parts = vec![e.question.as_str()];
    parts.extend(e.alternatives.iter().map(String::as_str));
    parts.push(e.answer.as_str());
    parts.join("\n")
}

#[derive(Debug, thiserror::Error)]
enum EmbedError {
    #[error("the inbox has used its language model budget for today (UTC)")]
    Budget,
    #[error(transparent)]
    Llm(#[from] LlmError),
    #[error(transparent)]
    Store(#[from] kefu_normalizer::StoreError),
}

impl EmbedError {
    fn kind(&self) -> &'static str {
        match self {
            Self::Budget => "budget",
            Self::Llm(e) => e.kind(),
            Self::Store(_) => "store",
        }
    }
}
