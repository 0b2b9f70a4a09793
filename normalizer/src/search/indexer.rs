//! The [`Indexer`]: the one task that writes the index. It follows committed events on the bus
//! (every node receives every event there, also across nodes), catches up from the outbox
//! after a restart or when the bus dropped events for it, and rebuilds from the database when
//! the index is new, of another version, or missed more than the outbox still holds.
//!
//! Every write ends in a commit that records the highest outbox event id applied; only then is
//! that id published on the `applied` watch, so a reader that saw it sees the documents too.

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
const BATCH: usize = 2000;

/// Outbox rows read per catch-up statement.
const CATCH_UP_PAGE: u64 = 1000;

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
    /// The highest outbox event id written.
    pub(crate) through: i64,
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
        let writer = match self
            .opened
            .index
            .writer_with_num_threads(threads, WRITER_MEMORY * threads)
        {
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
            let retry = !self.complete || behind;
            let next = tokio::select! {
                _ = shutdown.cancelled() => Next::Stop,
                cmd = self.commands.recv(), if commands_open => Next::Command(cmd),
                event = bus.recv() => Next::Event(event),
                _ = tokio::time::sleep(Duration::from_secs(1)), if retry => Next::Retry,
            };
            match next {
                Next::Stop | Next::Event(Err(broadcast::error::RecvError::Closed)) => break,
                Next::Retry => {}
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
                    while events.len() < BATCH {
                        match bus.try_recv() {
                            Ok(e) => events.push(e),
                            Err(broadcast::error::TryRecvError::Lagged(_)) => {
                                behind = true;
                                break;
                            }
                            Err(_) => break,
                        }
                    }
                    if let Err(e) = self.apply(&writer, &events).await {
                        tracing::warn!(error = %e, "Search indexing failed; catching up from the outbox.");
                        behind = true;
                    }
                }
            }
        }
    }

    /// Writes what `events` change and commits.
    async fn apply(&mut self, writer: &Writer, events: &[Arc<Event>]) -> Result<(), SearchError> {
        let through = events
            .iter()
            .map(|e| e.id)
            .max()
            .unwrap_or_default()
            .max(self.through);
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
            if events.is_empty() {
                // Only rows no version of Kefu wrote: step over them.
                return self.write(writer, Vec::new(), last).await;
            }
            events.sort_by_key(|e| e.id);
            self.apply(writer, &events).await?;
            if self.through < last {
                self.write(writer, Vec::new(), last).await?;
            }
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
