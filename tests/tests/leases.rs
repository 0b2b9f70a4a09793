//! Singleton work across nodes: of several nodes on one PostgreSQL, one runs a piece of work
//! (an inbox's poller, the assigner) at a time; a node that can no longer renew its lease stops
//! the work before another node starts it; a dead node's work is taken over within 10 s; a
//! node shutting down hands it over at once. On SQLite (one process) every lease is held.
//! Channel state remembers a value (a callback nonce) once for every node.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use kefu_normalizer::Db;
use kefu_normalizer::leases::{Leases, TTL};
use kefu_tests::{Backend, backends, fresh_database};
use sea_orm::ConnectionTrait;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Counts how many nodes run the work at once, and says who starts it.
struct Probe {
    running: AtomicUsize,
    most: AtomicUsize,
    starts: mpsc::UnboundedSender<&'static str>,
}

/// Counts one running copy of the work out when dropped.
struct Running<'a>(&'a AtomicUsize);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// One node: its leases, its keeper and its `run_held` of the work, each stoppable on its own.
struct Node {
    name: &'static str,
    keeper: JoinHandle<()>,
    keeper_stop: CancellationToken,
    work: JoinHandle<()>,
    work_stop: CancellationToken,
}

impl Node {
    fn start(db: &Db, name: &'static str, probe: &Arc<Probe>) -> Self {
        let leases = Leases::new(db, name);
        let keeper_stop = CancellationToken::new();
        let keeper = tokio::spawn(leases.clone().run(keeper_stop.clone()));
        let work_stop = CancellationToken::new();
        let probe = probe.clone();
        let stop = work_stop.clone();
        let work = tokio::spawn(async move {
            leases
                .run_held("inbox:1", stop, |held| {
                    let probe = probe.clone();
                    async move {
                        let now = probe.running.fetch_add(1, Ordering::SeqCst) + 1;
                        probe.most.fetch_max(now, Ordering::SeqCst);
                        let _ = probe.starts.send(name);
                        // Counted out when the work ends or, killed, is dropped.
                        let _running = Running(&probe.running);
                        held.cancelled().await;
                    }
                })
                .await;
        });
        Self {
            name,
            keeper,
            keeper_stop,
            work,
            work_stop,
        }
    }

    /// As `kill -9`: nothing runs any more, nothing is released.
    fn kill(&self) {
        self.keeper.abort();
        self.work.abort();
    }
}

async fn next_start(
    starts: &mut mpsc::UnboundedReceiver<&'static str>,
    within: Duration,
) -> &'static str {
    tokio::time::timeout(within, starts.recv())
        .await
        .expect("a node started the work in time")
        .expect("nodes are running")
}

async fn postgres() -> Option<(Db, tempfile::TempDir)> {
    let Some(pg) = backends()
        .into_iter()
        .find(|b| matches!(b, Backend::Postgres(_)))
    else {
        eprintln!(
            "skipping: leases are shared on PostgreSQL, and KEFU_TEST_DATABASE_URL is not set"
        );
        return None;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let url = fresh_database(&pg, dir.path())
        .await
        .expect("a fresh database");
    let db = Db::connect(&url, 8).await.expect("connect");
    db.migrate().await.expect("migrate");
    Some((db, dir))
}

#[tokio::test]
async fn one_node_at_a_time_and_a_dead_or_stalled_node_is_replaced_in_time() {
    let Some((db, _dir)) = postgres().await else {
        return;
    };
    let (tx, mut starts) = mpsc::unbounded_channel();
    let probe = Arc::new(Probe {
        running: AtomicUsize::new(0),
        most: AtomicUsize::new(0),
        starts: tx,
    });
    let mut nodes = vec![Node::start(&db, "a", &probe), Node::start(&db, "b", &probe)];
    let first = next_start(&mut starts, Duration::from_secs(10)).await;

    // The holder dies: the other node runs the work within 10 s.
    let dead = nodes.iter().position(|n| n.name == first).expect("a node");
    let died = Instant::now();
    nodes[dead].kill();
    let second = next_start(&mut starts, Duration::from_secs(10)).await;
    assert_ne!(second, first, "another node took over");
    assert!(
        died.elapsed() <= Duration::from_secs(10),
        "{:?}",
        died.elapsed()
    );

    // The new holder stalls (it cannot renew, but its work still runs): its work stops before
    // a third node starts it; the probe would count two at once otherwise.
    nodes.push(Node::start(&db, "c", &probe));
    let stalled = nodes.iter().position(|n| n.name == second).expect("a node");
    nodes[stalled].keeper.abort();
    let third = next_start(&mut starts, Duration::from_secs(10)).await;
    assert_eq!(third, "c");

    // The holder shuts down: it releases the lease, so the next node need not wait for it to
    // run out.
    nodes.push(Node::start(&db, "d", &probe));
    let c = nodes.iter().find(|n| n.name == "c").expect("c");
    let stopped = Instant::now();
    c.work_stop.cancel();
    c.keeper_stop.cancel();
    let fourth = next_start(&mut starts, Duration::from_secs(10)).await;
    assert_eq!(fourth, "d");
    assert!(
        stopped.elapsed() < TTL,
        "released, not run out: {:?}",
        stopped.elapsed()
    );

    assert_eq!(
        probe.most.load(Ordering::SeqCst),
        1,
        "never two nodes at once"
    );
    for n in &nodes {
        n.kill();
    }
}

#[tokio::test]
async fn periodic_work_asks_and_only_the_holder_is_told_yes() {
    let Some((db, _dir)) = postgres().await else {
        return;
    };
    let a = Leases::new(&db, "a");
    let b = Leases::new(&db, "b");
    let stop = CancellationToken::new();
    let keepers = [
        tokio::spawn(a.clone().run(stop.clone())),
        tokio::spawn(b.clone().run(stop.clone())),
    ];
    // Both want it; whichever is told yes first is the one the lease table names, and the
    // other is told no.
    let mut on_a = a.hold("housekeeping");
    let mut on_b = b.hold("housekeeping");
    let a_first = tokio::time::timeout(Duration::from_secs(10), async {
        tokio::select! {
            () = on_a.acquired() => true,
            () = on_b.acquired() => false,
        }
    })
    .await
    .expect("one node holds the free lease");
    let (held, holder, mut waiting, waiting_leases) = if a_first {
        (on_a, a.node().to_owned(), on_b, b.clone())
    } else {
        (on_b, b.node().to_owned(), on_a, a.clone())
    };
    let named: String = db
        .conn()
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT holder FROM leases WHERE name = 'housekeeping'",
        ))
        .await
        .expect("leases readable")
        .expect("a lease row")
        .try_get("", "holder")
        .expect("holder");
    assert_eq!(named, holder);
    assert!(!waiting.now() && !waiting_leases.holds("housekeeping"));

    // The holder no longer wants it: the other gets it at its next renewal.
    drop(held);
    tokio::time::timeout(Duration::from_secs(10), waiting.acquired())
        .await
        .expect("the other node takes the lease given up");
    assert!(waiting_leases.holds("housekeeping"));
    stop.cancel();
    for k in keepers {
        k.await.expect("keeper stops");
    }
}

#[tokio::test]
async fn on_sqlite_every_lease_is_held_at_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = fresh_database(&Backend::Sqlite, dir.path())
        .await
        .expect("db");
    let db = Db::connect(&url, 1).await.expect("connect");
    db.migrate().await.expect("migrate");
    let leases = Leases::new(&db, "only");
    let held = leases.hold("assigner");
    assert!(held.now());
    let ran = Arc::new(AtomicUsize::new(0));
    let counted = ran.clone();
    leases
        .run_held("inbox:1", CancellationToken::new(), |_| {
            let counted = counted.clone();
            async move {
                counted.fetch_add(1, Ordering::SeqCst);
            }
        })
        .await;
    assert_eq!(ran.load(Ordering::SeqCst), 1);
}

/// A channel's exclusive work (a WeCom pull) runs on one node at a time: two nodes' channel
/// states on one PostgreSQL exclude each other, per inbox and key, and a hold ends with its
/// guard.
#[tokio::test]
async fn channel_state_holds_exclude_each_other_across_nodes() {
    use kefu_channel::ChannelState;
    use kefu_normalizer::DbChannelState;
    let Some(pg) = backends()
        .into_iter()
        .find(|b| matches!(b, Backend::Postgres(_)))
    else {
        eprintln!(
            "skipping: holds are shared on PostgreSQL, and KEFU_TEST_DATABASE_URL is not set"
        );
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let url = fresh_database(&pg, dir.path())
        .await
        .expect("a fresh database");
    let node_a = Db::connect(&url, 4).await.expect("connect");
    node_a.migrate().await.expect("migrate");
    let node_b = Db::connect(&url, 4).await.expect("connect");
    let (a, b) = (DbChannelState::new(node_a), DbChannelState::new(node_b));
    let wait = Duration::from_millis(200);
    let held = a.exclusive(1, "cursor", wait).await.expect("free");
    let err = b.exclusive(1, "cursor", wait).await.expect_err("held by A");
    assert!(err.to_string().contains("cursor of inbox 1"), "{err}");
    // Other keys and inboxes are free.
    drop(b.exclusive(2, "cursor", wait).await.expect("another inbox"));
    drop(b.exclusive(1, "other", wait).await.expect("another key"));
    // B waits for A's hold to end rather than failing.
    let waiting = tokio::spawn(async move {
        b.exclusive(1, "cursor", Duration::from_secs(30))
            .await
            .map(drop)
    });
    drop(held);
    waiting.await.expect("task").expect("taken once A let go");
}

#[tokio::test]
async fn channel_state_remembers_a_value_once_across_nodes_until_it_runs_out() {
    use kefu_channel::ChannelState;
    use kefu_normalizer::DbChannelState;
    for backend in backends() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = fresh_database(&backend, dir.path())
            .await
            .expect("a fresh database");
        let node_a = Db::connect(&url, 4).await.expect("connect");
        node_a.migrate().await.expect("migrate");
        // Two stores on one SQLite file stand for one node's two callers; on PostgreSQL, for
        // two nodes.
        let node_b = Db::connect(&url, 4).await.expect("connect");
        let (a, b) = (
            DbChannelState::new(node_a.clone()),
            DbChannelState::new(node_b),
        );
        // State belongs to inboxes 1 and 2.
        let inboxes = kefu_normalizer::Inboxes::new(node_a);
        for name in ["One", "Two"] {
            inboxes
                .create(kefu_normalizer::NewInbox {
                    name: name.into(),
                    channel_type: "wechat".into(),
                    settings: serde_json::json!({}),
                    secrets_ciphertext: None,
                    routing: serde_json::json!({"skills": {}, "priority": 0}),
                    others_access: kefu_normalizer::access::OthersAccess::None,
                })
                .await
                .expect("inbox");
        }
        let ttl = Duration::from_secs(600);
        // Concurrent first calls: exactly one stores its value; the other sees it.
        let (ra, rb) = tokio::join!(
            a.remember(1, "nonce:1", "from-a", ttl),
            b.remember(1, "nonce:1", "from-b", ttl)
        );
        let (ra, rb) = (ra.expect("a"), rb.expect("b"));
        match (ra.as_deref(), rb.as_deref()) {
            (None, Some("from-a")) | (Some("from-b"), None) => {}
            other => panic!("{backend:?}: one call must store, the other see it: {other:?}"),
        }
        assert_eq!(
            a.remember(1, "nonce:1", "again", ttl).await.expect("a"),
            b.remember(1, "nonce:1", "again", ttl).await.expect("b"),
            "both see the one stored value"
        );
        // Other keys and inboxes are apart, and so are get/put keys.
        assert_eq!(b.remember(2, "nonce:1", "x", ttl).await.expect("b"), None);
        assert_eq!(b.remember(1, "nonce:2", "y", ttl).await.expect("b"), None);
        assert_eq!(a.get(1, "nonce:1").await.expect("get"), None);
        // An entry older than the caller's ttl has run out: the next call stores its own.
        assert_eq!(
            a.remember(1, "nonce:1", "later", Duration::ZERO)
                .await
                .expect("a"),
            None
        );
        assert_eq!(
            b.remember(1, "nonce:1", "other", ttl).await.expect("b"),
            Some("later".to_owned())
        );
    }
}

/// Every connection Kefu opens to PostgreSQL lets the server end a transaction left idle, so a
/// stuck task or a node stopping in the middle of one cannot hold row locks (leases, outbox
/// rows) that every other node then waits behind.
#[tokio::test]
async fn postgres_ends_a_transaction_left_idle() {
    let Some((db, _dir)) = postgres().await else {
        return;
    };
    for _ in 0..3 {
        let row = db
            .conn()
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Postgres,
                "SELECT current_setting('idle_in_transaction_session_timeout') AS t",
            ))
            .await
            .expect("setting readable")
            .expect("one row");
        assert_eq!(row.try_get::<String>("", "t").expect("text"), "15s");
    }
}
