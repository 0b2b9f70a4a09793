//! Outbound delivery of agent replies through the job pipeline, against the loopback channel
//! whose provider fails in scripted ways: retry vs permanent, Retry-After, status transitions,
//! the dead-letter view, manual retry and the per-inbox rate limit.

use std::time::Duration;

use kefu_channel::testkit::ProviderOutcome;
use kefu_tests::{TestApp, backends, msg};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(20);

/// Fast retries for tests.
fn quick(c: &mut kefu_gateway::Config) {
    c.delivery.base_delay_ms = 50;
    c.jobs.poll_interval_ms = 50;
}

async fn conversation(app: &TestApp, inbox: i64, sender: &str) -> i64 {
    let (s, a) = app
        .inbound(
            inbox,
            &msg(&format!("in-{sender}"), sender, "Hello, I need help"),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{a}");
    a["conversation_id"].as_i64().expect("conversation id")
}

/// The message once its delivery status is `status`.
async fn wait_status(app: &TestApp, conv: i64, id: i64, status: &str) -> Value {
    app.wait_delivery(conv, &json!(id), &[status]).await
}

#[tokio::test]
async fn a_reply_reaches_the_provider_and_is_marked_sent() {
    for backend in backends() {
        let app = TestApp::spawn_with(&backend, quick).await;
        let inbox = app.loopback_inbox(json!({})).await;
        let conv = conversation(&app, inbox, "cust-1").await;
        let m = app.reply(conv, "We are on it").await;
        let id = m["id"].as_i64().expect("id");

        let sent = app.provider.wait_delivered(1, WAIT).await;
        assert_eq!(sent.len(), 1, "{backend:?}");
        assert_eq!(sent[0].message_id, id);
        assert_eq!(sent[0].recipient.external_id, "cust-1");
        assert_eq!(sent[0].content.text, "We are on it");
        assert_eq!(sent[0].conversation_id, conv);

        let m = wait_status(&app, conv, id, "sent").await;
        assert_eq!(m["delivery"]["status"], "sent", "{m}");
        assert_eq!(m["delivery"]["attempts"], 1, "{m}");
        // Private notes never leave Kefu.
        let (s, note) = app
            .admin(
                Method::POST,
                &format!("/api/v1/conversations/{conv}/messages"),
                Some(json!({"text": "internal", "private": true})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{note}");
        let second = app.reply(conv, "Second answer").await;
        wait_status(&app, conv, second["id"].as_i64().expect("id"), "sent").await;
        assert!(
            app.provider
                .delivered()
                .iter()
                .all(|d| d.content.text != "internal"),
            "a private note was sent"
        );
        assert_eq!(app.provider.attempts(), 2);
        app.stop().await;
    }
}

#[tokio::test]
async fn transient_failures_are_retried_until_sent() {
    for backend in backends() {
        let app = TestApp::spawn_with(&backend, quick).await;
        let inbox = app.loopback_inbox(json!({})).await;
        let conv = conversation(&app, inbox, "cust-1").await;
        app.provider
            .script([ProviderOutcome::Transient, ProviderOutcome::Transient]);
        let id = app.reply(conv, "Answer").await["id"].as_i64().expect("id");
        let m = wait_status(&app, conv, id, "sent").await;
        assert_eq!(m["delivery"]["status"], "sent", "{backend:?} {m}");
        assert_eq!(m["delivery"]["attempts"], 3, "{m}");
        assert!(m["delivery"].get("error").is_none(), "{m}");
        assert_eq!(app.provider.attempts(), 3);
        assert_eq!(app.provider.delivered().len(), 1, "sent exactly once");
        app.stop().await;
    }
}

/// A retry this process queues wakes its worker when it comes due: with the job poll a minute
/// apart, two retries still go out within seconds.
#[tokio::test]
async fn retries_run_when_due_without_waiting_for_the_poll() {
    for backend in backends() {
        let app = TestApp::spawn_with(&backend, |c| {
            c.delivery.base_delay_ms = 50;
            c.jobs.poll_interval_ms = 60_000;
        })
        .await;
        let inbox = app.loopback_inbox(json!({})).await;
        let conv = conversation(&app, inbox, "cust-1").await;
        app.provider
            .script([ProviderOutcome::Transient, ProviderOutcome::Transient]);
        let id = app.reply(conv, "Answer").await["id"].as_i64().expect("id");
        let m = wait_status(&app, conv, id, "sent").await;
        assert_eq!(m["delivery"]["attempts"], 3, "{backend:?} {m}");
        let times = app.provider.attempt_times();
        let took = times[2] - times[0];
        assert!(
            took < Duration::from_secs(10),
            "{backend:?}: two retries took {took:?}"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn retry_after_from_the_provider_is_honored() {
    for backend in backends() {
        let app = TestApp::spawn_with(&backend, quick).await;
        let inbox = app.loopback_inbox(json!({})).await;
        let conv = conversation(&app, inbox, "cust-1").await;
        let asked = Duration::from_millis(1200);
        app.provider
            .script([ProviderOutcome::RateLimited { after: asked }]);
        let id = app.reply(conv, "Answer").await["id"].as_i64().expect("id");
        wait_status(&app, conv, id, "sent").await;
        let times = app.provider.attempt_times();
        assert_eq!(times.len(), 2, "{backend:?}");
        let waited = times[1] - times[0];
        assert!(
            waited >= asked,
            "retried after {waited:?}, the provider asked for {asked:?}"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn permanent_failure_marks_the_reply_failed_with_the_reason_and_can_be_retried() {
    for backend in backends() {
        let app = TestApp::spawn_with(&backend, quick).await;
        let inbox = app.loopback_inbox(json!({})).await;
        let conv = conversation(&app, inbox, "cust-1").await;
        app.provider.script([ProviderOutcome::InvalidRecipient]);
        let id = app.reply(conv, "Answer").await["id"].as_i64().expect("id");
        let m = wait_status(&app, conv, id, "failed").await;
        assert_eq!(m["delivery"]["status"], "failed", "{backend:?} {m}");
        let error = m["delivery"]["error"].as_str().unwrap_or_default();
        assert!(
            error.starts_with("invalid_recipient:") && error.contains("cust-1"),
            "{error}"
        );
        assert_eq!(
            app.provider.attempts(),
            1,
            "a permanent failure is not retried"
        );

        let (s, dead) = app.admin(Method::GET, "/api/v1/dead-letters", None).await;
        assert_eq!(s, StatusCode::OK, "{dead}");
        assert_eq!(dead["messages"][0]["id"], id, "{dead}");

        // An agent cannot retry; a supervisor (here the admin) can.
        let (_, agent) = app.agent("a@example.com", "agent", json!({})).await;
        let (s, _) = app
            .call(
                Method::POST,
                &format!("/api/v1/messages/{id}/retry"),
                Some(&agent),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, b) = app
            .admin(Method::POST, &format!("/api/v1/messages/{id}/retry"), None)
            .await;
        assert_eq!(s, StatusCode::ACCEPTED, "{b}");
        let m = wait_status(&app, conv, id, "sent").await;
        assert_eq!(m["delivery"]["status"], "sent", "{m}");
        let (s, b) = app
            .admin(Method::POST, &format!("/api/v1/messages/{id}/retry"), None)
            .await;
        assert_eq!(
            s,
            StatusCode::CONFLICT,
            "a sent message is not retried: {b}"
        );
        let (_, dead) = app.admin(Method::GET, "/api/v1/dead-letters", None).await;
        assert_eq!(dead["messages"], json!([]), "{dead}");
        app.stop().await;
    }
}

#[tokio::test]
async fn the_agent_who_wrote_a_failed_reply_may_retry_it_and_no_other_agent() {
    for backend in backends() {
        let app = TestApp::spawn_with(&backend, quick).await;
        let inbox = app.loopback_inbox(json!({})).await;
        let conv = conversation(&app, inbox, "cust-1").await;
        let (li, li_token) = app.agent("li@example.com", "agent", json!({})).await;
        let (wang, wang_token) = app.agent("wang@example.com", "agent", json!({})).await;
        for a in [li, wang] {
            app.join(inbox, a).await;
        }
        let (s, b) = app
            .admin(
                Method::POST,
                &format!("/api/v1/conversations/{conv}/assign"),
                Some(json!({"agent_id": li})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        app.provider.script([ProviderOutcome::InvalidRecipient]);
        let (s, m) = app
            .call(
                Method::POST,
                &format!("/api/v1/conversations/{conv}/messages"),
                Some(&li_token),
                Some(json!({"text": "Answer"})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{m}");
        let id = m["id"].as_i64().expect("id");
        wait_status(&app, conv, id, "failed").await;

        let retry = |token: String| {
            let app = &app;
            async move {
                app.call(
                    Method::POST,
                    &format!("/api/v1/messages/{id}/retry"),
                    Some(&token),
                    None,
                )
                .await
            }
        };
        let (s, b) = retry(wang_token.clone()).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "another agent: {b}");
        let (s, b) = retry(li_token.clone()).await;
        assert_eq!(s, StatusCode::ACCEPTED, "its author: {b}");
        let m = wait_status(&app, conv, id, "sent").await;
        assert_eq!(m["delivery"]["status"], "sent", "{backend:?} {m}");
        app.stop().await;
    }
}

#[tokio::test]
async fn retries_give_up_after_max_attempts() {
    for backend in backends() {
        let app = TestApp::spawn_with(&backend, |c| {
            quick(c);
            c.delivery.max_attempts = 3;
        })
        .await;
        let inbox = app.loopback_inbox(json!({})).await;
        let conv = conversation(&app, inbox, "cust-1").await;
        app.provider.script([ProviderOutcome::Transient; 5]);
        let id = app.reply(conv, "Answer").await["id"].as_i64().expect("id");
        let m = wait_status(&app, conv, id, "failed").await;
        assert_eq!(m["delivery"]["status"], "failed", "{backend:?} {m}");
        assert_eq!(m["delivery"]["attempts"], 3, "{m}");
        let error = m["delivery"]["error"].as_str().unwrap_or_default();
        assert!(error.starts_with("retries_exhausted:"), "{error}");
        assert_eq!(app.provider.attempts(), 3);

        // A manual retry starts a new series, whose retries must queue although the first
        // series used the same attempt numbers: two more transient failures, then it is sent.
        let (s, b) = app
            .admin(Method::POST, &format!("/api/v1/messages/{id}/retry"), None)
            .await;
        assert_eq!(s, StatusCode::ACCEPTED, "{b}");
        let m = wait_status(&app, conv, id, "sent").await;
        assert_eq!(m["delivery"]["status"], "sent", "{backend:?} {m}");
        assert_eq!(m["delivery"]["attempts"], 6, "{m}");
        assert_eq!(app.provider.attempts(), 6);
        app.stop().await;
    }
}

/// 200 replies to one inbox limited to 20/s: all arrive, and never faster than the limit
/// (measured from the provider's arrival times).
#[tokio::test]
async fn the_inbox_rate_limit_paces_sends_and_loses_none() {
    // One backend: the limiter is in the process, not the database, and the run takes 10 s.
    let backend = backends().remove(0);
    let app = TestApp::spawn_with(&backend, quick).await;
    let inbox = app.loopback_inbox(json!({})).await;
    let (s, b) = app
        .admin(
            Method::PUT,
            &format!("/api/v1/inboxes/{inbox}/rate-limit"),
            Some(json!({"per_second": 20, "burst": 5})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = app
        .admin(
            Method::PUT,
            &format!("/api/v1/inboxes/{inbox}/rate-limit"),
            Some(json!({"per_second": 0})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");

    let mut convs = Vec::new();
    for c in 0..10 {
        convs.push(conversation(&app, inbox, &format!("cust-{c}")).await);
    }
    for i in 0..200 {
        app.reply(convs[i % convs.len()], &format!("reply {i}"))
            .await;
    }
    let sent = app
        .provider
        .wait_delivered(200, Duration::from_secs(60))
        .await;
    assert_eq!(sent.len(), 200, "every reply arrives");
    let times = app.provider.accepted_times();
    let (rate, burst) = (20.0, 5.0);
    for i in 0..times.len() {
        for j in i + 1..times.len() {
            let span = (times[j] - times[i]).as_secs_f64();
            let allowed = burst + rate * span + 1.0;
            let sends = (j - i + 1) as f64;
            assert!(
                sends <= allowed,
                "{sends} sends within {span:.3} s exceed 20/s with a burst of 5"
            );
        }
    }
    let total = (times[times.len() - 1] - times[0]).as_secs_f64();
    assert!(
        total >= (200.0 - burst) / rate - 0.2,
        "200 sends took only {total:.2} s"
    );
    app.stop().await;
}

/// Queueing a job again under the same key (a fan-out repeated after a crash, a retry queued
/// twice) does nothing, on both backends, and the rest of the batch is still queued.
#[tokio::test]
async fn queueing_a_job_twice_is_harmless() {
    use kefu_dispatcher::jobs::{NewJob, SendJob};
    for backend in backends() {
        let app = TestApp::spawn_with(&backend, |c| c.jobs.run_workers = false).await;
        let job = |id: i64| {
            NewJob::now(SendJob {
                message_id: id,
                attempt: 0,
            })
            .key(format!("send:{id}:0"))
        };
        let jobs = &app.state.jobs;
        jobs.push_send(vec![job(1), job(2)])
            .await
            .expect("first push");
        jobs.push_send(vec![job(2), job(3), job(3)])
            .await
            .unwrap_or_else(|e| panic!("{backend:?}: a repeated key must not fail the push: {e}"));
        let table = if app.state.db.is_postgres() {
            "apalis.jobs"
        } else {
            "Jobs"
        };
        let rows = {
            use sea_orm::ConnectionTrait;
            app.state
                .db
                .conn()
                .query_all_raw(sea_orm::Statement::from_string(
                    app.state.db.conn().get_database_backend(),
                    format!(
                        "SELECT idempotency_key FROM {table} WHERE job_type = '{}' ORDER BY idempotency_key",
                        kefu_dispatcher::jobs::SEND_QUEUE
                    ),
                ))
                .await
                .expect("jobs")
        };
        let keys: Vec<String> = rows
            .iter()
            .map(|r| r.try_get::<String>("", "idempotency_key").expect("key"))
            .collect();
        assert_eq!(keys, ["send:1:0", "send:2:0", "send:3:0"], "{backend:?}");
        app.stop().await;
    }
}

/// A reply whose send job is gone (lost in a crash, or given up by apalis) is found by the
/// sweep and sent, once, although the sweep queues it again on every pass.
#[tokio::test]
async fn a_reply_whose_job_was_lost_is_swept_and_sent_once() {
    for backend in backends() {
        let app = TestApp::spawn_with(&backend, |c| {
            quick(c);
            c.jobs.run_workers = false;
        })
        .await;
        let inbox = app.loopback_inbox(json!({})).await;
        let conv = conversation(&app, inbox, "cust-1").await;
        let id = app.reply(conv, "Answer").await["id"].as_i64().expect("id");
        // The fan-out queued its job; lose it.
        let table = if app.state.db.is_postgres() {
            "apalis.jobs"
        } else {
            "Jobs"
        };
        let queued = {
            use sea_orm::ConnectionTrait;
            let conn = app.state.db.conn();
            let sql = |q: String| sea_orm::Statement::from_string(conn.get_database_backend(), q);
            let send = kefu_dispatcher::jobs::SEND_QUEUE;
            kefu_tests::eventually(WAIT, || async {
                let rows = conn
                    .query_all_raw(sql(format!(
                        "SELECT idempotency_key FROM {table} WHERE job_type = '{send}'"
                    )))
                    .await
                    .expect("jobs");
                (!rows.is_empty()).then_some(rows.len())
            })
            .await
            .expect("the fan-out queues the send job")
        };
        assert_eq!(queued, 1);
        {
            use sea_orm::ConnectionTrait;
            let conn = app.state.db.conn();
            conn.execute_unprepared(&format!(
                "DELETE FROM {table} WHERE job_type = '{}'",
                kefu_dispatcher::jobs::SEND_QUEUE
            ))
            .await
            .expect("delete the job");
        }

        let app = app
            .restart(|c| {
                c.jobs.run_workers = true;
                c.jobs.sweep_interval_secs = 0.1;
                c.delivery.stuck_after_secs = 0.2;
            })
            .await;
        let m = wait_status(&app, conv, id, "sent").await;
        assert_eq!(m["delivery"]["status"], "sent", "{backend:?} {m}");
        assert_eq!(m["delivery"]["attempts"], 1, "{m}");
        assert_eq!(app.provider.delivered().len(), 1, "{backend:?}: sent once");
        app.stop().await;
    }
}
