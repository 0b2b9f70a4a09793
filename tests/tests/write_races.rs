//! Writers on several nodes sharing one PostgreSQL: PostgreSQL breaks a deadlock between two
//! transactions by aborting one of them, and ingest retries that one instead of failing the
//! customer's message (a grouped ingest also locks its conversations in id order, as the
//! assigner does, so the two no longer deadlock each other).

use std::collections::HashMap;

use kefu_channel::{Content, ExternalIdentity, InboundEnvelope, ThreadHints};
use kefu_normalizer::{Db, Limits, Normalizer, StoreError};
use kefu_tests::{Backend, fresh_database};
use sea_orm::{ConnectionTrait, TransactionTrait};

fn postgres() -> Option<Backend> {
    let url = std::env::var("KEFU_TEST_DATABASE_URL").ok()?;
    (!url.is_empty()).then_some(Backend::Postgres(url))
}

async fn fresh_db(pg: &Backend, pool: u32) -> (Db, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = fresh_database(pg, dir.path()).await.expect("database");
    let db = Db::connect(&url, pool).await.expect("connect");
    db.migrate().await.expect("migrate");
    (db, dir)
}

#[tokio::test]
async fn a_transaction_aborted_to_break_a_deadlock_counts_as_retryable() {
    let Some(pg) = postgres() else {
        eprintln!("KEFU_TEST_DATABASE_URL is not set; skipping");
        return;
    };
    let (db, _dir) = fresh_db(&pg, 4).await;
    let conn = db.conn();
    conn.execute_unprepared(
        "CREATE TABLE race (id bigint PRIMARY KEY, n bigint NOT NULL); \
         INSERT INTO race VALUES (1, 0), (2, 0)",
    )
    .await
    .expect("table");
    let bump = "UPDATE race SET n = n + 1 WHERE id = ";
    let a = conn.begin().await.expect("begin a");
    let b = conn.begin().await.expect("begin b");
    a.execute_unprepared(&format!("{bump}1"))
        .await
        .expect("a locks 1");
    b.execute_unprepared(&format!("{bump}2"))
        .await
        .expect("b locks 2");
    // Each now waits for the row the other holds; PostgreSQL aborts one of the two.
    let (a2, b1) = (format!("{bump}2"), format!("{bump}1"));
    let (ra, rb) = tokio::join!(a.execute_unprepared(&a2), b.execute_unprepared(&b1));
    let failed: Vec<StoreError> = [ra.err(), rb.err()]
        .into_iter()
        .flatten()
        .map(StoreError::from)
        .collect();
    assert_eq!(failed.len(), 1, "exactly one side is aborted: {failed:?}");
    assert!(failed[0].is_retryable(), "{}", failed[0]);
    assert!(
        !StoreError::Invalid("a bad field".into()).is_retryable(),
        "input errors are not retried"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_ingesting_the_same_customers_in_different_orders_store_every_message() {
    let Some(pg) = postgres() else {
        eprintln!("KEFU_TEST_DATABASE_URL is not set; skipping");
        return;
    };
    let (db, _dir) = fresh_db(&pg, 16).await;
    let inbox = kefu_tests::bench_inbox(&db, "race", "loopback")
        .await
        .expect("inbox");
    // Three nodes: each has its own ingest workers and groups.
    let nodes = [
        Normalizer::new(db.clone(), Limits::default()),
        Normalizer::new(db.clone(), Limits::default()),
        Normalizer::new(db.clone(), Limits::default()),
    ];
    const CUSTOMERS: usize = 16;
    const ROUNDS: usize = 10;
    let envelope = |customer: usize, n: usize, node: usize| InboundEnvelope {
        inbox_id: inbox.id,
        sender: ExternalIdentity::new(format!("customer-{customer}")),
        dedupe_key: Some(format!("m-{customer}-{n}-{node}")),
        thread: ThreadHints::default(),
        content: Content::text(format!("message {n} from customer {customer} via {node}")),
        sent_at: None,
    };
    // Node 0 walks the customers upwards, node 1 downwards and node 2 from the middle, so
    // their groups touch the same customers in different orders.
    let mut sends = Vec::new();
    for n in 0..ROUNDS {
        for c in 0..CUSTOMERS {
            let orders = [c, CUSTOMERS - 1 - c, (c + CUSTOMERS / 2) % CUSTOMERS];
            for (node, customer) in orders.into_iter().enumerate() {
                let normalizer = nodes[node].clone();
                let env = envelope(customer, n, node);
                sends.push(tokio::spawn(async move { normalizer.ingest(env).await }));
            }
        }
    }
    let mut seqs: HashMap<i64, Vec<i64>> = HashMap::new();
    for s in sends {
        let accepted = s.await.expect("task").expect("every message is stored");
        assert!(!accepted.duplicate);
        seqs.entry(accepted.conversation_id)
            .or_default()
            .push(accepted.seq);
    }
    assert_eq!(seqs.len(), CUSTOMERS, "one conversation per customer");
    for (conversation, mut s) in seqs {
        s.sort_unstable();
        let first = s[0];
        let expected: Vec<i64> = (first..first + s.len() as i64).collect();
        assert_eq!(s, expected, "conversation {conversation} has gapless seqs");
    }
}
