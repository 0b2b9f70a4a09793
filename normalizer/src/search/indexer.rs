//! The [`Indexer`]: the one task that writes the index. It follows committed events on the bus
//! (every node receives every event there, also across nodes), catches up from the outbox
//! after a restart or when the bus dropped events for it, and rebuilds from the database when
//! the index is new, of another version, or missed more than the outbox still holds.
//!
//! Every write ends in a commit that records the mark: the outbox event id up to which every
//! event was applied. Only then is the mark published on the `applied` watch, so a reader that
//! saw it sees the documents too.
//!
//! Events do not arrive in id order: relays on several nodes publish different partitions side
//! by side, and transactions commit in another order than they took their ids. So the mark is
//! not the highest id applied. Ids applied above it wait in `pending`; after each batch the
//! indexer looks at the outbox rows between the mark and the highest pending id. A row it has
//! not applied holds the mark below it while it may still be on its way (for [`GRACE`]); after
//! that it is read from the outbox and applied. Ids no row holds (a rolled-back transaction's)
//! are stepped over. A restart resumes after the mark, so nothing below it can be skipped.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;

use super::SearchError;
use super::index::{Doc, Mark, Opened, SCHEMA_VERSION};
use super::load::{self, Changes};
use crate::db::Db;
use crate::entity::outbox_event;
use crate::events::Event;

/// Most events applied in one commit.
const BATCH: usize = 10_000;

/// Under a steady stream of events the index commits at most this often. Each commit writes a
/// new segment (a handful of files, each synced) that merges later rewrite; committing per bus
/// batch spent a third of the server's CPU at 2,000 messages a second. After a quiet spell the
/// first event is committed at once, so a lone message is searchable as soon as before.
const COMMIT_EVERY: Duration = Duration::from_secs(1);

/// Outbox rows read per catch-up statement.
const CATCH_UP_PAGE: u64 = 1000;

/// How long an outbox row the bus has not brought may still be on its way (published by a
/// relay on another node, or committed late); after that the indexer reads it from the outbox.
const GRACE: Duration = Duration::from_secs(2);

/// Memory for the writer's in-flight documents, per indexing thread.
const WRITER_MEMORY: usize = 48 * 1024 * 1024;

/// What a rebuild did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RebuildStats {
    /// Conversation documents written.
    pub conversations: u64,
    /// Message documents written.
    pub messages: u64,
    /// How long it took.
    pub took: Duration,
}

/// Requests from [`super::Search`] to the indexer task.
pub(crate) enum Command {
    Rebuild(oneshot::Sender<Result<RebuildStats, SearchError>>),
}

/// Writes the index; run it with [`Indexer::run`].
pub struct Indexer {
    pub(crate) db: Db,
    pub(crate) opened: Opened,
    pub(crate) commands: mpsc::Receiver<Command>,
    pub(crate) applied: watch::Sender<i64>,
    /// The mark: every outbox event up to this id is written.
    pub(crate) through: i64,
    /// Ids written above the mark, while a lower one is still missing.
    pub(crate) pending: BTreeSet<i64>,
    /// The index holds everything up to `through` (a rebuild finished since it was created).
    pub(crate) complete: bool,
}

/// The writer, shared with blocking tasks.
type Writer = Arc<Mutex<tantivy::IndexWriter>>;

/// What woke the indexer.
enum Next {
    Stop,
    Command(Option<Command>),
    Event(Result<Arc<Event>, broadcast::error::RecvError>),
    Retry,
}

impl Indexer {
    /// Indexes events from `bus` until `shutdown`. Subscribe to the bus before the outbox
    /// relay starts, so no event falls between the catch-up and the subscription.
    pub async fn run(
        mut self,
        mut bus: broadcast::Receiver<Arc<Event>>,
        shutdown: CancellationToken,
    ) {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 2));
        // As many merge threads as indexing threads (tantivy's default is four, which only
        // compete for the same cores and each hold memory while idle).
        let options = tantivy::indexer::IndexWriterOptions::builder()
            .num_worker_threads(threads)
            .num_merge_threads(threads)
            .memory_budget_per_thread(WRITER_MEMORY)
            .build();
        let writer = match self.opened.index.writer_with_options(options) {
            Ok(w) => Arc::new(Mutex::new(w)),
            Err(e) => {
                tracing::error!(error = %e, "The search index cannot be written; search results will not change.");
                return;
            }
        };
        if self.complete && self.missed_events(self.through).await {
            tracing::info!(
                "The search index missed events the outbox no longer holds; rebuilding it."
            );
            self.complete = false;
        }
        let mut behind = true;
        let mut commands_open = true;
        let mut last_commit = tokio::time::Instant::now()
            .checked_sub(COMMIT_EVERY)
            .unwrap_or_else(tokio::time::Instant::now);
        loop {
            if !self.complete {
                match self.rebuild(&writer).await {
                    Ok(stats) => tracing::info!(
                        messages = stats.messages,
                        conversations = stats.conversations,
                        took_ms = u64::try_from(stats.took.as_millis()).unwrap_or(u64::MAX),
                        "Built the search index."
                    ),
                    Err(e) => {
                        tracing::warn!(error = %e, "Building the search index failed; retrying.")
                    }
                }
            } else if behind {
                behind = match self.catch_up(&writer).await {
                    Ok(()) => false,
                    Err(e) => {
                        tracing::warn!(error = %e, "Search indexing failed; retrying.");
                        true
                    }
                };
            }
            let retry = !self.complete || behind || !self.pending.is_empty();
            let next = tokio::select! {
                _ = shutdown.cancelled() => Next::Stop,
                cmd = self.commands.recv(), if commands_open => Next::Command(cmd),
                event = bus.recv() => Next::Event(event),
                _ = tokio::time::sleep(Duration::from_secs(1)), if retry => Next::Retry,
            };
            match next {
                Next::Stop | Next::Event(Err(broadcast::error::RecvError::Closed)) => break,
                Next::Retry => {
                    if self.complete
                        && !behind
                        && let Err(e) = self.apply(&writer, &[]).await
                    {
                        tracing::warn!(error = %e, "Search indexing failed; catching up from the outbox.");
                        behind = true;
                    }
                }
                Next::Command(None) => commands_open = false,
                Next::Command(Some(Command::Rebuild(reply))) => {
                    let _ = reply.send(self.rebuild(&writer).await);
                    behind = true;
                }
                Next::Event(Err(broadcast::error::RecvError::Lagged(n))) => {
                    tracing::debug!(
                        missed = n,
                        "The search indexer fell behind the bus; catching up from the outbox."
                    );
                    behind = true;
                }
                Next::Event(Ok(first)) => {
                    let mut events = vec![first];
                    let until = last_commit + COMMIT_EVERY;
                    while events.len() < BATCH {
                        match bus.try_recv() {
                            Ok(e) => {
                                events.push(e);
                                continue;
                            }
                            Err(broadcast::error::TryRecvError::Empty) => {}
                            Err(broadcast::error::TryRecvError::Lagged(_)) => {
                                behind = true;
                                break;
                            }
                            Err(broadcast::error::TryRecvError::Closed) => break,
                        }
                        // Nothing queued: take more until the commit is due.
                        tokio::select! {
                            _ = shutdown.cancelled() => break,
                            _ = tokio::time::sleep_until(until) => break,
                            e = bus.recv() => match e {
                                Ok(e) => events.push(e),
                                Err(broadcast::error::RecvError::Lagged(_)) => {
                                    behind = true;
                                    break;
                                }
                                Err(broadcast::error::RecvError::Closed) => break,
                            },
                        }
                    }
                    last_commit = tokio::time::Instant::now();
                    if let Err(e) = self.apply(&writer, &events).await {
                        tracing::warn!(error = %e, "Search indexing failed; catching up from the outbox.");
                        behind = true;
                    }
                }
            }
        }
    }

    /// Writes what `events` (from the bus, in any order) change, with the outbox rows the bus
    /// has not brought within [`GRACE`], and commits with the mark moved as far as it can go.
    async fn apply(&mut self, writer: &Writer, events: &[Arc<Event>]) -> Result<(), SearchError> {
        self.pending
            .extend(events.iter().map(|e| e.id).filter(|id| *id > self.through));
        let (through, late) = self.advance().await?;
        let mut all: Vec<Arc<Event>> = events.to_vec();
        all.extend(late);
        if all.is_empty() && through == self.through {
            return Ok(());
        }
        self.write_events(writer, &all, through).await?;
        self.pending.retain(|id| *id > through);
        Ok(())
    }

    /// How far the mark can move now that `pending` holds what was written above it, and the
    /// outbox rows in between that are overdue (read from the outbox, to be written too).
    async fn advance(&self) -> Result<(i64, Vec<Arc<Event>>), SearchError> {
        let Some(&top) = self.pending.last() else {
            return Ok((self.through, Vec::new()));
        };
        // Every id up to `top` is here (the usual case on one node): nothing to read.
        if u64::try_from(top - self.through).is_ok_and(|gap| gap == self.pending.len() as u64) {
            return Ok((top, Vec::new()));
        }
        let rows: Vec<(i64, chrono::DateTime<chrono::Utc>)> = outbox_event::Entity::find()
            .select_only()
            .column(outbox_event::Column::Id)
            .column(outbox_event::Column::CreatedAt)
            .filter(outbox_event::Column::Id.gt(self.through))
            .filter(outbox_event::Column::Id.lte(top))
            .order_by_asc(outbox_event::Column::Id)
            .into_tuple()
            .all(self.db.conn())
            .await
            .map_err(crate::error::StoreError::from)?;
        let overdue_before =
            chrono::Utc::now() - chrono::Duration::from_std(GRACE).unwrap_or_default();
        let mut waiting = None;
        let mut overdue = Vec::new();
        for (id, created_at) in rows {
            if self.pending.contains(&id) {
                continue;
            }
            if created_at < overdue_before {
                overdue.push(id);
            } else if waiting.is_none() {
                waiting = Some(id);
            }
        }
        let through = waiting.map_or(top, |w| w - 1);
        if overdue.is_empty() {
            return Ok((through, Vec::new()));
        }
        tracing::debug!(
            events = overdue.len(),
            "The bus did not bring these events in time; indexing them from the outbox."
        );
        let late = outbox_event::Entity::find()
            .filter(outbox_event::Column::Id.is_in(overdue))
            .all(self.db.conn())
            .await
            .map_err(crate::error::StoreError::from)?
            .into_iter()
            .filter_map(crate::events::decode_row)
            .map(Arc::new)
            .collect();
        Ok((through, late))
    }

    /// Writes what `events` change and commits with the mark `through`.
    async fn write_events(
        &mut self,
        writer: &Writer,
        events: &[Arc<Event>],
        through: i64,
    ) -> Result<(), SearchError> {
        let changes = Changes::of(events);
        let mut docs = changes.docs;
        if !changes.conversations.is_empty() || !changes.contacts.is_empty() {
            let mut ids: Vec<i64> = changes.conversations.into_iter().collect();
            ids.extend(load::conversations_of(self.db.conn(), &changes.contacts).await?);
            ids.sort_unstable();
            ids.dedup();
            docs.extend(load::conversation_docs(self.db.conn(), &ids).await?);
        }
        self.write(writer, docs, through).await
    }

    /// Applies every outbox event after the current mark.
    async fn catch_up(&mut self, writer: &Writer) -> Result<(), SearchError> {
        loop {
            let from = self.through;
            let rows = outbox_event::Entity::find()
                .filter(outbox_event::Column::Id.gt(from))
                .order_by_asc(outbox_event::Column::Id)
                .limit(CATCH_UP_PAGE)
                .all(self.db.conn())
                .await
                .map_err(crate::error::StoreError::from)?;
            let Some(last) = rows.last().map(|r| r.id) else {
                return Ok(());
            };
            let mut events: Vec<Arc<Event>> = rows
                .into_iter()
                .filter_map(crate::events::decode_row)
                .map(Arc::new)
                .collect();
            // Every row up to `last` is read (rows no version of Kefu wrote are stepped over):
            // the mark moves to it.
            events.sort_by_key(|e| e.id);
            self.write_events(writer, &events, last.max(self.through))
                .await?;
            self.pending.retain(|id| *id > last);
        }
    }

    /// `true` when the outbox no longer holds every event after `through` (it was pruned while
    /// the index was not following), so only a rebuild can bring the index up to date.
    async fn missed_events(&self, through: i64) -> bool {
        let oldest: Option<i64> = outbox_event::Entity::find()
            .select_only()
            .column_as(
                sea_orm::sea_query::ExprTrait::min(Expr::col(outbox_event::Column::Id)),
                "oldest",
            )
            .into_tuple::<Option<i64>>()
            .one(self.db.conn())
            .await
            .ok()
            .flatten()
            .flatten();
        oldest.is_some_and(|o| o > through + 1)
    }

    /// Replaces every document with ones read from the database. On failure the index stays
    /// as it was before (the writer rolls back to the last commit).
    pub(crate) async fn rebuild(&mut self, writer: &Writer) -> Result<RebuildStats, SearchError> {
        let was_complete = self.complete;
        let result = self.rebuild_from_rows(writer).await;
        if result.is_err() {
            self.complete = was_complete;
            let writer = writer.clone();
            let rolled_back = tokio::task::spawn_blocking(move || {
                let mut w = writer.lock().unwrap_or_else(|e| e.into_inner());
                w.rollback().map(|_| ())
            })
            .await;
            if !matches!(rolled_back, Ok(Ok(()))) {
                // The writer's state is unknown: only a full rebuild can be trusted now.
                self.complete = false;
            }
        }
        result
    }

    async fn rebuild_from_rows(&mut self, writer: &Writer) -> Result<RebuildStats, SearchError> {
        let started = Instant::now();
        let from = super::newest_event(&self.db).await?;
        {
            let w = writer.lock().unwrap_or_else(|e| e.into_inner());
            w.delete_all_documents()?;
        }
        let mut stats = RebuildStats {
            conversations: 0,
            messages: 0,
            took: Duration::ZERO,
        };
        let mut after = 0;
        loop {
            let (docs, last) = load::conversation_page(self.db.conn(), after).await?;
            let Some(last) = last else { break };
            stats.conversations += docs.len() as u64;
            self.add(writer, docs, false).await?;
            after = last;
        }
        after = 0;
        loop {
            let (docs, last) = load::message_page(self.db.conn(), after).await?;
            let Some(last) = last else { break };
            stats.messages += docs.len() as u64;
            self.add(writer, docs, false).await?;
            after = last;
        }
        self.complete = true;
        let through = from.max(self.through);
        self.write(writer, Vec::new(), through).await?;
        self.pending.retain(|id| *id > through);
        stats.took = started.elapsed();
        Ok(stats)
    }

    /// Adds `docs` without committing, replacing documents of the same key when `replace`
    /// (a rebuild, which starts from an empty index, has none to replace).
    async fn add(&self, writer: &Writer, docs: Vec<Doc>, replace: bool) -> Result<(), SearchError> {
        let writer = writer.clone();
        let fields = self.opened.fields;
        tokio::task::spawn_blocking(move || {
            let w = writer.lock().unwrap_or_else(|e| e.into_inner());
            for d in &docs {
                if replace {
                    w.delete_term(tantivy::Term::from_field_text(fields.key, &d.key()));
                }
                w.add_document(d.to_tantivy(&fields))?;
            }
            Ok::<_, SearchError>(())
        })
        .await
        .map_err(|e| SearchError::Io(format!("indexing stopped: {e}")))?
    }

    /// Adds `docs`, commits with the mark `through`, reloads the reader and, once the index is
    /// complete, publishes `through`.
    async fn write(
        &mut self,
        writer: &Writer,
        docs: Vec<Doc>,
        through: i64,
    ) -> Result<(), SearchError> {
        self.add(writer, docs, true).await?;
        let mark = Mark {
            version: SCHEMA_VERSION,
            complete: self.complete,
            through,
        };
        let payload = serde_json::to_string(&mark).unwrap_or_default();
        let writer = writer.clone();
        let reader = self.opened.reader.clone();
        tokio::task::spawn_blocking(move || {
            let mut w = writer.lock().unwrap_or_else(|e| e.into_inner());
            let mut prepared = w.prepare_commit()?;
            prepared.set_payload(&payload);
            prepared.commit()?;
            reader.reload()?;
            Ok::<_, SearchError>(())
        })
        .await
        .map_err(|e| SearchError::Io(format!("indexing stopped: {e}")))??;
        self.through = through;
        if self.complete {
            self.applied.send_if_modified(|v| {
                let changed = through > *v;
                *v = (*v).max(through);
                changed
            });
        }
        Ok(())
    }
}
