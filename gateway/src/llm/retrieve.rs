//! Which knowledge base entries a draft draws on: BM25's best (the FAQ bot's index) and, with
//! `ai.embeddings` configured, the entries whose embeddings are nearest the question, fused by
//! reciprocal rank (`kefu_ai::llm::fusion`). Entries are embedded once and again only when
//! they change (kept in memory per node, keyed by id and last change); the question is
//! embedded per draft. Any failure of the embeddings API falls back to BM25 alone, so a draft
//! never fails because of it.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use kefu_ai::FaqBot;
use kefu_ai::llm::fusion::{nearest, reciprocal_rank_fusion};
use kefu_ai::llm::{LlmClient, LlmError};
use kefu_normalizer::knowledge::KnowledgeView;
use tokio::sync::Mutex;

/// Candidates each ranking contributes before fusion.
const CANDIDATES: usize = 20;
/// Entries embedded per request.
const BATCH: usize = 64;

/// Entries' embeddings: id → (last change, vector).
type Cache = HashMap<i64, (DateTime<Utc>, Vec<f32>)>;

/// Finds a draft's entries; cheap to clone.
#[derive(Clone)]
pub struct Retriever {
    embeddings: Option<LlmClient>,
    cache: Arc<Mutex<Cache>>,
}

impl Retriever {
    /// BM25 alone, or fused with `embeddings`.
    pub fn new(embeddings: Option<LlmClient>) -> Self {
        Self {
            embeddings,
            cache: Arc::default(),
        }
    }

    /// The ids of the `n` entries that best answer `question`, best first.
    pub async fn top(&self, bot: &FaqBot, question: &str, n: usize) -> Result<Vec<i64>, String> {
        let bm25: Vec<i64> = bot
            .index()
            .search(question, CANDIDATES)
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|h| h.knowledge_id)
            .collect();
        let Some(client) = &self.embeddings else {
            return Ok(bm25.into_iter().take(n).collect());
        };
        match self.dense(client, bot, question).await {
            Ok(dense) => Ok(reciprocal_rank_fusion(&[&bm25, &dense], n)),
            Err(e) => {
                tracing::warn!(error = %e, "Embeddings failed; the draft's entries come from BM25 alone.");
                metrics::counter!("kefu_llm_embedding_failures_total").increment(1);
                Ok(bm25.into_iter().take(n).collect())
            }
        }
    }

    /// The entries nearest `question` by embedding.
    async fn dense(
        &self,
        client: &LlmClient,
        bot: &FaqBot,
        question: &str,
    ) -> Result<Vec<i64>, EmbedError> {
        let entries = bot.knowledge().all_enabled().await?;
        self.refresh(client, &entries).await?;
        let query = client
            .embed(&[question.to_owned()])
            .await?
            .pop()
            .unwrap_or_default();
        let cache = self.cache.lock().await;
        let docs = entries
            .iter()
            .filter_map(|e| cache.get(&e.id).map(|(_, v)| (e.id, v.as_slice())));
        Ok(nearest(&query, docs, CANDIDATES))
    }

    /// Embeds the `entries` missing from the cache or changed since, and forgets the entries
    /// no longer there.
    async fn refresh(
        &self,
        client: &LlmClient,
        entries: &[KnowledgeView],
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
            let vectors = client.embed(&texts).await?;
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
    #[error(transparent)]
    Llm(#[from] LlmError),
    #[error(transparent)]
    Store(#[from] kefu_normalizer::StoreError),
}
