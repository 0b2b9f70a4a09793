//! A database outage longer than the pool waits: the job workers stop, `/readyz` says so, and
//! once the database is back the supervisor has started them again, so a reply is delivered
//! and its webhook arrives without restarting Kefu.
//!
//! PostgreSQL only (the test cuts its own database off with `ALLOW_CONNECTIONS false` and
//! terminates its sessions, which is what a server restart looks like to Kefu); skipped
//! without `KEFU_TEST_DATABASE_URL`.

use std::time::Duration;

use kefu_tests::receiver::Receiver;
use kefu_tests::{Backend, TestApp, backends, eventually, msg};
use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};

const OUTAGE_WAIT: Duration = Duration::from_secs(90);

async fn readyz(app: &TestApp) -> Option<(StatusCode, Value)> {
    let r = app
        .client
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .ok()?;
    let code = r.status();
    Some((code, r.json().await.ok()?))
}

/// Cuts the app's database off (`false`) or lets it be reached again (`true`).
async fn set_reachable(admin_url: &str, app: &TestApp, reachable: bool) {
    let url = url::Url::parse(&app.state.config.database_url).expect("database url");
    let name = url.path().trim_start_matches('/').to_owned();
    assert!(name.starts_with("kefu_test_"), "{name}");
    let admin = Database::connect(admin_url)
        .await
        .expect("admin connection");
    admin
        .execute_unprepared(&format!(
            "ALTER DATABASE {name} WITH ALLOW_CONNECTIONS {reachable}"
        ))
        .await
        .expect("alter database");
    if !reachable {
        admin
            .execute_unprepared(&format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = '{name}' AND pid <> pg_backend_pid()"
            ))
            .await
            .expect("terminate sessions");
    }
    admin.close().await.expect("close admin");
}

#[tokio::test]
async fn workers_restart_after_a_database_outage_and_replies_flow_again() {
    let Some(admin_url) = backends().into_iter().find_map(|b| match b {
        Backend::Postgres(url) => Some(url),
        Backend::Sqlite => None,
    }) else {
        eprintln!("KEFU_TEST_DATABASE_URL is not set; the outage test needs PostgreSQL.");
        return;
    };
    let backend = Backend::Postgres(admin_url.clone());
    let app = TestApp::spawn_with(&backend, |c| {
        c.jobs.poll_interval_ms = 50;
        c.delivery.base_delay_ms = 50;
    })
    .await;
    let rx = Receiver::start().await;
    let (s, ep) = app
        .admin(
            Method::POST,
            "/api/v1/webhooks",
            Some(json!({"url": rx.url, "events": ["message.created"]})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{ep}");
    let inbox = app.loopback_inbox(json!({})).await;
    let (s, a) = app.inbound(inbox, &msg("p-1", "cust-1", "Hello")).await;
    assert_eq!(s, StatusCode::OK, "{a}");
    let conv = a["conversation_id"].as_i64().expect("conversation id");
    let (code, body) = readyz(&app).await.expect("readyz answers");
    assert_eq!(
        (code, body["status"].as_str()),
        (StatusCode::OK, Some("ready")),
        "{body}"
    );

    set_reachable(&admin_url, &app, false).await;
    // The workers' next fetch waits out the pool (10 s) and fails: they stop, and readiness
    // says which check failed.
    let during = eventually(OUTAGE_WAIT, || async {
        let (code, body) = readyz(&app).await?;
        let workers = body["checks"]["workers"].as_object()?;
        let stopped = workers.values().any(|w| w["running"] == false);
        (code == StatusCode::SERVICE_UNAVAILABLE && stopped).then_some(body)
    })
    .await;
    set_reachable(&admin_url, &app, true).await;
    let during = during.expect("readyz reports the outage and a stopped worker");
    assert_eq!(during["status"], "unavailable", "{during}");
    assert_eq!(during["checks"]["database"]["ok"], false, "{during}");

    let after = eventually(OUTAGE_WAIT, || async {
        let (code, body) = readyz(&app).await?;
        (code == StatusCode::OK && body["status"] == "ready").then_some(body)
    })
    .await
    .expect("the workers run again without a restart of Kefu");
    let restarts: u64 = after["checks"]["workers"]
        .as_object()
        .expect("workers")
        .values()
        .filter_map(|w| w["restarts"].as_u64())
        .sum();
    assert!(restarts >= 1, "{after}");

    let reply = app.reply(conv, "Back online").await;
    let m = app.wait_delivery(conv, &reply["id"], &["sent"]).await;
    assert_eq!(m["delivery"]["status"], "sent", "{m}");
    let got = rx
        .wait_until(OUTAGE_WAIT, |g| {
            g.iter()
                .any(|r| r.json()["data"]["content"]["text"] == "Back online")
        })
        .await;
    assert!(
        got.iter()
            .any(|r| r.json()["data"]["content"]["text"] == "Back online"),
        "the reply's webhook arrives after the outage"
    );
    app.stop().await;
}
