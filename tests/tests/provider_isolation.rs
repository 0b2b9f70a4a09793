//! One slow channel provider delays only its own inbox: replies through an inbox whose provider
//! answers in 5 s hold at most that inbox's budget of send workers
//! (`delivery.inbox_concurrency`), and replies through a healthy inbox beside it are sent within
//! a second. Waiting for a slot does not spend an attempt.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use kefu_tests::{LOOPBACK_SECRET, TestApp, backends, msg};
use reqwest::{Method, StatusCode};
use serde_json::json;

/// Replies through each inbox: more for the slow one than there are send workers.
const SLOW_REPLIES: usize = 12;
const HEALTHY_REPLIES: usize = 10;

#[tokio::test]
async fn a_slow_provider_does_not_delay_another_inbox() {
    for backend in backends() {
        let app = TestApp::spawn_with(&backend, |c| {
            c.jobs.poll_interval_ms = 50;
            c.jobs.send_concurrency = 6;
            c.delivery.inbox_concurrency = 2;
        })
        .await;
        let (s, slow) = app
            .admin(
                Method::POST,
                "/api/v1/inboxes",
                Some(json!({"name": "Slow provider", "channel": {
                    "type": "loopback", "secret": LOOPBACK_SECRET, "answer_after_ms": 5000,
                }})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{slow}");
        let slow = slow["id"].as_i64().expect("inbox id");
        let healthy = app.loopback_inbox(json!({})).await;

        let reply = |conversation: i64, text: String| {
            let app = &app;
            async move {
                let (s, m) = app
                    .admin(
                        Method::POST,
                        &format!("/api/v1/conversations/{conversation}/messages"),
                        Some(json!({"text": text})),
                    )
                    .await;
                assert_eq!(s, StatusCode::CREATED, "{m}");
                m["id"].as_i64().expect("message id")
            }
        };
        let conversation = |inbox: i64, who: String| {
            let app = &app;
            async move {
                let (s, a) = app
                    .inbound(inbox, &msg(&format!("{who}-1"), &who, "Hi"))
                    .await;
                assert_eq!(s, StatusCode::OK, "{a}");
                a["conversation_id"].as_i64().expect("conversation")
            }
        };
        for i in 0..SLOW_REPLIES {
            let c = conversation(slow, format!("slow-{i}")).await;
            reply(c, format!("slow reply {i}")).await;
        }
        let mut posted = HashMap::new();
        for i in 0..HEALTHY_REPLIES {
            let c = conversation(healthy, format!("healthy-{i}")).await;
            let id = reply(c, format!("healthy reply {i}")).await;
            posted.insert(id, Instant::now());
        }

        // Wait until the provider accepted every healthy reply.
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut n = HEALTHY_REPLIES;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let delivered = app.provider.wait_delivered(n, left).await;
            let sent = |id: &i64| delivered.iter().any(|m| m.message_id == *id);
            if posted.keys().all(sent) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{backend:?}: every healthy reply was sent within 30 s"
            );
            n = delivered.len() + 1;
        }
        let delivered = app.provider.delivered();
        let accepted = app.provider.accepted_times();
        let mut latencies: Vec<Duration> = delivered
            .iter()
            .zip(accepted)
            .filter_map(|(m, at)| Some(at.saturating_duration_since(*posted.get(&m.message_id)?)))
            .collect();
        latencies.sort();
        let worst = *latencies.last().expect("latencies");
        assert!(
            worst < Duration::from_secs(1),
            "{backend:?}: the healthy inbox's slowest reply took {worst:?} ({latencies:?})"
        );
        app.stop().await;
    }
}
