//! [`KnowledgeIndex`]: the knowledge base in a tantivy index in memory, one document per
//! phrasing (the question and each alternative), indexed by its features (`text.rs`).
//!
//! A query takes the best [`RETRIEVED`] phrasings by BM25, then scores each entry by its
//! closest phrasing ([`similarity`], 0 to 1): BM25 finds the candidates quickly among
//! thousands of entries, the similarity gives a score that means the same in every knowledge
//! base, so an inbox's thresholds mean what they say. Before that, an English word the
//! knowledge base does not have is corrected to one a slip away ([`Vocabulary`]); after, an
//! entry whose locale is in another script than the question (Chinese or not) counts
//! [`OTHER_LANGUAGE`] of its score, so "退货 return 怎么弄" gets the Chinese answer when both
//! exist.
//!
//! Intents use the same index with [`Scoring::Coverage`] (see `crate::intent`): every entry
//! scored by how much of its closest phrasing the query covers.
//!
//! The index is derived data: [`KnowledgeIndex::rebuild`] fills it from the database at start,
//! and the API calls [`KnowledgeIndex::upsert`] and [`KnowledgeIndex::remove`] after each edit
//! it commits. Edits made through another node reach this one at its next start (a follow-up
//! is to apply them from an event).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use kefu_normalizer::knowledge::{Knowledge, KnowledgeView};
use tantivy::collector::TopDocs;
use tantivy::indexer::IndexWriterOptions;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{PreTokenizedString, Token};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use crate::AiError;
use crate::spelling::Vocabulary;
use crate::text::{
    Features, coverage, english_synonyms, has_han, normalize, similarity, weighted_features,
};

/// Phrasings BM25 hands to scoring per query.
pub const RETRIEVED: usize = 50;

/// Most features taken from one query.
const MAX_QUERY_FEATURES: usize = 32;

/// What an entry in another script than the question counts of its score: half, so a
/// Chinese question is answered in Chinese when the knowledge base can, and an English one
/// in English, while a question only the other language's entries answer can still find
/// them (scoring lower, it needs a closer match).
pub const OTHER_LANGUAGE: f32 = 0.5;

/// The index writer's memory (tantivy's minimum is 15 MB).
const WRITER_BYTES: usize = 15_000_000;

/// How an entry's phrasings are scored against a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scoring {
    /// The FAQ bot's: [`similarity`], an F1 of the features the query and the phrasing share,
    /// over the entries BM25 retrieves.
    Similarity,
    /// Intents': [`coverage`], how much of the phrasing the query covers, its features weighed
    /// by how few entries use them ([`Entries::telling`]); every entry is scored (intents are
    /// few), BM25 is not asked.
    Coverage,
}

/// One entry that matches a query.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// The entry.
    pub knowledge_id: i64,
    /// Its answer.
    pub answer: String,
    /// How closely its best phrasing matches, 0 to 1.
    pub score: f32,
}

/// What scoring needs of an entry, kept beside the index.
struct Entry {
    answer: String,
    phrasings: Vec<Features>,
    /// Whether its locale is written in Chinese characters; `None` without a locale.
    han: Option<bool>,
}

/// The entries and their words, changed together.
#[derive(Default)]
struct Entries {
    map: HashMap<i64, Entry>,
    vocabulary: Vocabulary,
    /// How telling each feature is, 0 to 1: `ln((n + 1) / df) / ln(n + 1)` for a feature
    /// `df` of the `n` entries use, so a feature of one entry counts 1 and one every entry
    /// uses little.
    telling: HashMap<String, f32>,
}

impl Entries {
    fn new(map: HashMap<i64, Entry>) -> Self {
        let mut words: Vec<&str> = map
            .values()
            .flat_map(|e| {
                e.phrasings
                    .iter()
                    .flat_map(|p| p.keys().map(String::as_str))
            })
            .collect();
        // A misspelt word that has a synonym is corrected to it, then matched as its synonym.
        for w in english_synonyms() {
            words.push(w);
        }
        let vocabulary = Vocabulary::new(words.into_iter());
        let mut df: HashMap<&str, usize> = HashMap::new();
        for e in map.values() {
            let mut seen: Vec<&str> = e
                .phrasings
                .iter()
                .flat_map(|p| p.keys().map(String::as_str))
                .collect();
            seen.sort_unstable();
            seen.dedup();
            for f in seen {
                *df.entry(f).or_insert(0) += 1;
            }
        }
        let n = map.len() as f32;
        let telling = df
            .into_iter()
            .map(|(f, d)| (f.to_owned(), ((n + 1.0) / d as f32).ln() / (n + 1.0).ln()))
            .collect();
        Self {
            map,
            vocabulary,
            telling,
        }
    }

    /// How telling feature `f` is (see [`Self::telling`]); 1 for one no entry uses.
    fn telling(&self, f: &str) -> f32 {
        self.telling.get(f).copied().unwrap_or(1.0)
    }

    /// Every entry by its best phrasing's [`coverage`] of `query`, with no BM25 score.
    fn covered(&self, query: &Features) -> Vec<(i64, f32, f32)> {
        self.map
            .iter()
            .map(|(id, e)| {
                let score = e
                    .phrasings
                    .iter()
                    .map(|p| coverage(query, p, |f| self.telling(f)))
                    .fold(0.0f32, f32::max);
                (*id, score, 0.0)
            })
            .collect()
    }
}

struct Inner {
    index: Index,
    /// Held while the index is written: one writer at a time.
    writing: Mutex<()>,
    reader: IndexReader,
    entry: Field,
    features: Field,
    entries: RwLock<Entries>,
    scoring: Scoring,
}

/// The knowledge base's search index; cheap to clone.
#[derive(Clone)]
pub struct KnowledgeIndex {
    inner: Arc<Inner>,
}

impl KnowledgeIndex {
    /// An empty index scored by [`Scoring::Similarity`] (the FAQ bot's).
    pub fn new() -> Result<Self, AiError> {
        Self::with_scoring(Scoring::Similarity)
    }

    /// An empty index scored by `scoring`.
    pub fn with_scoring(scoring: Scoring) -> Result<Self, AiError> {
        let mut b = Schema::builder();
        let entry = b.add_i64_field("entry", INDEXED | FAST | STORED);
        let features = b.add_text_field(
            "features",
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer("raw")
                    .set_index_option(IndexRecordOption::WithFreqs),
            ),
        );
        let index = Index::create_in_ram(b.build());
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Self {
            inner: Arc::new(Inner {
                index,
                writing: Mutex::new(()),
                reader,
                entry,
                features,
                entries: RwLock::new(Entries::default()),
                scoring,
            }),
        })
    }

    /// An index of `knowledge`'s enabled entries.
    pub async fn load(knowledge: &Knowledge) -> Result<Self, AiError> {
        let index = Self::new()?;
        let entries = knowledge.all_enabled().await?;
        let count = entries.len();
        let built = index.clone();
        tokio::task::spawn_blocking(move || built.rebuild(&entries))
            .await
            .map_err(|e| AiError::Index(format!("indexing stopped: {e}")))??;
        tracing::info!(entries = count, "Knowledge index built.");
        Ok(index)
    }

    /// Replaces the whole index with `entries` (disabled ones are left out).
    pub fn rebuild<D: Document>(&self, entries: &[D]) -> Result<(), AiError> {
        let map = self.write(|writer| {
            let mut map = HashMap::new();
            writer.delete_all_documents()?;
            for e in entries.iter().filter(|e| e.enabled()) {
                map.insert(e.id(), self.add(writer, e)?);
            }
            Ok(map)
        })?;
        *self.entries_mut()? = Entries::new(map);
        Ok(())
    }

    /// Adds or replaces entry `e` (removes it when disabled).
    pub fn upsert<D: Document>(&self, e: &D) -> Result<(), AiError> {
        let entry = self.write(|writer| {
            writer.delete_term(Term::from_field_i64(self.inner.entry, e.id()));
            Ok(if e.enabled() {
                Some(self.add(writer, e)?)
            } else {
                None
            })
        })?;
        let mut entries = self.entries_mut()?;
        let mut map = std::mem::take(&mut entries.map);
        match entry {
            Some(entry) => map.insert(e.id(), entry),
            None => map.remove(&e.id()),
        };
        *entries = Entries::new(map);
        Ok(())
    }

    /// Removes entry `id`.
    pub fn remove(&self, id: i64) -> Result<(), AiError> {
        self.write(|writer| {
            writer.delete_term(Term::from_field_i64(self.inner.entry, id));
            Ok(())
        })?;
        let mut entries = self.entries_mut()?;
        let mut map = std::mem::take(&mut entries.map);
        map.remove(&id);
        *entries = Entries::new(map);
        Ok(())
    }

    /// How many entries the index holds.
    pub fn len(&self) -> usize {
        self.inner.entries.read().map(|m| m.map.len()).unwrap_or(0)
    }

    /// Whether the index holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `limit` entries closest to `text`, best first; entries sharing no feature with it
    /// are left out.
    pub fn search(&self, text: &str, limit: usize) -> Result<Vec<Hit>, AiError> {
        let entries = self
            .inner
            .entries
            .read()
            .map_err(|_| AiError::Index("the knowledge index is poisoned".into()))?;
        let mut query_features = Features::new();
        for (f, w) in weighted_features(text) {
            let f = match entries.vocabulary.correct(&f) {
                Some(word) => normalize(word.to_owned()),
                None => f,
            };
            let weight = query_features.entry(f).or_insert(0.0);
            *weight = weight.max(w);
        }
        let scored = match self.inner.scoring {
            Scoring::Similarity => self.retrieve(&entries, &query_features)?,
            Scoring::Coverage => entries.covered(&query_features),
        };
        let han = has_han(text);
        let mut hits: Vec<(Hit, f32)> = scored
            .into_iter()
            .filter_map(|(id, mut score, bm25)| {
                let e = entries.map.get(&id)?;
                if e.han.is_some_and(|h| h != han) {
                    score *= OTHER_LANGUAGE;
                }
                let hit = Hit {
                    knowledge_id: id,
                    answer: e.answer.clone(),
                    score: (score * 1000.0).round() / 1000.0,
                };
                (score > 0.0).then_some((hit, bm25))
            })
            .collect();
        hits.sort_by(|(a, ab), (b, bb)| {
            b.score
                .total_cmp(&a.score)
                .then(bb.total_cmp(ab))
                .then(a.knowledge_id.cmp(&b.knowledge_id))
        });
        Ok(hits.into_iter().take(limit).map(|(h, _)| h).collect())
    }

    /// The entries BM25 retrieves for `query`, each with the [`similarity`] of its closest
    /// phrasing and its best BM25 score.
    fn retrieve(
        &self,
        entries: &Entries,
        query: &Features,
    ) -> Result<Vec<(i64, f32, f32)>, AiError> {
        let clauses: Vec<(Occur, Box<dyn Query>)> = query
            .iter()
            .take(MAX_QUERY_FEATURES)
            .map(|(f, w)| {
                let q: Box<dyn Query> = Box::new(BoostQuery::new(
                    Box::new(TermQuery::new(
                        Term::from_field_text(self.inner.features, f),
                        IndexRecordOption::WithFreqs,
                    )),
                    *w,
                ));
                (Occur::Should, q)
            })
            .collect();
        if clauses.is_empty() {
            return Ok(Vec::new());
        }
        let searcher = self.inner.reader.searcher();
        let top = searcher.search(
            &BooleanQuery::new(clauses),
            &TopDocs::with_limit(RETRIEVED).order_by_score(),
        )?;
        let mut best: HashMap<i64, f32> = HashMap::new();
        for (bm25, addr) in top {
            let column = searcher
                .segment_reader(addr.segment_ord)
                .fast_fields()
                .i64("entry")?;
            if let Some(id) = column.first(addr.doc_id) {
                let b = best.entry(id).or_insert(bm25);
                *b = b.max(bm25);
            }
        }
        Ok(best
            .into_iter()
            .filter_map(|(id, bm25)| {
                let e = entries.map.get(&id)?;
                let score = e
                    .phrasings
                    .iter()
                    .map(|p| similarity(query, p))
                    .fold(0.0f32, f32::max);
                Some((id, score, bm25))
            })
            .collect())
    }

    /// Runs `f` with a writer, commits and makes the result searchable. The writer lives only
    /// for the call: an idle one holds its indexing and merge threads and a hash table sized
    /// to its memory budget (about 2.5 MB each), and these indexes change rarely (an edit, a
    /// rebuild), where starting one costs a few milliseconds.
    fn write<T>(
        &self,
        f: impl FnOnce(&mut IndexWriter) -> Result<T, AiError>,
    ) -> Result<T, AiError> {
        let _one = self
            .inner
            .writing
            .lock()
            .map_err(|_| AiError::Index("the knowledge index is poisoned".into()))?;
        let mut writer: IndexWriter = self.inner.index.writer_with_options(
            IndexWriterOptions::builder()
                .num_worker_threads(1)
                .num_merge_threads(1)
                .memory_budget_per_thread(WRITER_BYTES)
                .build(),
        )?;
        let out = f(&mut writer)?;
        writer.commit()?;
        writer.wait_merging_threads()?;
        self.inner.reader.reload()?;
        Ok(out)
    }

    fn entries_mut(&self) -> Result<std::sync::RwLockWriteGuard<'_, Entries>, AiError> {
        self.inner
            .entries
            .write()
            .map_err(|_| AiError::Index("the knowledge index is poisoned".into()))
    }

    /// Adds one document per phrasing of `e`; returns what scoring keeps of it.
    fn add<D: Document>(&self, writer: &IndexWriter, e: &D) -> Result<Entry, AiError> {
        let mut phrasings = Vec::new();
        for p in e.phrasings() {
            let feats = weighted_features(p);
            let tokens = feats
                .keys()
                .enumerate()
                .map(|(position, f)| Token {
                    offset_from: 0,
                    offset_to: 0,
                    position,
                    text: f.clone(),
                    position_length: 1,
                })
                .collect();
            let mut doc = TantivyDocument::new();
            doc.add_i64(self.inner.entry, e.id());
            doc.add_pre_tokenized_text(
                self.inner.features,
                PreTokenizedString {
                    text: String::new(),
                    tokens,
                },
            );
            writer.add_document(doc)?;
            phrasings.push(feats);
        }
        Ok(Entry {
            answer: e.answer().to_owned(),
            phrasings,
            han: e.locale().map(is_han_locale),
        })
    }
}

/// What the index holds: an entry with an id, phrasings matched one by one (one document
/// each), and what a hit hands back (`answer`). Knowledge entries are documents; so are
/// intents (`crate::intent`), whose phrasings are their examples and whose answer is their
/// name.
pub trait Document {
    /// The id hits carry.
    fn id(&self) -> i64;
    /// Disabled documents are left out.
    fn enabled(&self) -> bool;
    /// Every phrasing matched against.
    fn phrasings(&self) -> impl Iterator<Item = &str>;
    /// What a hit hands back.
    fn answer(&self) -> &str;
    /// The language it is written in, when one: an entry in another script than the question
    /// counts [`OTHER_LANGUAGE`] of its score.
    fn locale(&self) -> Option<&str>;
}

impl Document for KnowledgeView {
    fn id(&self) -> i64 {
        self.id
    }

    fn enabled(&self) -> bool {
        self.enabled
    }

    fn phrasings(&self) -> impl Iterator<Item = &str> {
        KnowledgeView::phrasings(self)
    }

    fn answer(&self) -> &str {
        &self.answer
    }

    fn locale(&self) -> Option<&str> {
        self.locale.as_deref()
    }
}

/// Whether a locale's language is written in Chinese characters (`zh`, `zh-CN`, `zh-Hant`...).
fn is_han_locale(locale: &str) -> bool {
    let lang = locale.split(['-', '_']).next().unwrap_or_default();
    lang.eq_ignore_ascii_case("zh")
}
