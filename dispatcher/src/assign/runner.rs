//! The assigner tasks: a round on every relevant event, at the next overflow or `max_wait`
//! deadline, and on a periodic sweep.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use kefu_normalizer::leases::Leases;
use kefu_normalizer::{EventBus, EventType};
use tokio::sync::broadcast::error::TryRecvError;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::commit::{Pending, commit};
use super::error::DispatchError;
use super::{Dispatcher, notice, ops, route, snapshot, views};
use crate::routing::{QueuePolicy, QueuedConversation, WinnerCriterion, plan_round};

/// Batches committed at once on PostgreSQL.
const COMMIT_PARALLELISM: usize = 4;

/// Splits planned assignments into batches of about `size` such that each agent's
/// assignments are all in one batch (so concurrent batches lock disjoint agents). Queue order
/// is kept within a batch.
fn split_by_agent(pending: Vec<Pending>, size: usize) -> Vec<Vec<Pending>> {
    let n = pending.len().div_ceil(size).max(1);
    let mut batches: Vec<Vec<Pending>> = vec![Vec::new(); n];
    for p in pending {
        let k = usize::try_from(p.agent_id.rem_euclid(n as i64)).unwrap_or(0);
        batches[k].push(p);
    }
    batches.retain(|b| !b.is_empty());
    batches
}

/// The longest pause the assigner takes between rounds to stay within its share of the CPU.
const MAX_PACE: Duration = Duration::from_millis(500);

/// Events after which a round may assign something.
const TRIGGERS: [EventType; 7] = [
    EventType::ConversationQueued,
    EventType::ConversationBotHandoff,
    EventType::ConversationCreated,
    EventType::ConversationReopened,
    EventType::ConversationTransferred,
    EventType::ConversationResolved,
    EventType::AgentStatusChanged,
];

/// What one round did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoundReport {
    /// Conversations routed by the rules.
    pub routed: usize,
    /// Conversations put back in the queue because their agent is offline.
    pub requeued: usize,
    /// Conversations in the queue when the round planned.
    pub queued: usize,
    /// `(conversation, agent)` pairs assigned.
    pub assigned: Vec<(i64, i64)>,
    /// Planned assignments another task or node got to first, or that no longer fit.
    pub dropped: usize,
    /// `max_wait` messages stored.
    pub notices: usize,
    /// The next overflow or `max_wait` deadline among the conversations left queued.
    pub next_deadline: Option<DateTime<Utc>>,
}

impl Dispatcher {
    /// Runs one round (see the [module docs](super)).
    pub async fn run_round(&self) -> Result<RoundReport, DispatchError> {
        let started = Instant::now();
        let db = &self.inner.db;
        let settings = &self.inner.settings;
        let mut report = RoundReport::default();
        if settings.requeue_on_offline {
            for (agent, convs) in ops::stranded(db).await? {
                report.requeued += ops::requeue_agent(db, agent, Some(&convs)).await?;
            }
        }
        let inboxes = snapshot::inboxes(db).await?;
        let queue = snapshot::queue(db, &inboxes).await?;
        report.routed = route::route_new(db, &inboxes, &queue.unrouted, self.intents.as_ref(), {
            let this = self.clone();
            Arc::new(move || this.wake())
        })
        .await?;
        let queue = if report.routed > 0 {
            snapshot::queue(db, &inboxes).await?
        } else {
            queue
        };
        let agents = snapshot::agents(db).await?;
        let policies = snapshot::policies(&inboxes);
        let now = Utc::now();
        let planning = Instant::now();
        let plan = plan_round(&queue.routed, &agents, &policies, now, settings.aging());
        metrics::histogram!("kefu_routing_plan_duration_seconds")
            .record(planning.elapsed().as_secs_f64());
        report.queued = queue.routed.len();

        let planned: std::collections::HashMap<i64, (DateTime<Utc>, Option<i64>)> = queue
            .routed
            .iter()
            .map(|q| (q.id, (q.enqueued_at, q.team_id)))
            .collect();
        let pending: Vec<Pending> = plan
            .assignments
            .iter()
            .map(|a| Pending {
                conversation_id: a.conversation_id,
                agent_id: a.agent_id,
                reason: if a.explanation.winner_criteria == WinnerCriterion::PreviousAgent {
                    "sticky"
                } else {
                    "auto"
                },
                explanation: serde_json::to_value(&a.explanation).unwrap_or_default(),
                enqueued_at: planned.get(&a.conversation_id).map(|p| p.0),
                team_id: planned.get(&a.conversation_id).and_then(|p| p.1),
            })
            .collect();
        // Batches with disjoint agents never wait on each other's agent locks, so on
        // PostgreSQL a few commit at once; SQLite has one writer anyway.
        let batches = split_by_agent(pending, settings.batch_size.max(1));
        let parallel = if db.is_postgres() {
            COMMIT_PARALLELISM
        } else {
            1
        };
        let mut running = tokio::task::JoinSet::new();
        let mut batches = batches.into_iter();
        loop {
            while running.len() < parallel {
                let Some(batch) = batches.next() else { break };
                let db = db.clone();
                running.spawn(async move { commit(&db, &batch).await });
            }
            let Some(done) = running.join_next().await else {
                break;
            };
            let done = done.map_err(|e| DispatchError::Invalid(format!("commit task: {e}")))??;
            report.dropped += done.dropped;
            report.assigned.extend(done.assigned);
        }
        for n in &plan.notices {
            if notice::send_once(db, n.conversation_id, &n.message).await? {
                report.notices += 1;
            }
        }
        let assigned: std::collections::HashSet<i64> =
            report.assigned.iter().map(|(c, _)| *c).collect();
        let left: Vec<&QueuedConversation> = queue
            .routed
            .iter()
            .filter(|q| !assigned.contains(&q.id))
            .collect();
        report.next_deadline = next_deadline(&left, &policies, now);
        views::record_queue_metrics(&queue.routed, queue.unrouted.len());
        metrics::histogram!("kefu_routing_round_duration_seconds")
            .record(started.elapsed().as_secs_f64());
        Ok(report)
    }

    /// Starts the assigner; it stops on `shutdown`. Of several nodes, only the holder of the
    /// lease `assigner` runs rounds; another takes over when it dies.
    pub fn spawn(
        &self,
        bus: Arc<dyn EventBus>,
        leases: &Leases,
        shutdown: CancellationToken,
    ) -> JoinHandle<()> {
        let me = self.clone();
        let leases = leases.clone();
        tokio::spawn(async move {
            leases
                .run_held("assigner", shutdown, |held| {
                    let tasks = me.spawn_tasks(&bus, held);
                    async move {
                        for task in tasks {
                            let _ = task.await;
                        }
                    }
                })
                .await;
        })
    }

    /// Starts this node's assigner tasks; they stop on `shutdown`.
    fn spawn_tasks(
        &self,
        bus: &Arc<dyn EventBus>,
        shutdown: CancellationToken,
    ) -> Vec<JoinHandle<()>> {
        self.inner
            .wakes
            .iter()
            .map(|wake| {
                let me = self.clone();
                let wake = wake.clone();
                let events = bus.subscribe();
                let shutdown = shutdown.clone();
                tokio::spawn(async move { me.assigner(wake, events, shutdown).await })
            })
            .collect()
    }

    async fn assigner(
        self,
        wake: Arc<tokio::sync::Notify>,
        mut events: tokio::sync::broadcast::Receiver<Arc<kefu_normalizer::Event>>,
        shutdown: CancellationToken,
    ) {
        let sweep = Duration::from_millis(self.inner.settings.sweep_interval_ms);
        loop {
            let mut wait = sweep;
            let started = Instant::now();
            let result = self.run_round().await;
            // A round reads the whole queue. Under a stream of new conversations the rounds
            // would run back to back and take a core from ingest; spacing them by twice their
            // own duration bounds the assigner to a third of a core, while a small queue's
            // rounds (milliseconds) stay practically immediate.
            let not_before = Instant::now() + (started.elapsed() * 2).min(MAX_PACE);
            match result {
                Ok(r) => {
                    if !r.assigned.is_empty() || r.routed > 0 {
                        tracing::debug!(
                            assigned = r.assigned.len(),
                            routed = r.routed,
                            queued = r.queued,
                            "Dispatch round."
                        );
                    }
                    if let Some(t) = r.next_deadline {
                        let until = (t - Utc::now()).to_std().unwrap_or_default();
                        wait = wait.min(until + Duration::from_millis(5));
                    }
                    if r.dropped > 0 || r.routed > 0 {
                        // Lost races or freshly routed conversations: look again soon.
                        wait = wait.min(Duration::from_millis(20));
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "Dispatch round failed; retrying.");
                    wait = wait.min(Duration::from_millis(500));
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = next_trigger(&mut events) => {}
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep_until(not_before.into()) => {}
            }
            // Coalesce a burst of events into the next round.
            while let Ok(_) | Err(TryRecvError::Lagged(_)) = events.try_recv() {}
        }
    }
}

/// Waits for an event that can lead to an assignment.
async fn next_trigger(events: &mut tokio::sync::broadcast::Receiver<Arc<kefu_normalizer::Event>>) {
    loop {
        match events.recv().await {
            Ok(e) if TRIGGERS.contains(&e.kind()) => return,
            Ok(_) => {}
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => return,
            Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                std::future::pending::<()>().await
            }
        }
    }
}

/// The earliest future moment a conversation left queued changes overflow stage or reaches
/// `max_wait`, in business time when its inbox keeps a schedule (a conversation queued on
/// Friday evening next changes stage `overflow_after` into Monday's hours).
fn next_deadline(
    queue: &[&QueuedConversation],
    policies: &std::collections::BTreeMap<i64, QueuePolicy>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let fallback = QueuePolicy::default();
    queue
        .iter()
        .flat_map(|q| {
            let p = policies.get(&q.inbox_id).unwrap_or(&fallback);
            deadlines(q, p)
        })
        .filter(|t| *t > now)
        .min()
}

fn deadlines(q: &QueuedConversation, p: &QueuePolicy) -> Vec<DateTime<Utc>> {
    let o = &p.overflow;
    let at = |d: Duration| p.waited_until(q, d);
    let mut out = Vec::new();
    if let Some(after) = o.overflow_after {
        let step = o.step.unwrap_or(after);
        for k in 0..3u32 {
            out.extend(at(after + step * k));
        }
    }
    if let (Some(max), false) = (o.max_wait, q.max_wait_notified) {
        out.extend(at(max));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use kefu_normalizer::schedules::{Hours, Weekly};

    use super::*;
    use crate::routing::OverflowPolicy;

    fn conv(enqueued_at: DateTime<Utc>, notified: bool) -> QueuedConversation {
        QueuedConversation {
            id: 1,
            inbox_id: 1,
            priority: 0,
            enqueued_at,
            required_skills: BTreeMap::new(),
            team_id: None,
            previous_agent: None,
            max_wait_notified: notified,
            rule_hits: Vec::new(),
        }
    }

    #[test]
    fn the_next_deadline_is_the_next_stage_or_max_wait() {
        let t0 = DateTime::from_timestamp(1_700_000_000, 0).expect("in range");
        let s = |n: i64| t0 + chrono::Duration::seconds(n);
        let policy = QueuePolicy {
            overflow: OverflowPolicy {
                overflow_after: Some(Duration::from_secs(60)),
                step: Some(Duration::from_secs(30)),
                max_wait: Some(Duration::from_secs(75)),
                max_wait_message: Some("wait".into()),
                fallback_team_id: None,
            },
            sticky_window: None,
            hours: None,
        };
        let policies = BTreeMap::from([(1, policy)]);
        let fresh = conv(t0, false);
        let told = conv(t0, true);
        let cases = [
            (&fresh, s(0), Some(s(60))),
            (&fresh, s(60), Some(s(75))),
            (&told, s(60), Some(s(90))),
            (&fresh, s(90), Some(s(120))),
            (&fresh, s(120), None),
        ];
        for (c, now, want) in cases {
            assert_eq!(next_deadline(&[c], &policies, now), want, "at {now}");
        }
        assert_eq!(
            next_deadline(&[&fresh], &BTreeMap::new(), s(0)),
            None,
            "no policy, no timer"
        );
    }

    #[test]
    fn the_next_deadline_counts_open_time() {
        let d = vec![["09:00".to_owned(), "17:00".to_owned()]];
        let week = Weekly {
            mon: d.clone(),
            fri: d,
            ..Default::default()
        };
        let hours = Hours::parse("Europe/Berlin", &week, &[], &[]).expect("valid");
        let policy = QueuePolicy {
            overflow: OverflowPolicy {
                overflow_after: Some(Duration::from_secs(60)),
                ..OverflowPolicy::default()
            },
            sticky_window: None,
            hours: Some(hours),
        };
        let policies = BTreeMap::from([(1, policy)]);
        let at = |s: &str| s.parse::<DateTime<Utc>>().expect("an instant");
        // Queued Friday 6 November 2026 16:59:30 CET: 30 open seconds that day, 30 more on
        // Monday, so the first stage comes at Monday 09:00:30 CET.
        let queued = conv(at("2026-11-06T15:59:30Z"), false);
        assert_eq!(
            next_deadline(&[&queued], &policies, at("2026-11-07T12:00:00Z")),
            Some(at("2026-11-09T08:00:30Z"))
        );
    }
}

#[cfg(test)]
mod batch_tests {
    use super::*;

    #[test]
    fn batches_keep_each_agent_in_one_batch_and_queue_order_within() {
        let pending: Vec<Pending> = (0..100)
            .map(|i| Pending {
                conversation_id: i,
                agent_id: i % 7,
                reason: "auto",
                explanation: serde_json::Value::Null,
                enqueued_at: None,
                team_id: None,
            })
            .collect();
        let batches = split_by_agent(pending, 30);
        assert_eq!(batches.iter().map(Vec::len).sum::<usize>(), 100);
        for (i, b) in batches.iter().enumerate() {
            assert!(
                b.windows(2)
                    .all(|w| w[0].conversation_id < w[1].conversation_id)
            );
            for other in &batches[i + 1..] {
                assert!(
                    b.iter()
                        .all(|p| other.iter().all(|q| q.agent_id != p.agent_id))
                );
            }
        }
    }
}
