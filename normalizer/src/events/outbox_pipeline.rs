//! SQLite's outbox relay: a pipeline that publishes ahead and consumes and marks behind.

use std::time::Duration;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{OutboxRelay, Published, RELAY_BATCH};
use crate::entity::outbox_event;

/// Batches the SQLite relay publishes before they are consumed and marked: enough to keep
/// publishing through a few slow turns at the writer, few enough that a consumer that fails
/// for long holds up little (each batch is at most [`RELAY_BATCH`] events).
const PIPELINE_DEPTH: usize = 8;

impl OutboxRelay {
    /// SQLite's relay: it publishes committed rows as soon as they are visible, and consumes
    /// and marks them behind, in a second stage.
    ///
    /// SQLite has one writer, and ingest keeps it busy: the consumer's writes (report facts,
    /// jobs) and the mark each wait their turn for it. Done in line, as on PostgreSQL, the
    /// next batch could not be published before the previous one was marked, so under load an
    /// agent saw a visitor's message only after two waits for the writer. Reads do not wait
    /// (WAL), and in one process ids follow commit order (one write transaction at a time), so
    /// the publisher follows the outbox by id, up to [`PIPELINE_DEPTH`] batches ahead of the
    /// marks. A crash loses nothing: rows published but not yet marked are published again at
    /// start, as a batch whose consumer failed is on PostgreSQL (at least once).
    pub(super) async fn run_pipelined(self, shutdown: CancellationToken) {
        let (tx, rx) = mpsc::channel(PIPELINE_DEPTH);
        tokio::join!(
            self.publish_ahead(tx, &shutdown),
            self.consume_behind(rx, &shutdown)
        );
    }

    /// The pipeline's first stage: publishes rows in id order and passes them on to be consumed
    /// and marked. At shutdown it publishes what is committed, then ends.
    async fn publish_ahead(&self, to_mark: mpsc::Sender<Published>, shutdown: &CancellationToken) {
        let mut last_prune = tokio::time::Instant::now();
        // The last id published; `None` starts at the oldest unmarked row.
        let mut after: Option<i64> = None;
        let mut stopping = false;
        loop {
            self.prune_when_due(&mut last_prune).await;
            let mut find =
                outbox_event::Entity::find().filter(outbox_event::Column::DispatchedAt.is_null());
            if let Some(after) = after {
                find = find.filter(outbox_event::Column::Id.gt(after));
            }
            match find
                .order_by_asc(outbox_event::Column::Id)
                .limit(RELAY_BATCH)
                .all(self.db.conn())
                .await
            {
                Ok(rows) if !rows.is_empty() => {
                    after = rows.last().map(|r| r.id);
                    let batch = Published::of(rows);
                    self.bus.publish_batch(&batch.events).await;
                    if to_mark.send(batch).await.is_err() {
                        return;
                    }
                    continue;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "Outbox relay failed; retrying."),
            }
            if stopping {
                return;
            }
            tokio::select! {
                _ = shutdown.cancelled() => stopping = true,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            }
        }
    }

    /// The pipeline's second stage: hands published batches to the consumer and marks them, in
    /// order, several waiting batches at once. A batch whose consumer fails is offered again
    /// until it is taken (or the relay stops; it is then relayed again at the next start).
    async fn consume_behind(
        &self,
        mut published: mpsc::Receiver<Published>,
        shutdown: &CancellationToken,
    ) {
        while let Some(mut batch) = published.recv().await {
            while batch.ids.len() < RELAY_BATCH as usize
                && let Ok(more) = published.try_recv()
            {
                batch.ids.extend(more.ids);
                batch.events.extend(more.events);
            }
            loop {
                match self.consume_and_mark(&batch, self.db.conn()).await {
                    Ok(()) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "Outbox consumer failed; retrying the batch.");
                        tokio::select! {
                            _ = shutdown.cancelled() => return,
                            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                        }
                    }
                }
            }
        }
    }
}
