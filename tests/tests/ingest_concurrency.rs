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
            let seqs = seqs(&app, *conv).await;
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

/// Web chat messages name their conversation by token. Sent concurrently (so they are stored in
/// groups), a token naming the customer's open conversation appends to it in order, and a token
/// naming a resolved conversation reopens that one, never the open conversation.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_messages_with_conversation_tokens_land_where_the_token_says() {
    const CUSTOMERS: usize = 4;
    const PER_CUSTOMER: usize = 12;
    for backend in backends() {
        let app = Arc::new(TestApp::spawn(&backend).await);
        let inbox = app.loopback_inbox(json!({})).await;
        let token_of = |conv: i64| {
            let app = app.clone();
            async move {
                use sea_orm::EntityTrait;
                kefu_normalizer::entity::conversation::Entity::find_by_id(conv)
                    .one(app.state.db.conn())
                    .await
                    .expect("query")
                    .expect("row")
                    .token
            }
        };
        // Customer 0's first conversation is resolved; each customer has an open one.
        let (_, old) = app.inbound(inbox, &msg("old", "cust-0", "first")).await;
        let old = old["conversation_id"].as_i64().expect("conv");
        let (s, _) = app
            .admin(
                Method::POST,
                &format!("/api/v1/conversations/{old}/resolve"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let old_token = token_of(old).await;
        let mut open = Vec::new();
        for c in 0..CUSTOMERS {
            let (_, a) = app
                .inbound(inbox, &msg(&format!("c{c}-0"), &format!("cust-{c}"), "hi"))
                .await;
            let conv = a["conversation_id"].as_i64().expect("conv");
            assert_ne!(conv, old);
            open.push((conv, token_of(conv).await));
        }
        let mut tasks = Vec::new();
        for (c, (_, token)) in open.iter().enumerate() {
            for m in 1..=PER_CUSTOMER {
                let app = app.clone();
                let mut envelope = msg(&format!("c{c}-{m}"), &format!("cust-{c}"), "more");
                envelope.thread.conversation_token = Some(token.clone());
                tasks.push(tokio::spawn(async move {
                    let (s, a) = app.inbound(inbox, &envelope).await;
                    assert_eq!(s, StatusCode::OK, "{a}");
                    a["conversation_id"].as_i64().expect("conv")
                }));
            }
        }
        let mut back = msg("back", "cust-0", "about the first question");
        back.thread.conversation_token = Some(old_token);
        let reopened = {
            let app = app.clone();
            tokio::spawn(async move { app.inbound(inbox, &back).await })
        };
        for (i, t) in tasks.into_iter().enumerate() {
            assert_eq!(t.await.expect("task"), open[i / PER_CUSTOMER].0);
        }
        let (s, a) = reopened.await.expect("task");
        assert_eq!(s, StatusCode::OK, "{a}");
        assert_eq!(
            (a["conversation_id"].as_i64(), a["seq"].as_i64()),
            (Some(old), Some(2)),
            "{backend:?}: the old token reopens the old conversation"
        );
        for (conv, _) in &open {
            let seqs = seqs(&app, *conv).await;
            assert_eq!(seqs, (1..=1 + PER_CUSTOMER as i64).collect::<Vec<_>>());
        }
        let (_, c) = app
            .admin(Method::GET, &format!("/api/v1/conversations/{old}"), None)
            .await;
        assert_eq!(c["status"], "queued", "{backend:?}");
        match Arc::try_unwrap(app) {
            Ok(app) => app.stop().await,
            Err(_) => panic!("tasks still hold the app"),
        }
    }
}

/// The `seq`s of a conversation's messages, in the order the API lists them.
async fn seqs(app: &TestApp, conv: i64) -> Vec<i64> {
    let (s, page) = app
        .admin(
            Method::GET,
            &format!("/api/v1/conversations/{conv}/messages?limit=500"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{page}");
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| m["seq"].as_i64().expect("seq"))
        .collect()
}
