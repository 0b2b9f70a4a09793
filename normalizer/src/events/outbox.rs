//! The outbox: [`WriteTx::emit`] appends events inside the writer's transaction (and makes its
//! commit wake the relay); the [`OutboxRelay`] publishes committed rows to the bus and hands
//! them to the dispatcher's fan-out. On PostgreSQL it takes [partitions](super::partition)
//! under advisory locks, so that relays on several nodes never publish the same event; on
//! SQLite (one process) it publishes ahead of the fan-out and the marks (`outbox_pipeline.rs`).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Set, Statement, TransactionTrait,
};
use tokio_util::sync::CancellationToken;

use super::partition::{self, RELAY_LOCK_CLASS, RELAY_PARTITIONS};
use super::{Event, EventBus, EventData, EventType};
use crate::db::{Db, WriteTx};
use crate::entity::outbox_event;
use crate::error::StoreError;

#[path = "outbox_pipeline.rs"]
mod pipeline;

impl WriteTx {
    /// Appends one event to the outbox inside this transaction. Committing the transaction
    /// wakes the outbox relay; rolling it back (or dropping it) discards the event.
    pub async fn emit(&self, data: EventData) -> Result<(), StoreError> {
        emit_all(self, [data], Utc::now()).await
    }
}

/// Appends `events` in one statement, in order, all stamped `at`; like [`WriteTx::emit`].
pub async fn emit_all(
    tx: &WriteTx,
    events: impl IntoIterator<Item = EventData>,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let rows = events
        .into_iter()
        .map(|data| {
            let payload = data.stored().map_err(|e| {
                StoreError::Invalid(format!("{} cannot be stored: {e}", data.kind()))
            })?;
            Ok(outbox_event::ActiveModel {
                event_type: Set(data.kind().as_str().to_owned()),
                conversation_id: Set(data.conversation_id()),
                payload: Set(payload),
                created_at: Set(at),
                relayed_at: Set(None),
                dispatched_at: Set(None),
                ..Default::default()
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    if rows.is_empty() {
        return Ok(());
    }
    outbox_event::Entity::insert_many(rows).exec(&**tx).await?;
    tx.wake_relay_on_commit();
    Ok(())
}

/// An outbox row as an event, or `None` (logged) for a row no version of Kefu wrote: an
/// unknown type or a payload that does not fit it. Such a row is marked with its batch, so it
/// cannot hold up the events behind it.
pub(crate) fn decode(row: outbox_event::Model) -> Option<Event> {
    let kind: EventType = match row.event_type.parse() {
        Ok(k) => k,
        Err(e) => {
            tracing::warn!(event = row.id, error = %e, "Skipping an outbox event of unknown type.");
            return None;
        }
    };
    match EventData::decode(kind, row.payload) {
        Ok(data) => Some(Event {
            id: row.id,
            timestamp: row.created_at,
            conversation_id: row.conversation_id,
            data,
        }),
        Err(e) => {
            tracing::warn!(event = row.id, %kind, error = %e, "Skipping an outbox event whose data does not fit its type.");
            None
        }
    }
}

/// How long relayed events stay in the outbox (for inspection and late consumers).
pub const RETAIN_RELAYED: Duration = Duration::from_secs(3600);

/// Most events read, published and marked at once.
const RELAY_BATCH: u64 = 500;

/// Oldest rows looked at per pruning statement.
const PRUNE_CHUNK: u64 = 5000;

/// Why an [`OutboxConsumer`] could not take a batch; the batch is offered again.
pub type ConsumeError = Box<dyn std::error::Error + Send + Sync>;

/// What else must happen to committed events before the outbox forgets them: the dispatcher
/// turns them into durable jobs (replies to send, webhook deliveries). It runs after the batch
/// was published, so realtime subscribers do not wait for it, and before the batch is marked,
/// so a crash in between loses nothing (the batch is relayed and consumed again; consumers are
/// idempotent). While it fails, the relay offers it the same batch again and later events wait.
#[async_trait::async_trait]
pub trait OutboxConsumer: Send + Sync + 'static {
    /// Takes one batch of committed events, in id order.
    async fn consume(&self, events: &[Arc<Event>]) -> Result<(), ConsumeError>;
}

/// Moves committed outbox events to the bus and to the consumer, then marks them done: one
/// pass and one update per batch (each event row is written twice in all: inserted, marked).
pub struct OutboxRelay {
    db: Db,
    bus: Arc<dyn EventBus>,
    wake: Arc<tokio::sync::Notify>,
    consumer: Option<Arc<dyn OutboxConsumer>>,
    /// Published, but the consumer failed: not published again when the batch is retried.
    published: std::sync::Mutex<HashSet<i64>>,
    /// Prunes only while this lease is held (one node of several); always when `None`.
    prune_lease: Option<crate::leases::Held>,
}

impl OutboxRelay {
    /// A relay from `db` to `bus`, woken early when a transaction that emitted events commits.
    pub fn new(db: Db, bus: Arc<dyn EventBus>) -> Self {
        Self {
            wake: db.outbox_wake(),
            db,
            bus,
            consumer: None,
            published: Default::default(),
            prune_lease: None,
        }
    }

    /// Prunes only while `lease` is held, so that of several nodes one prunes.
    pub fn prune_under(mut self, lease: crate::leases::Held) -> Self {
        self.prune_lease = Some(lease);
        self
    }

    /// Hands every published batch to `consumer` before marking it.
    pub fn consumer(mut self, consumer: Arc<dyn OutboxConsumer>) -> Self {
        self.consumer = Some(consumer);
        self
    }

    /// Relays until `shutdown`, then drains what is committed. Relayed rows older than
    /// [`RETAIN_RELAYED`] are pruned once a minute so the table stays small.
    ///
    /// On SQLite the relay is a pipeline instead: it publishes ahead of the consumer and the
    /// marks (see `outbox_pipeline.rs`).
    pub async fn run(self, shutdown: CancellationToken) {
        if !self.db.is_postgres() {
            return self.run_pipelined(shutdown).await;
        }
        let mut last_prune = tokio::time::Instant::now();
        loop {
            self.prune_when_due(&mut last_prune).await;
            match self.relay_batch().await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "Outbox relay failed; retrying."),
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            }
        }
        while let Ok(n) = self.relay_batch().await {
            if n == 0 {
                break;
            }
        }
    }

    /// Prunes once a minute (see [`prune`](Self::prune)), if this node holds the lease.
    async fn prune_when_due(&self, last_prune: &mut tokio::time::Instant) {
        if last_prune.elapsed() >= Duration::from_secs(60)
            && self
                .prune_lease
                .as_ref()
                .is_none_or(crate::leases::Held::now)
        {
            *last_prune = tokio::time::Instant::now();
            if let Err(e) = self.prune().await {
                tracing::warn!(error = %e, "Outbox pruning failed; retrying later.");
            }
        }
    }

    /// Hands `batch` to the consumer, then marks it through `conn` (on SQLite in the writer
    /// slot, so the mark waits its turn in line instead of in SQLite's busy handler).
    async fn consume_and_mark<C: ConnectionTrait>(
        &self,
        batch: &Published,
        conn: &C,
    ) -> Result<(), ConsumeError> {
        if let Some(consumer) = &self.consumer {
            consumer.consume(&batch.events).await?;
        }
        let _slot = self.db.write_slot().await;
        mark_on(conn, &batch.ids).await?;
        metrics::counter!("kefu_events_relayed_total").increment(batch.ids.len() as u64);
        Ok(())
    }

    /// Deletes events relayed (and consumed) more than [`RETAIN_RELAYED`] ago. It walks the
    /// oldest rows by id, a chunk at a time, so no index over the marks is needed and a pass
    /// stops at the first chunk with nothing old enough.
    pub async fn prune(&self) -> Result<u64, StoreError> {
        let cutoff = Utc::now() - chrono::Duration::from_std(RETAIN_RELAYED).unwrap_or_default();
        let mut pruned = 0;
        loop {
            let oldest = outbox_event::Entity::find()
                .select_only()
                .column(outbox_event::Column::Id)
                .order_by_asc(outbox_event::Column::Id)
                .limit(PRUNE_CHUNK)
                .into_query();
            let res = outbox_event::Entity::delete_many()
                .filter(outbox_event::Column::Id.in_subquery(oldest))
                .filter(outbox_event::Column::DispatchedAt.lt(cutoff))
                .exec(self.db.conn())
                .await?;
            pruned += res.rows_affected;
            if res.rows_affected == 0 {
                return Ok(pruned);
            }
        }
    }

    /// Publishes, consumes and marks up to one batch of committed events; returns how many. On
    /// PostgreSQL the batch holds the partitions with waiting events that no other node holds,
    /// all taken in one transaction; on SQLite (one process) it is the oldest of the whole
    /// outbox.
    pub async fn relay_batch(&self) -> Result<usize, ConsumeError> {
        if !self.db.is_postgres() {
            let rows = outbox_event::Entity::find()
                .filter(outbox_event::Column::DispatchedAt.is_null())
                .order_by_asc(outbox_event::Column::Id)
                .limit(RELAY_BATCH)
                .all(self.db.conn())
                .await?;
            return self.relay_rows(rows, self.db.conn()).await;
        }
        // Which partitions have work, judged from the oldest unmarked rows.
        let waiting: Vec<Option<i64>> = outbox_event::Entity::find()
            .select_only()
            .column(outbox_event::Column::ConversationId)
            .filter(outbox_event::Column::DispatchedAt.is_null())
            .order_by_asc(outbox_event::Column::Id)
            .limit(RELAY_BATCH)
            .into_tuple()
            .all(self.db.conn())
            .await?;
        let partitions = partition::partitions_in(waiting);
        if partitions.is_empty() {
            return Ok(0);
        }
        let txn = self.db.conn().begin().await?;
        match self.relay_partitions_in(&txn, &partitions).await {
            Ok(Some(n)) => {
                txn.commit().await?;
                Ok(n)
            }
            // Rolled back explicitly: a dropped transaction would free the locks only when its
            // connection is next used.
            Ok(None) => {
                txn.rollback().await?;
                Ok(0)
            }
            Err(e) => {
                let _ = txn.rollback().await;
                Err(e)
            }
        }
    }

    /// Takes for `txn` those of `partitions` that no other relay holds and relays one batch of
    /// their events, oldest first; `None` when others hold them all. One transaction (lock,
    /// read, mark) and one hand-over to the consumer serve every partition taken: under load
    /// most partitions have work at every pass, and a pass per partition cost as many
    /// transactions and report writes, for batches of a few events each.
    async fn relay_partitions_in(
        &self,
        txn: &DatabaseTransaction,
        partitions: &[i32],
    ) -> Result<Option<usize>, ConsumeError> {
        let list = |ps: &[i32]| {
            let inner = ps.iter().map(i32::to_string).collect::<Vec<_>>().join(",");
            format!("{{{inner}}}")
        };
        let locked = txn
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                partition::TRY_LOCK_ANY,
                [RELAY_LOCK_CLASS.into(), list(partitions).into()],
            ))
            .await?
            .iter()
            .map(|row| row.try_get::<i32>("", "p"))
            .collect::<Result<Vec<i32>, _>>()?;
        if locked.is_empty() {
            return Ok(None);
        }
        let rows = outbox_event::Entity::find()
            .filter(outbox_event::Column::DispatchedAt.is_null())
            .filter(Expr::cust_with_values(
                partition::PARTITIONS_FILTER,
                [
                    sea_orm::Value::from(RELAY_PARTITIONS),
                    sea_orm::Value::from(list(&locked)),
                ],
            ))
            .order_by_asc(outbox_event::Column::Id)
            .limit(RELAY_BATCH)
            .all(txn)
            .await?;
        Ok(Some(self.relay_rows(rows, txn).await?))
    }

    /// Publishes, consumes and marks (through `conn`) the rows of one batch.
    async fn relay_rows<C: ConnectionTrait>(
        &self,
        rows: Vec<outbox_event::Model>,
        conn: &C,
    ) -> Result<usize, ConsumeError> {
        if rows.is_empty() {
            return Ok(0);
        }
        let batch = Published::of(rows);
        let fresh: Vec<Arc<Event>> = {
            let published = self.published.lock().unwrap_or_else(|e| e.into_inner());
            batch
                .events
                .iter()
                .filter(|e| !published.contains(&e.id))
                .cloned()
                .collect()
        };
        self.bus.publish_batch(&fresh).await;
        if let Err(e) = self.consume_and_mark(&batch, conn).await {
            let mut published = self.published.lock().unwrap_or_else(|e| e.into_inner());
            published.extend(&batch.ids);
            return Err(e);
        }
        {
            let mut published = self.published.lock().unwrap_or_else(|e| e.into_inner());
            if !published.is_empty() {
                for id in &batch.ids {
                    published.remove(id);
                }
            }
        }
        Ok(batch.ids.len())
    }
}

/// A batch of outbox rows: every id (to mark, undecodable rows too) and the decoded events.
struct Published {
    ids: Vec<i64>,
    events: Vec<Arc<Event>>,
}

impl Published {
    /// Decodes `rows`; each event is built once and shared by the bus and the consumer.
    fn of(rows: Vec<outbox_event::Model>) -> Self {
        Self {
            ids: rows.iter().map(|r| r.id).collect(),
            events: rows.into_iter().filter_map(decode).map(Arc::new).collect(),
        }
    }
}

/// Marks the events `ids` relayed and consumed.
///
/// The ids travel as one bound text parameter (a PostgreSQL array literal, a JSON array on
/// SQLite), so the statement text is the same for every batch and stays prepared on each
/// connection; a list written into the SQL, or one placeholder per id, made every batch size
/// new SQL to parse and plan.
///
/// Only unmarked rows are looked at: with planner statistics the plan is a scan of their
/// small partial index. Relays hold a partition while they mark its rows, so two never mark
/// the same rows, and an index scan of `id = ANY(…)` visits (and locks) them in id order. An
/// earlier form locked them first in a `SELECT … ORDER BY id FOR UPDATE` subquery and joined
/// the update to it: a generic plan made while the table was still small (before autovacuum
/// first analyzed it) scanned the whole outbox twice per batch, once for the lock and once for
/// the join, until the next analyze.
pub async fn mark(db: &Db, ids: &[i64]) -> Result<(), StoreError> {
    let _slot = db.write_slot().await;
    mark_on(db.conn(), ids).await
}

/// [`mark`] through `conn` (a relay's partition transaction on PostgreSQL).
async fn mark_on<C: ConnectionTrait>(conn: &C, ids: &[i64]) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let filter = if conn.get_database_backend() == DbBackend::Postgres {
        Expr::cust_with_values("id = ANY(CAST($1 AS bigint[]))", [format!("{{{list}}}")])
    } else {
        Expr::cust_with_values(
            "id IN (SELECT value FROM json_each(?))",
            [format!("[{list}]")],
        )
    };
    outbox_event::Entity::update_many()
        .col_expr(outbox_event::Column::RelayedAt, Expr::value(now))
        .col_expr(outbox_event::Column::DispatchedAt, Expr::value(now))
        .filter(filter)
        .filter(outbox_event::Column::DispatchedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}
