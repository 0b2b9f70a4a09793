//! Concurrent ingest into the same conversations must never duplicate or skip a `seq`.

use std::collections::BTreeMap;
use std::sync::Arc;

use kefu_tests::{TestApp, backends, msg};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_ingest_keeps_seq_gapless_and_dedupes_resends() {
    const CUSTOMERS: usize = 6;
    const PER_CUSTOMER: usize = 20;
    for backend in backends() {
        let app = Arc::new(TestApp::spawn(&backend).await);
        let inbox = app.loopback_inbox(json!({})).await;
        let mut tasks = Vec::new();
        for c in 0..CUSTOMERS {
            for m in 0..PER_CUSTOMER {
                // Every message is sent twice, concurrently, like a provider retrying at once.
                for _ in 0..2 {
                    let app = app.clone();
                    tasks.push(tokio::spawn(async move {
                        let (s, a) = app
                            .inbound(
                                inbox,
                                &msg(&format!("c{c}-m{m}"), &format!("cust-{c}"), "hi"),
                            )
                            .await;
                        assert_eq!(s, StatusCode::OK, "{a}");
                        (
                            c,
                            a["conversation_id"].as_i64().expect("conv"),
                            a["message_id"].as_i64().expect("id"),
                        )
                    }));
                }
            }
        }
        let mut conv_of: BTreeMap<usize, i64> = BTreeMap::new();
        for t in tasks {
            let (c, conv, _) = t.await.expect("task");
            assert_eq!(
                *conv_of.entry(c).or_insert(conv),
                conv,
                "one customer, one conversation"
            );
        }
        assert_eq!(conv_of.len(), CUSTOMERS);
        for conv in conv_of.values() {
            let (_, page) = app
                .admin(
                    Method::GET,
                    &format!("/api/v1/conversations/{conv}/messages?limit=500"),
                    None,
                )
                .await;
            let seqs: Vec<i64> = page["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|m| m["seq"].as_i64().expect("seq"))
                .collect();
            assert_eq!(
                seqs,
                (1..=PER_CUSTOMER as i64).collect::<Vec<_>>(),
                "{backend:?}: seq must be 1..=n without gaps or duplicates"
            );
        }
        match Arc::try_unwrap(app) {
            Ok(app) => app.stop().await,
            Err(_) => panic!("tasks still hold the app"),
        }
    }
}
