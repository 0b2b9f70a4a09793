//! How the job workers of this process are doing, for `/readyz` and the metrics.
//!
//! The [supervisor](super::workers) marks a queue's worker [`up`](WorkerHealth::up) when it
//! starts polling and [`down`](WorkerHealth::down) with the reason when it stops on an error
//! (its backend failed: the database went away, the pool timed out); it then restarts the
//! worker with backoff. A queue that is down means replies or webhooks wait: the node still
//! takes messages in, so readiness reports it as degraded rather than unavailable.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::Serialize;

/// The state of one queue's worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueueHealth {
    /// `true` while the worker polls its queue.
    pub running: bool,
    /// When it last started or stopped.
    pub since: DateTime<Utc>,
    /// Why it last stopped, while it is down.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// How many times it was restarted after stopping on an error.
    pub restarts: u64,
}

/// The workers' state by queue name, shared by the supervisor and `/readyz`.
#[derive(Debug, Clone, Default)]
pub struct WorkerHealth {
    queues: Arc<Mutex<BTreeMap<&'static str, QueueHealth>>>,
}

impl WorkerHealth {
    /// No worker known yet (a process that runs no workers stays so).
    pub fn new() -> Self {
        Self::default()
    }

    /// The worker of `queue` (re)started polling.
    pub fn up(&self, queue: &'static str) {
        metrics::gauge!("kefu_job_worker_up", "queue" => queue).set(1.0);
        let mut queues = self.lock();
        let restarts = queues.get(queue).map_or(0, |q| q.restarts);
        queues.insert(
            queue,
            QueueHealth {
                running: true,
                since: Utc::now(),
                error: None,
                restarts,
            },
        );
    }

    /// The worker of `queue` stopped because of `error`; it will be restarted.
    pub fn down(&self, queue: &'static str, error: String) {
        metrics::gauge!("kefu_job_worker_up", "queue" => queue).set(0.0);
        metrics::counter!("kefu_job_worker_restarts_total", "queue" => queue).increment(1);
        let mut queues = self.lock();
        let restarts = queues.get(queue).map_or(0, |q| q.restarts) + 1;
        queues.insert(
            queue,
            QueueHealth {
                running: false,
                since: Utc::now(),
                error: Some(error),
                restarts,
            },
        );
    }

    /// Every known queue's state.
    pub fn snapshot(&self) -> BTreeMap<&'static str, QueueHealth> {
        self.lock().clone()
    }

    /// `true` when every known worker is running.
    pub fn all_running(&self) -> bool {
        self.lock().values().all(|q| q.running)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<&'static str, QueueHealth>> {
        self.queues.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stopped_worker_counts_its_restarts_and_clears_its_error_when_up() {
        let h = WorkerHealth::new();
        assert!(h.all_running(), "no worker known yet is not a failure");
        h.up("send");
        h.up("webhook");
        assert!(h.all_running());
        h.down("send", "pool timed out".into());
        assert!(!h.all_running());
        let s = h.snapshot();
        assert_eq!(s["send"].error.as_deref(), Some("pool timed out"));
        assert_eq!(s["send"].restarts, 1);
        assert!(s["webhook"].running);
        h.up("send");
        let s = h.snapshot();
        assert!(s["send"].running);
        assert_eq!(s["send"].error, None);
        assert_eq!(s["send"].restarts, 1, "restarts are kept across a recovery");
    }
}
