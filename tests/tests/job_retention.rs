//! Finished jobs: marked done, so a restart re-runs nothing that finished, and deleted once
//! they are older than `jobs.keep_finished_secs`, so the job table does not grow forever.

use std::time::Duration;

use kefu_tests::{Backend, TestApp, backends, eventually, msg};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(30);

fn jobs_table(backend: &Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "Jobs",
        Backend::Postgres(_) => "apalis.jobs",
    }
}

/// Job rows by status, e.g. `[("Done", 3)]`.
async fn jobs_by_status(app: &TestApp) -> Vec<(String, i64)> {
    let db = app.state.db.conn();
    let sql = format!(
        "SELECT status, COUNT(*) AS n FROM {} GROUP BY status ORDER BY status",
        jobs_table(&app.backend)
    );
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("count jobs")
        .iter()
        .map(|r| {
            (
                r.try_get::<String>("", "status").expect("status"),
                r.try_get::<i64>("", "n").expect("n"),
            )
        })
        .collect()
}

/// Sends `n` replies in a new conversation and waits until each is `sent`.
async fn deliver_replies(app: &TestApp, n: usize) {
    let inbox = app.loopback_inbox(json!({})).await;
    let (s, a) = app.inbound(inbox, &msg("p-1", "cust-1", "Hello")).await;
    assert_eq!(s, StatusCode::OK, "{a}");
    let conv = a["conversation_id"].as_i64().expect("conversation id");
    for i in 0..n {
        let m = app.reply(conv, &format!("Reply {i}")).await;
        app.wait_delivery(conv, &m["id"], &["sent"]).await;
    }
}

fn quick(c: &mut kefu_gateway::Config) {
    c.jobs.poll_interval_ms = 50;
    c.delivery.base_delay_ms = 50;
}

#[tokio::test]
async fn finished_jobs_are_marked_done_and_a_restart_reruns_none() {
    for backend in backends() {
        let app = TestApp::spawn_with(&backend, quick).await;
        deliver_replies(&app, 3).await;
        // apalis acknowledges in batches: wait until no job is left running.
        let statuses = eventually(WAIT, || async {
            let s = jobs_by_status(&app).await;
            s.iter().all(|(st, _)| st == "Done").then_some(s)
        })
        .await
        .unwrap_or_else(|| panic!("{backend:?}: jobs stay unfinished"));
        let done: i64 = statuses.iter().map(|(_, n)| n).sum();
        assert!(done >= 3, "{backend:?}: {statuses:?}");
        let sent_before = app.provider.delivered().len();

        let app = app.restart(|_| {}).await;
        // The workers have registered (and re-queued orphans, had there been any) once
        // readiness reports them running.
        eventually(WAIT, || async {
            let r = app
                .client
                .get(format!("{}/readyz", app.base))
                .send()
                .await
                .ok()?;
            let body: serde_json::Value = r.json().await.ok()?;
            let workers = body["checks"]["workers"].as_object()?;
            (workers.len() == 2 && body["status"] == "ready").then_some(())
        })
        .await
        .expect("workers run after the restart");
        assert_eq!(
            jobs_by_status(&app).await,
            statuses,
            "{backend:?}: nothing that finished was queued again"
        );
        assert_eq!(app.provider.delivered().len(), sent_before, "{backend:?}");
        app.stop().await;
    }
}

#[tokio::test]
async fn finished_jobs_older_than_the_retention_are_deleted() {
    for backend in backends() {
        let app = TestApp::spawn_with(&backend, |c| {
            quick(c);
            c.jobs.keep_finished_secs = 0.001;
            c.jobs.sweep_interval_secs = 0.05;
        })
        .await;
        deliver_replies(&app, 3).await;
        // done_at has whole-second precision on SQLite: a job is older than the retention at
        // the latest a second after it finished.
        let left = eventually(WAIT, || async {
            let s = jobs_by_status(&app).await;
            s.is_empty().then_some(s)
        })
        .await;
        assert_eq!(
            left,
            Some(Vec::new()),
            "{backend:?}: finished jobs are pruned: {:?}",
            jobs_by_status(&app).await
        );
        app.stop().await;
    }
}
