//! Webhooks end to end: subscriptions, Standard Webhooks signatures checked by Kefu's verifier
//! and by an independent one, retries until exactly one success, the delivery log, manual
//! redelivery, per-conversation order, SSRF refusal, disabling, and a restart between commit
//! and delivery that loses nothing.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use kefu_dispatcher::webhook::{Secret, verify};
use kefu_tests::receiver::{Answer, Received, Receiver};
use kefu_tests::{TestApp, backends, msg};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Sha256;

const WAIT: Duration = Duration::from_secs(20);
/// A secret in the Standard Webhooks test vectors' format.
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn fast(c: &mut kefu_gateway::Config) {
    c.webhooks.retry_schedule_secs = Some(vec![0.0, 0.05, 0.05, 0.05, 0.05, 0.05]);
    c.jobs.poll_interval_ms = 50;
}

async fn subscribe(app: &TestApp, url: &str, events: Value) -> Value {
    let (s, b) = app
        .admin(
            Method::POST,
            "/api/v1/webhooks",
            Some(json!({"url": url, "events": events, "secret": SECRET})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["secret"], SECRET);
    b
}

/// An independent Standard Webhooks verifier: HMAC-SHA256 over `id.timestamp.body` with the
/// base64-decoded secret, compared against every `v1,` signature in the header.
fn independent_verify(r: &Received) -> bool {
    let key = STANDARD
        .decode(SECRET.trim_start_matches("whsec_"))
        .expect("secret is base64");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("key");
    mac.update(format!("{}.{}.", r.id, r.timestamp).as_bytes());
    mac.update(&r.body);
    let expected = STANDARD.encode(mac.finalize().into_bytes());
    r.signature
        .split(' ')
        .filter_map(|s| s.strip_prefix("v1,"))
        .any(|s| s == expected)
}

/// The endpoint's deliveries once `n` of them have finished (succeeded or failed).
async fn finished(app: &TestApp, endpoint: i64, n: usize) -> Value {
    let page = kefu_tests::eventually(WAIT, || async {
        let (s, page) = app
            .admin(
                Method::GET,
                &format!("/api/v1/webhooks/{endpoint}/deliveries"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{page}");
        let done = page["items"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter(|d| d["status"] == "succeeded" || d["status"] == "failed")
                    .count()
            })
            .unwrap_or_default();
        (done >= n).then_some(page)
    })
    .await;
    page.expect("deliveries finished in time")
}

/// The endpoint once the worker has disabled it. Disabling emits no event to wait on, so this
/// polls (with a deadline).
async fn disabled(app: &TestApp, endpoint: i64) -> Value {
    kefu_tests::eventually(WAIT, || async {
        let (_, ep) = app
            .admin(Method::GET, &format!("/api/v1/webhooks/{endpoint}"), None)
            .await;
        (ep["enabled"] == false).then_some(ep)
    })
    .await
    .expect("the endpoint is disabled")
}

fn types(got: &[Received]) -> Vec<String> {
    got.iter()
        .filter(|r| r.status == 200)
        .map(|r| r.json()["type"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn events_arrive_signed_and_verify_with_two_verifiers() {
    for backend in backends() {
        let app = TestApp::spawn_with(&backend, fast).await;
        let rx = Receiver::start().await;
        let ep = subscribe(
            &app,
            &rx.url,
            json!(["conversation.created", "message.created"]),
        )
        .await;
        assert_eq!(
            ep["events"],
            json!(["conversation.created", "message.created"])
        );
        let inbox = app.loopback_inbox(json!({})).await;
        let (s, a) = app.inbound(inbox, &msg("p-1", "cust-1", "Hello")).await;
        assert_eq!(s, StatusCode::OK, "{a}");

        let got = rx.wait_until(WAIT, |g| g.len() >= 2).await;
        assert_eq!(
            types(&got),
            ["conversation.created", "message.created"],
            "{backend:?}"
        );
        let secret = Secret::parse(SECRET).expect("secret");
        for r in &got {
            assert!(r.id.starts_with("msg_"), "{}", r.id);
            let headers = [
                ("webhook-id", r.id.as_str()),
                ("webhook-timestamp", r.timestamp.as_str()),
                ("webhook-signature", r.signature.as_str()),
            ];
            verify(
                std::slice::from_ref(&secret),
                headers,
                &r.body,
                chrono::Utc::now(),
                Duration::from_secs(300),
            )
            .expect("Kefu's verifier accepts the delivery");
            assert!(independent_verify(r), "the independent verifier accepts it");
            let body = r.json();
            assert!(body["timestamp"].is_string(), "{body}");
        }
        assert_eq!(got[1].json()["data"]["content"]["text"], "Hello");
        // A tampered body does not verify.
        let mut forged = got[1].clone();
        let mut bytes = forged.body.to_vec();
        bytes[2] ^= 1;
        forged.body = bytes.into();
        assert!(!independent_verify(&forged));
        app.stop().await;
    }
}

#[tokio::test]
async fn a_failing_receiver_gets_the_event_exactly_once_successfully_after_retries() {
    for backend in backends() {
        let app = TestApp::spawn_with(&backend, fast).await;
        let rx = Receiver::start().await;
        rx.script([
            Answer::Status(500),
            Answer::Status(502),
            Answer::RetryAfter(503, 1),
        ]);
        let ep = subscribe(&app, &rx.url, json!(["message.created"])).await;
        let id = ep["id"].as_i64().expect("id");
        let inbox = app.loopback_inbox(json!({})).await;
        app.inbound(inbox, &msg("p-1", "cust-1", "Hello")).await;

        let got = rx
            .wait_until(WAIT, |g| g.iter().any(|r| r.status == 200))
            .await;
        assert_eq!(
            got.iter().map(|r| r.status).collect::<Vec<_>>(),
            [500, 502, 503, 200],
            "{backend:?}"
        );
        assert!(
            got.iter().all(|r| r.id == got[0].id),
            "one webhook-id on every attempt"
        );
        assert!(
            got[3].at - got[2].at >= Duration::from_secs(1),
            "Retry-After: 1 honored"
        );

        // The delivery log shows every attempt.
        let page = finished(&app, id, 1).await;
        let d = &page["items"][0];
        assert_eq!(d["status"], "succeeded", "{d}");
        assert_eq!(d["attempts"], 4, "{d}");
        let log = d["attempt_log"].as_array().expect("attempt log");
        assert_eq!(
            log.iter()
                .map(|a| a["status_code"].clone())
                .collect::<Vec<_>>(),
            [json!(500), json!(502), json!(503), json!(200)]
        );
        assert_eq!(log[0]["response_excerpt"], "answer 500");
        assert!(log.iter().all(|a| a["latency_ms"].as_i64().is_some()));

        // Manual redelivery sends it once more, with the same webhook-id.
        let did = d["id"].as_i64().expect("delivery id");
        let (s, b) = app
            .admin(
                Method::POST,
                &format!("/api/v1/webhooks/{id}/deliveries/{did}/retry"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::ACCEPTED, "{b}");
        let got = rx.wait_until(WAIT, |g| g.len() >= 5).await;
        assert_eq!(got.len(), 5);
        assert_eq!(
            (got[4].status, got[4].id.as_str()),
            (200, got[0].id.as_str())
        );
        let page = kefu_tests::eventually(WAIT, || async {
            let (_, page) = app
                .admin(
                    Method::GET,
                    &format!("/api/v1/webhooks/{id}/deliveries"),
                    None,
                )
                .await;
            (page["items"][0]["attempts"] == 5 && page["items"][0]["status"] == "succeeded")
                .then_some(page)
        })
        .await;
        assert!(page.is_some(), "the redelivery is recorded");
        app.stop().await;
    }
}

#[tokio::test]
async fn events_of_one_conversation_arrive_in_order_even_when_one_is_retried() {
    for backend in backends() {
        let app = TestApp::spawn_with(&backend, fast).await;
        let rx = Receiver::start().await;
        // The first message's event fails twice: the later ones must wait for it.
        rx.script([Answer::Status(500), Answer::Status(500)]);
        subscribe(&app, &rx.url, json!(["message.created"])).await;
        let inbox = app.loopback_inbox(json!({})).await;
        for i in 0..5 {
            app.inbound(
                inbox,
                &msg(&format!("p-{i}"), "cust-1", &format!("message {i}")),
            )
            .await;
        }
        let got = rx
            .wait_until(WAIT, |g| {
                g.iter()
                    .filter(|r| r.status == 200 && r.json()["type"] == "message.created")
                    .count()
                    >= 5
            })
            .await;
        let texts: Vec<String> = got
            .iter()
            .filter(|r| r.status == 200 && r.json()["type"] == "message.created")
            .map(|r| {
                r.json()["data"]["content"]["text"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect();
        assert_eq!(
            texts,
            (0..5).map(|i| format!("message {i}")).collect::<Vec<_>>(),
            "{backend:?}"
        );
        // Successes per conversation are in event order (webhook ids carry the event id).
        let mut last: BTreeMap<i64, u64> = BTreeMap::new();
        for r in got.iter().filter(|r| r.status == 200) {
            let body = r.json();
            let kind = body["type"].as_str().unwrap_or_default();
            let conv = if kind.starts_with("conversation.") {
                body["data"]["id"].as_i64()
            } else {
                body["data"]["conversation_id"].as_i64()
            };
            let Some(conv) = conv else { continue };
            let event: u64 =
                r.id.split('_')
                    .nth(1)
                    .and_then(|n| n.parse().ok())
                    .expect("event id");
            if let Some(prev) = last.insert(conv, event) {
                assert!(prev < event, "event {prev} delivered after {event}");
            }
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn private_targets_are_refused_unless_allowed_and_bad_subscriptions_say_why() {
    let backend = backends().remove(0);
    let app = TestApp::spawn_with(&backend, |c| c.webhooks.allow_private_targets = false).await;
    for (url, events, code) in [
        ("http://127.0.0.1:9/hook", json!(["*"]), "invalid_request"),
        ("http://10.1.2.3/hook", json!(["*"]), "invalid_request"),
        ("http://localhost/hook", json!(["*"]), "invalid_request"),
        ("ftp://example.com/hook", json!(["*"]), "invalid_request"),
        (
            "https://example.com/hook",
            json!(["message.sent"]),
            "invalid_request",
        ),
        ("https://example.com/hook", json!([]), "invalid_request"),
    ] {
        let (s, b) = app
            .admin(
                Method::POST,
                "/api/v1/webhooks",
                Some(json!({"url": url, "events": events})),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{url}: {b}");
        assert_eq!(b["code"], code, "{b}");
        assert!(b["detail"].as_str().is_some_and(|d| d.len() > 10), "{b}");
    }
    let (s, b) = app
        .admin(
            Method::POST,
            "/api/v1/webhooks",
            Some(json!({"url": "https://example.com/hook", "events": ["*"], "colour": "red"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "unknown field: {b}");
    // A public URL is accepted, and its generated secret has the whsec_ form.
    let (s, b) = app
        .admin(
            Method::POST,
            "/api/v1/webhooks",
            Some(json!({"url": "https://example.com/hook", "events": ["*"]})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert!(
        b["secret"]
            .as_str()
            .is_some_and(|s| s.starts_with("whsec_"))
    );
    app.stop().await;
}

#[tokio::test]
async fn gone_disables_the_endpoint_and_rotation_signs_with_both_secrets() {
    let backend = backends().remove(0);
    let app = TestApp::spawn_with(&backend, fast).await;
    let rx = Receiver::start().await;
    let ep = subscribe(&app, &rx.url, json!(["message.created"])).await;
    let id = ep["id"].as_i64().expect("id");

    // Rotation: the next delivery carries two signatures, one per secret.
    let (s, rotated) = app
        .admin(
            Method::POST,
            &format!("/api/v1/webhooks/{id}/rotate-secret"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{rotated}");
    let new_secret = Secret::parse(rotated["secret"].as_str().expect("secret")).expect("whsec");
    let inbox = app.loopback_inbox(json!({})).await;
    app.inbound(inbox, &msg("p-1", "cust-1", "one")).await;
    let got = rx.wait_until(WAIT, |g| !g.is_empty()).await;
    assert_eq!(
        got[0].signature.split(' ').count(),
        2,
        "{}",
        got[0].signature
    );
    assert!(independent_verify(&got[0]), "the old secret still verifies");
    let headers = [
        ("webhook-id", got[0].id.as_str()),
        ("webhook-timestamp", got[0].timestamp.as_str()),
        ("webhook-signature", got[0].signature.as_str()),
    ];
    verify(
        std::slice::from_ref(&new_secret),
        headers,
        &got[0].body,
        chrono::Utc::now(),
        Duration::from_secs(300),
    )
    .expect("the new secret verifies");

    // 410 Gone disables the endpoint; later events are not sent.
    rx.script([Answer::Status(410)]);
    app.inbound(inbox, &msg("p-2", "cust-1", "two")).await;
    let got = rx.wait_until(WAIT, |g| g.len() >= 2).await;
    assert_eq!(got[1].status, 410);
    let ep = disabled(&app, id).await;
    assert!(
        ep["disabled_reason"]
            .as_str()
            .is_some_and(|r| r.contains("410"))
    );
    let (_, dead) = app.admin(Method::GET, "/api/v1/dead-letters", None).await;
    assert_eq!(
        dead["webhook_deliveries"][0]["last_status_code"], 410,
        "{dead}"
    );
    app.stop().await;
}

#[tokio::test]
async fn events_committed_while_no_worker_runs_are_delivered_after_a_restart() {
    for backend in backends() {
        // The first process queues jobs but runs no workers: it "dies" between commit and
        // delivery.
        let app = TestApp::spawn_with(&backend, |c| {
            fast(c);
            c.jobs.run_workers = false;
        })
        .await;
        let rx = Receiver::start().await;
        let ep = subscribe(&app, &rx.url, json!(["message.created"])).await;
        let id = ep["id"].as_i64().expect("id");
        let inbox = app.loopback_inbox(json!({})).await;
        let (_, a) = app.inbound(inbox, &msg("p-1", "cust-1", "Hello")).await;
        let conv = a["conversation_id"].as_i64().expect("conversation");
        let (s, r) = app
            .admin(
                Method::POST,
                &format!("/api/v1/conversations/{conv}/messages"),
                Some(json!({"text": "An answer"})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
        assert!(rx.received().is_empty());
        assert!(app.provider.delivered().is_empty());

        let app = app.restart(|c| c.jobs.run_workers = true).await;
        let got = rx.wait_until(WAIT, |g| g.len() >= 2).await;
        assert_eq!(
            types(&got),
            ["message.created", "message.created"],
            "{backend:?}"
        );
        let sent = app.provider.wait_delivered(1, WAIT).await;
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].content.text, "An answer");
        let page = finished(&app, id, 2).await;
        assert_eq!(page["items"].as_array().map(Vec::len), Some(2), "{page}");
        app.stop().await;
    }
}

#[tokio::test]
async fn an_endpoint_failing_longer_than_disable_after_is_disabled() {
    let backend = backends().remove(0);
    // Retries every 50 ms for far longer than the 1.5 s after which the endpoint is disabled,
    // so the disabling attempt comes however fast or slow the attempts run.
    let app = TestApp::spawn_with(&backend, |c| {
        fast(c);
        c.webhooks.retry_schedule_secs = Some(vec![0.05; 400]);
        c.webhooks.disable_after_hours = 1.5 / 3600.0; // 1.5 s
    })
    .await;
    let rx = Receiver::start().await;
    rx.script([Answer::Status(500); 400]);
    let ep = subscribe(&app, &rx.url, json!(["message.created"])).await;
    let id = ep["id"].as_i64().expect("id");
    let inbox = app.loopback_inbox(json!({})).await;
    app.inbound(inbox, &msg("p-1", "cust-1", "Hello")).await;
    let ep = disabled(&app, id).await;
    assert!(
        ep["disabled_reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("failing without a success since")),
        "{ep}"
    );
    let page = finished(&app, id, 1).await;
    assert_eq!(page["items"][0]["status"], "failed", "{page}");
    let attempts = page["items"][0]["attempts"].as_i64().unwrap_or_default();
    assert!(attempts >= 2, "it was retried before giving up: {page}");
    // Re-enabling clears the failure record; later events are delivered again.
    let (s, ep) = app
        .admin(
            Method::PATCH,
            &format!("/api/v1/webhooks/{id}"),
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{ep}");
    assert_eq!(
        (ep["enabled"].clone(), ep["failing_since"].clone()),
        (json!(true), Value::Null)
    );
    rx.clear_script();
    app.inbound(inbox, &msg("p-2", "cust-1", "Again")).await;
    let got = rx
        .wait_until(WAIT, |g| g.iter().any(|r| r.status == 200))
        .await;
    assert!(
        got.iter()
            .any(|r| r.status == 200 && r.json()["data"]["content"]["text"] == "Again")
    );
    app.stop().await;
}
