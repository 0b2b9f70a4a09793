//! Full-text search over conversations: message texts (private notes included; only agents
//! search), contact names, emails, phones and channel identities, and email subjects, in
//! Chinese and English alike.
//!
//! - [`Search`] answers queries and is shared by the API; [`Indexer`] is the one task that
//!   writes the index (see `indexer.rs` for how it stays current).
//! - The index is [tantivy](https://docs.rs/tantivy) with a jieba analyzer (`analyzer.rs`),
//!   under the data folder (or in memory, [`Location::Memory`]). It is derived data: a missing
//!   index, one of another [`SCHEMA_VERSION`], or one that missed events is rebuilt from the
//!   database, and [`Search::rebuild`] does so on demand.
//! - A query ranks documents (messages, and one document per conversation for its subject and
//!   contact) by BM25, groups them by conversation, and keeps the conversations that pass the
//!   list's filters; each comes with its best match highlighted ([`Match`]).

mod analyzer;
mod index;
mod indexer;
mod load;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use sea_orm::sea_query::Expr;
use sea_orm::{EntityTrait, QuerySelect};
use tokio::sync::{mpsc, oneshot, watch};

use crate::conversations::Conversations;
use crate::db::Db;
use crate::entity::outbox_event;
use crate::error::StoreError;
use crate::listing::ListFilter;
use crate::views::ConversationView;

pub use analyzer::{ANALYZER, analyzer, terms};
pub use index::{Location, MAX_DOCS, Match, MatchField, SCHEMA_VERSION};
pub use indexer::{Indexer, RebuildStats};

use index::{Opened, Ranked};
use indexer::Command;

/// Longest accepted query, in characters.
pub const MAX_QUERY_CHARS: usize = 200;

/// Why a search failed.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The query is unacceptable; the message says why (400).
    #[error("{0}")]
    InvalidQuery(String),
    /// Reading rows failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The index failed.
    #[error("search index error: {0}")]
    Index(#[from] tantivy::TantivyError),
    /// The index folder could not be used.
    #[error("search index error: {0}")]
    Io(String),
    /// The indexer task is not running (it stopped, or was never started).
    #[error("the search indexer is not running")]
    Stopped,
}

/// One page of search results.
#[derive(Debug, Clone)]
pub struct SearchPage {
    /// Conversations, best match first, each with its best match.
    pub items: Vec<(ConversationView, Option<Match>)>,
    /// The offset of the next page; `None` on the last.
    pub next_offset: Option<usize>,
}

/// Answers queries; cheap to clone.
#[derive(Clone)]
pub struct Search {
    db: Db,
    opened: Opened,
    commands: mpsc::Sender<Command>,
    applied: watch::Receiver<i64>,
}

impl Search {
    /// Opens (or creates) the index at `location`. Run the returned [`Indexer`] to keep it
    /// current; until it has built a new index, queries find nothing.
    pub fn open(db: Db, location: &Location) -> Result<(Self, Indexer), SearchError> {
        let opened = Opened::open(location)?;
        let mark = opened.mark();
        let (tx, rx) = mpsc::channel(4);
        let (applied_tx, applied) = watch::channel(if mark.complete { mark.through } else { -1 });
        let indexer = Indexer {
            db: db.clone(),
            opened: opened.clone(),
            commands: rx,
            applied: applied_tx,
            through: if mark.complete { mark.through } else { 0 },
            pending: Default::default(),
            complete: mark.complete,
        };
        Ok((
            Self {
                db,
                opened,
                commands: tx,
                applied,
            },
            indexer,
        ))
    }

    /// Replaces the index with one built from the database; returns once it is searchable.
    pub async fn rebuild(&self) -> Result<RebuildStats, SearchError> {
        let (reply, done) = oneshot::channel();
        self.commands
            .send(Command::Rebuild(reply))
            .await
            .map_err(|_| SearchError::Stopped)?;
        done.await.map_err(|_| SearchError::Stopped)?
    }

    /// Returns once every event committed before the call is searchable (tests and tools
    /// call it instead of waiting for a while).
    pub async fn settled(&self) -> Result<(), SearchError> {
        let newest = newest_event(&self.db).await?;
        let mut applied = self.applied.clone();
        applied
            .wait_for(|v| *v >= newest)
            .await
            .map_err(|_| SearchError::Stopped)?;
        Ok(())
    }

    /// Checks a query as typed: not blank, at most [`MAX_QUERY_CHARS`] characters.
    pub fn validate(q: &str) -> Result<&str, SearchError> {
        let q = q.trim();
        if q.is_empty() {
            return Err(SearchError::InvalidQuery(
                "q must contain something to search for".into(),
            ));
        }
        if q.chars().count() > MAX_QUERY_CHARS {
            return Err(SearchError::InvalidQuery(format!(
                "q may be at most {MAX_QUERY_CHARS} characters long"
            )));
        }
        Ok(q)
    }

    /// The ids of the conversations matching `q`, best first (at most [`MAX_DOCS`]).
    pub async fn rank(&self, q: &str) -> Result<Vec<i64>, SearchError> {
        let found = self.find(q).await?;
        Ok(found.ranked.iter().map(|r| r.conversation_id).collect())
    }

    /// One page of the conversations matching `q` that pass `filter`, best first, from
    /// `offset`, each with its best match highlighted.
    pub async fn conversations(
        &self,
        conversations: &Conversations,
        filter: &ListFilter,
        q: &str,
        offset: usize,
        limit: usize,
    ) -> Result<SearchPage, SearchError> {
        let q = Self::validate(q)?;
        let found = Arc::new(self.find(q).await?);
        let ids: Vec<i64> = found.ranked.iter().map(|r| r.conversation_id).collect();
        let allowed: HashSet<i64> = if ids.is_empty() {
            HashSet::new()
        } else {
            conversations.filter_ids(filter, &ids).await?
        };
        let kept: Vec<Ranked> = found
            .ranked
            .iter()
            .filter(|r| allowed.contains(&r.conversation_id))
            .copied()
            .collect();
        let end = offset.saturating_add(limit).min(kept.len());
        let page: Vec<Ranked> = kept.get(offset..end).unwrap_or_default().to_vec();
        let next_offset = (end < kept.len()).then_some(end);
        let views = conversations
            .views(&page.iter().map(|r| r.conversation_id).collect::<Vec<_>>())
            .await?;
        let opened = self.opened.clone();
        let for_snippets = found.clone();
        let mut matches: HashMap<i64, Match> = tokio::task::spawn_blocking(move || {
            let mut out = HashMap::new();
            for r in &page {
                if let Some(q) = &for_snippets.query
                    && let Ok(Some(m)) = opened.snippet(&for_snippets.searcher, q.as_ref(), r.best)
                {
                    out.insert(r.conversation_id, m);
                }
            }
            out
        })
        .await
        .map_err(|e| SearchError::Io(format!("search stopped: {e}")))?;
        let items = views
            .into_iter()
            .map(|v| {
                let m = matches.remove(&v.id);
                (v, m)
            })
            .collect();
        Ok(SearchPage { items, next_offset })
    }

    /// Runs `q` against the current index.
    async fn find(&self, q: &str) -> Result<Found, SearchError> {
        let opened = self.opened.clone();
        let q = q.to_owned();
        tokio::task::spawn_blocking(move || {
            let searcher = opened.reader.searcher();
            let Some(query) = opened.query(&q) else {
                return Ok(Found {
                    searcher,
                    query: None,
                    ranked: Vec::new(),
                });
            };
            let ranked = opened.rank(&searcher, query.as_ref())?;
            Ok(Found {
                searcher,
                query: Some(query),
                ranked,
            })
        })
        .await
        .map_err(|e| SearchError::Io(format!("search stopped: {e}")))?
    }
}

/// A query's result against one view of the index.
struct Found {
    searcher: tantivy::Searcher,
    query: Option<Box<dyn tantivy::query::Query>>,
    ranked: Vec<Ranked>,
}

/// The id of the newest outbox event, 0 when there is none.
pub(crate) async fn newest_event(db: &Db) -> Result<i64, StoreError> {
    Ok(outbox_event::Entity::find()
        .select_only()
        .column_as(
            sea_orm::sea_query::ExprTrait::max(Expr::col(outbox_event::Column::Id)),
            "newest",
        )
        .into_tuple::<Option<i64>>()
        .one(db.conn())
        .await?
        .flatten()
        .unwrap_or(0))
}
