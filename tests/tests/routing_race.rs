//! Concurrency safety of the dispatcher: several assigner tasks per process and, on
//! PostgreSQL, two `kefu` processes (two full `App`s with their own pools, buses and assigners)
//! on one database. Checks the invariants a user relies on: no conversation assigned twice, no
//! agent above capacity, and every conversation assigned as soon as capacity exists.

mod routing_support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use kefu_channel::testkit::loopback::LoopbackFactory;
use kefu_gateway::App;
use kefu_tests::{Backend, LOOPBACK_SECRET, TestApp, backends, msg};
use reqwest::{Method, StatusCode};
use routing_support::*;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

/// A second Kefu process on the first one's database; returns its base URL and stop token.
async fn second_process(
    app: &TestApp,
) -> (
    String,
    CancellationToken,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let mut config = (*app.state.config).clone();
    config.listen = "127.0.0.1:0".parse().expect("addr");
    let (second, _) = App::build(
        config,
        vec![Arc::new(LoopbackFactory::new(app.provider.clone()))],
    )
    .await
    .expect("second app builds");
    let base = format!("http://{}", second.local_addr());
    let stop = second.shutdown_token();
    let task = tokio::spawn(second.run_until_stopped());
    (base, stop, task)
}

/// Checks the invariants; returns `(assigned, queued)` counts.
async fn check_invariants(app: &TestApp, capacity: &HashMap<i64, i64>) -> (usize, usize) {
    let mut load: HashMap<i64, i64> = HashMap::new();
    for status in ["assigned", "pending", "transferring"] {
        for c in with_status(app, status).await {
            *load
                .entry(c["assignee_id"].as_i64().expect("assignee"))
                .or_default() += 1;
        }
    }
    for (agent, n) in &load {
        let max = capacity.get(agent).copied().unwrap_or(0);
        assert!(
            *n <= max,
            "agent {agent} holds {n} conversations, capacity {max}"
        );
    }
    let assigned = with_status(app, "assigned").await;
    for c in &assigned {
        let id = c["id"].as_i64().expect("id");
        let r = routing(app, id).await;
        let history = r["history"].as_array().map_or(0, Vec::len);
        assert_eq!(
            history, 1,
            "conversation {id} was assigned {history} times: {r}"
        );
        assert_eq!(r["decision"]["agent_id"], c["assignee_id"], "{r}");
    }
    (assigned.len(), with_status(app, "queued").await.len())
}

async fn wait_for_counts(app: &TestApp, capacity: &HashMap<i64, i64>, want: (usize, usize)) {
    eventually(
        Duration::from_secs(30),
        &format!("{want:?} assigned/queued"),
        || async {
            let got = check_invariants(app, capacity).await;
            (got == want).then_some(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_assigners_and_two_processes_keep_the_invariants() {
    for backend in backends() {
        let app = TestApp::spawn_with(&backend, |c| {
            c.routing.tasks = 3;
            c.routing.sweep_interval_ms = 50;
            c.routing.batch_size = 7;
        })
        .await;
        let inbox = app.loopback_inbox(json!({"skills": {"general": 1}})).await;
        let mut capacity = HashMap::new();
        let mut total = 0;
        for i in 0..12 {
            let max = i % 3 + 1;
            let (id, _) = online_agent(
                &app,
                &format!("a{i}@x.io"),
                json!({"general": i % 5 + 1}),
                max,
            )
            .await;
            capacity.insert(id, max);
            total += max as usize;
        }
        assert_eq!(total, 24);
        // Started after the inbox exists, so its loopback ingress serves that inbox too.
        let second = match backend {
            Backend::Postgres(_) => Some(second_process(&app).await),
            Backend::Sqlite => None,
        };
        let bases: Vec<String> = std::iter::once(app.base.clone())
            .chain(second.iter().map(|(b, _, _)| b.clone()))
            .collect();

        // 60 customers at once, through both processes.
        let sends = (0..60).map(|i| {
            let base = bases[i % bases.len()].clone();
            let client = app.client.clone();
            async move {
                let r = client
                    .post(format!("{base}/channels/loopback/{inbox}/messages"))
                    .header("x-loopback-secret", LOOPBACK_SECRET)
                    .json(&msg(&format!("m{i}"), &format!("c{i}"), "hello"))
                    .send()
                    .await
                    .expect("ingress");
                assert_eq!(r.status(), StatusCode::OK);
                r.json::<Value>().await.expect("body")["conversation_id"]
                    .as_i64()
                    .expect("id")
            }
        });
        let convs = futures::future::join_all(sends).await;
        assert_eq!(convs.len(), 60);
        wait_for_counts(&app, &capacity, (24, 36)).await;

        // Freeing capacity on either process assigns waiting conversations, still once each.
        let assigned = with_status(&app, "assigned").await;
        let resolves = assigned.iter().take(12).enumerate().map(|(i, c)| {
            let url = format!(
                "{}/api/v1/conversations/{}/resolve",
                bases[i % bases.len()],
                c["id"]
            );
            let req = app.client.post(url).bearer_auth(&app.admin_token);
            async move { req.send().await.expect("resolve").status() }
        });
        for s in futures::future::join_all(resolves).await {
            assert_eq!(s, StatusCode::OK);
        }
        wait_for_counts(&app, &capacity, (24, 24)).await;

        // More capacity: everything left gets assigned.
        for (agent, max) in capacity.iter_mut() {
            *max += 2;
            let (s, b) = app
                .admin(
                    Method::PATCH,
                    &format!("/api/v1/agents/{agent}"),
                    Some(json!({"max_concurrent": *max})),
                )
                .await;
            assert_eq!(s, StatusCode::OK, "{b}");
        }
        wait_for_counts(&app, &capacity, (48, 0)).await;

        if let Some((_, stop, task)) = second {
            stop.cancel();
            let _ = task.await;
        }
        app.stop().await;
    }
}
