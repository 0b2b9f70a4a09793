//! One slow webhook receiver delays only itself: an endpoint that answers in 30 s holds at most
//! its budget of workers (`webhooks.endpoint_concurrency`), and a healthy endpoint beside it
//! keeps getting its deliveries within a second of the event.

use std::time::Duration;

use kefu_tests::receiver::Receiver;
use kefu_tests::{TestApp, backends, msg};
use reqwest::{Method, StatusCode};
use serde_json::json;

const EVENTS: usize = 40;

#[tokio::test]
async fn a_slow_endpoint_does_not_delay_a_healthy_one() {
    for backend in backends() {
        let app = TestApp::spawn_with(&backend, |c| {
            c.jobs.poll_interval_ms = 50;
            // Fewer workers than deliveries to the slow endpoint: without a per-endpoint
            // budget the slow one would take them all.
            c.jobs.webhook_concurrency = 16;
            c.webhooks.endpoint_concurrency = 4;
        })
        .await;
        let slow = Receiver::start_slow(Duration::from_secs(30)).await;
        let healthy = Receiver::start().await;
        for rx in [&slow, &healthy] {
            let (s, ep) = app
                .admin(
                    Method::POST,
                    "/api/v1/webhooks",
                    Some(json!({"url": rx.url, "events": ["message.created"]})),
                )
                .await;
            assert_eq!(s, StatusCode::CREATED, "{ep}");
        }
        let inbox = app.loopback_inbox(json!({})).await;
        // One conversation each, so no delivery waits for an earlier one of its conversation.
        for i in 0..EVENTS {
            let (s, a) = app
                .inbound(inbox, &msg(&format!("p-{i}"), &format!("cust-{i}"), "Hi"))
                .await;
            assert_eq!(s, StatusCode::OK, "{a}");
        }
        let got = healthy
            .wait_until(Duration::from_secs(60), |g| g.len() >= EVENTS)
            .await;
        assert_eq!(
            got.len(),
            EVENTS,
            "{backend:?}: the healthy endpoint got everything"
        );
        let mut latencies: Vec<f64> = got
            .iter()
            .map(|r| {
                let at: chrono::DateTime<chrono::Utc> = r.json()["timestamp"]
                    .as_str()
                    .and_then(|t| t.parse().ok())
                    .expect("event timestamp");
                (r.at_wall - at).as_seconds_f64()
            })
            .collect();
        latencies.sort_by(f64::total_cmp);
        let p99 = kefu_tests::quantile(&latencies, 0.99).expect("latencies");
        assert!(
            p99 < 1.0,
            "{backend:?}: healthy p99 {p99:.3} s next to a 30 s endpoint: {latencies:?}"
        );
        assert!(
            slow.received().len() <= 4,
            "{backend:?}: the slow endpoint holds at most its budget: {}",
            slow.received().len()
        );
        app.stop().await;
    }
}
