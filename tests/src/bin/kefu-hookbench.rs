//! `kefu-hookbench`: throughput of the outbound side, through a real Kefu server.
//!
//! ```text
//! kefu-hookbench webhooks --database-url postgres://postgres@127.0.0.1/postgres --events 5000 \
//!     [--conversations 500] [--concurrency 64]
//! kefu-hookbench sends --database-url sqlite --replies 300 --per-second 100 [--burst 10]
//! kefu-hookbench pushes --database-url postgres://postgres@127.0.0.1/postgres --replies 2000 \
//!     --platform fcm|apns [--concurrency 64]
//! ```
//!
//! `webhooks` starts Kefu on a fresh database with one endpoint subscribed to everything,
//! commits `--events` events to the outbox (spread over `--conversations` conversations,
//! 100 per transaction), and measures until a local receiver has acknowledged all of them:
//! deliveries per second, and the latency from the event's commit to its arrival.
//!
//! `sends` posts `--replies` agent replies to one loopback inbox limited to `--per-second`
//! and reports the rate at which the provider received them: the limiter's accuracy.
//!
//! `pushes` measures app push through the whole pipeline: `--replies` app users, each with one
//! device and a conversation, get one agent reply each (posted through the API, 16 at a time);
//! every reply goes outbox → send job → app channel → a local FCM or APNs server (the push
//! crate's test servers). It reports pushes per second from the first reply posted to the last
//! push received, and the latency from posting a reply to its push arriving.

#[path = "../../../channels/push/tests/push/support/apns.rs"]
#[allow(dead_code)]
mod apns;
#[path = "../../../channels/push/tests/push/support/fcm.rs"]
#[allow(dead_code)]
mod fcm;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use kefu_tests::receiver::Receiver;
use kefu_tests::{Backend, TestApp, msg};
use reqwest::{Method, StatusCode};
use serde_json::json;

struct Args {
    mode: String,
    database_url: String,
    events: usize,
    conversations: usize,
    concurrency: usize,
    /// Attempts in flight per webhook endpoint; Kefu's default when absent.
    endpoint_concurrency: Option<usize>,
    replies: usize,
    per_second: u32,
    burst: u32,
    platform: String,
}

fn parse() -> anyhow::Result<Args> {
    let mut a = Args {
        mode: String::new(),
        database_url: "sqlite".into(),
        events: 5000,
        conversations: 500,
        concurrency: 64,
        endpoint_concurrency: None,
        replies: 300,
        per_second: 100,
        burst: 10,
        platform: "fcm".into(),
    };
    let mut it = std::env::args().skip(1);
    a.mode = it.next().unwrap_or_default();
    if !matches!(a.mode.as_str(), "webhooks" | "sends" | "pushes") {
        bail!(
            "usage: kefu-hookbench webhooks|sends|pushes [--database-url URL|sqlite] [--events N] [--conversations N] [--concurrency N] [--endpoint-concurrency N] [--replies N] [--per-second N] [--burst N] [--platform fcm|apns]"
        );
    }
    while let Some(flag) = it.next() {
        let v = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--database-url" => a.database_url = v,
            "--events" => a.events = v.parse()?,
            "--conversations" => a.conversations = v.parse()?,
            "--concurrency" => a.concurrency = v.parse()?,
            "--endpoint-concurrency" => a.endpoint_concurrency = Some(v.parse()?),
            "--replies" => a.replies = v.parse()?,
            "--per-second" => a.per_second = v.parse()?,
            "--burst" => a.burst = v.parse()?,
            "--platform" if v == "fcm" || v == "apns" => a.platform = v,
            other => bail!("unknown flag {other}"),
        }
    }
    Ok(a)
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    kefu_tests::quantile(sorted, p).unwrap_or(f64::NAN)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = parse()?;
    let backend = Backend::from_arg(&args.database_url);
    let concurrency = args.concurrency;
    let endpoint_concurrency = args.endpoint_concurrency;
    // The APNs server's CA, trusted through `tls.extra_root_certs` like a corporate root.
    let apns = apns::FakeApns::start().await;
    let ca = tempfile::NamedTempFile::new()?;
    std::fs::write(ca.path(), &apns.ca_pem)?;
    let ca_path = ca.path().to_path_buf();
    let app = TestApp::spawn_with(&backend, |c| {
        c.jobs.webhook_concurrency = concurrency;
        if let Some(n) = endpoint_concurrency {
            c.webhooks.endpoint_concurrency = n;
        }
        c.jobs.send_concurrency = concurrency;
        c.database_max_connections = 32;
        c.tls.extra_root_certs = Some(ca_path);
    })
    .await;
    match args.mode.as_str() {
        "webhooks" => webhooks(&app, &args).await?,
        "pushes" => pushes(&app, &args, &apns).await?,
        _ => sends(&app, &args).await?,
    }
    app.stop().await;
    Ok(())
}

async fn webhooks(app: &TestApp, args: &Args) -> anyhow::Result<()> {
    let rx = Receiver::start().await;
    let (s, b) = app
        .admin(
            Method::POST,
            "/api/v1/webhooks",
            Some(json!({"url": rx.url, "events": ["*"]})),
        )
        .await;
    if s != StatusCode::CREATED {
        bail!("cannot subscribe: {b}");
    }
    let started = Instant::now();
    let mut appended = 0;
    while appended < args.events {
        let tx = app.state.db.begin_write().await?;
        for _ in 0..100.min(args.events - appended) {
            let conv = (appended % args.conversations) as i64 + 1;
            tx.emit(kefu_normalizer::EventData::ConversationUpdated(
                bench_conversation(conv, appended),
            ))
            .await?;
            appended += 1;
        }
        tx.commit().await?;
    }
    let committed = started.elapsed();
    let got = rx
        .wait_until(Duration::from_secs(600), |g| g.len() >= args.events)
        .await;
    let elapsed = started.elapsed();
    let mut latencies: Vec<f64> = got
        .iter()
        .filter_map(|r| {
            let ts = r.json()["timestamp"].as_str()?.to_owned();
            let at = chrono::DateTime::parse_from_rfc3339(&ts).ok()?;
            Some((r.at_wall - at.with_timezone(&chrono::Utc)).num_microseconds()? as f64 / 1000.0)
        })
        .collect();
    latencies.sort_by(|a, b| a.total_cmp(b));
    println!(
        "webhooks: {} events committed in {:.2} s; {} deliveries in {:.2} s = {:.0} deliveries/s; commit→arrival p50 {:.0} ms, p99 {:.0} ms (backend {:?}, webhook concurrency {})",
        args.events,
        committed.as_secs_f64(),
        got.len(),
        elapsed.as_secs_f64(),
        got.len() as f64 / elapsed.as_secs_f64(),
        pct(&latencies, 0.5),
        pct(&latencies, 0.99),
        app.backend,
        args.concurrency,
    );
    Ok(())
}

async fn sends(app: &TestApp, args: &Args) -> anyhow::Result<()> {
    let inbox = app.loopback_inbox(json!({})).await;
    let (s, b) = app
        .admin(
            Method::PUT,
            &format!("/api/v1/inboxes/{inbox}/rate-limit"),
            Some(json!({"per_second": args.per_second, "burst": args.burst})),
        )
        .await;
    if s != StatusCode::OK {
        bail!("cannot set the rate limit: {b}");
    }
    let mut convs = Vec::new();
    for c in 0..20 {
        let (_, a) = app
            .inbound(
                inbox,
                &msg(&format!("in-{c}"), &format!("cust-{c}"), "hello"),
            )
            .await;
        convs.push(a["conversation_id"].as_i64().context("conversation")?);
    }
    for i in 0..args.replies {
        let (s, b) = app
            .admin(
                Method::POST,
                &format!("/api/v1/conversations/{}/messages", convs[i % convs.len()]),
                Some(json!({"text": format!("reply {i}")})),
            )
            .await;
        if s != StatusCode::CREATED {
            bail!("reply failed: {b}");
        }
    }
    let sent = app
        .provider
        .wait_delivered(args.replies, Duration::from_secs(600))
        .await;
    let times = app.provider.accepted_times();
    let span = (times[times.len() - 1] - times[0]).as_secs_f64();
    // After the burst, sends should be spaced 1/rate apart.
    let steady = (times.len() as f64 - f64::from(args.burst)) / span;
    let mut worst_window = 0usize;
    for (i, t) in times.iter().enumerate() {
        let n = times[i..]
            .iter()
            .take_while(|u| u.duration_since(*t) < Duration::from_secs(1))
            .count();
        worst_window = worst_window.max(n);
    }
    println!(
        "sends: {} replies accepted over {:.2} s; limit {}/s burst {}: steady rate {:.1}/s ({:+.1}% of the limit), most in any 1 s window {} (allowed {})",
        sent.len(),
        span,
        args.per_second,
        args.burst,
        steady,
        (steady / f64::from(args.per_second) - 1.0) * 100.0,
        worst_window,
        args.per_second + args.burst,
    );
    Ok(())
}

const APP_SECRET: &str = "bench-app-secret-0123456789";
const SERVICE_ACCOUNT: &str =
    include_str!("../../../channels/push/fixtures/TEST-ONLY-service-account.json");

/// Runs `f` over `0..n`, `width` at a time.
async fn in_parallel<T, F, Fut>(n: usize, width: usize, f: F) -> anyhow::Result<Vec<T>>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>>,
{
    use futures::StreamExt;
    futures::stream::iter((0..n).map(f))
        .buffered(width)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

async fn pushes(app: &TestApp, args: &Args, apns: &apns::FakeApns) -> anyhow::Result<()> {
    let fcm = fcm::FakeFcm::start().await;
    let mut sa: serde_json::Value = serde_json::from_str(SERVICE_ACCOUNT)?;
    sa["token_uri"] = json!(fcm.token_uri);
    let (s, inbox) = app
        .admin(
            Method::POST,
            "/api/v1/inboxes",
            Some(json!({"name": "Bench app", "channel": {"type": "app_push", "app_secret": APP_SECRET,
                "fcm": {"project_id": fcm::PROJECT, "service_account_json": sa.to_string(), "api_base": fcm.base},
                "apns": {"team_id": apns::TEAM_ID, "key_id": apns::KEY_ID, "private_key_pem": apns.p8,
                    "topic": apns::TOPIC, "api_base": apns.base}}})),
        )
        .await;
    if s != StatusCode::CREATED {
        bail!("cannot create the app inbox: {inbox}");
    }
    let inbox = inbox["id"].as_i64().context("inbox id")?;
    let n = args.replies;
    let platform = args.platform.as_str();

    // Setup, not measured: one user per reply (the per-device limit allows a burst of 5), each
    // with a device and a conversation.
    let setup = Instant::now();
    let convs = in_parallel(n, 16, |i| async move {
        let who = format!("bench-user-{i}");
        let hash = kefu_channel_push::user_hash(APP_SECRET, &who);
        let token = match platform {
            "apns" => format!("{i:08x}{}", "ab".repeat(28)),
            _ => format!("fcm{i}:APA91bH-{}", "x".repeat(140)),
        };
        let base = format!("{}/channels/app/{inbox}", app.base);
        let r = app
            .client
            .post(format!("{base}/devices"))
            .json(&json!({"external_id": who, "user_hash": hash, "platform": platform, "token": token}))
            .send()
            .await?;
        if !r.status().is_success() {
            bail!("device registration failed: {}", r.text().await?);
        }
        let r: serde_json::Value = app
            .client
            .post(format!("{base}/messages"))
            .json(&json!({"external_id": who, "user_hash": hash, "client_id": "hello", "text": "Hello"}))
            .send()
            .await?
            .json()
            .await?;
        r["conversation_id"].as_i64().context("conversation id")
    })
    .await?;
    let setup = setup.elapsed();

    // Measured: reply to every conversation, then wait for every push.
    let started = Instant::now();
    let posted: Vec<(i64, Instant)> = in_parallel(n, 16, |i| {
        let conv = convs[i];
        async move {
            let at = Instant::now();
            let (s, m) = app
                .admin(
                    Method::POST,
                    &format!("/api/v1/conversations/{conv}/messages"),
                    Some(json!({"text": format!("Reply {i}: your order ships today.")})),
                )
                .await;
            if s != StatusCode::CREATED {
                bail!("reply failed: {m}");
            }
            Ok((m["id"].as_i64().context("message id")?, at))
        }
    })
    .await?;
    let all_posted = started.elapsed();
    let limit = Duration::from_secs(600);
    let arrivals: Vec<(i64, Instant)> = if platform == "apns" {
        apns.wait_sent_within(n, limit)
            .await
            .iter()
            .filter_map(|s| Some((s.payload["kefu"]["message_id"].as_i64()?, s.at)))
            .collect()
    } else {
        fcm.wait_sent_within(n, limit)
            .await
            .iter()
            .filter_map(|s| {
                Some((
                    s.message["data"]["message_id"].as_str()?.parse().ok()?,
                    s.at,
                ))
            })
            .collect()
    };
    if arrivals.len() < n {
        bail!(
            "only {} of {n} pushes arrived within {limit:?}",
            arrivals.len()
        );
    }
    let posted: HashMap<i64, Instant> = posted.into_iter().collect();
    let last = arrivals
        .iter()
        .map(|(_, at)| *at)
        .max()
        .context("arrivals")?;
    let mut latencies: Vec<f64> = arrivals
        .iter()
        .filter_map(|(id, at)| Some(at.duration_since(*posted.get(id)?).as_secs_f64() * 1000.0))
        .collect();
    latencies.sort_by(|a, b| a.total_cmp(b));
    let total = last.duration_since(started).as_secs_f64();
    println!(
        "pushes ({platform}): {n} replies posted in {:.2} s; {} pushes received in {total:.2} s = {:.0} pushes/s; reply→push p50 {:.0} ms, p99 {:.0} ms (setup {:.1} s; backend {:?}, send concurrency {})",
        all_posted.as_secs_f64(),
        arrivals.len(),
        arrivals.len() as f64 / total,
        pct(&latencies, 0.5),
        pct(&latencies, 0.99),
        setup.as_secs_f64(),
        app.backend,
        args.concurrency,
    );
    let failed = app.state.deliveries.failed(None, 10).await?;
    if !failed.is_empty() {
        bail!(
            "{} replies failed, e.g. {:?}",
            failed.len(),
            failed[0].delivery
        );
    }
    Ok(())
}

/// A made-up conversation `id` for an event of the webhook benchmark; `n` numbers the event.
fn bench_conversation(id: i64, n: usize) -> kefu_normalizer::views::ConversationView {
    let now = chrono::Utc::now();
    kefu_normalizer::views::ConversationView {
        id,
        inbox_id: 1,
        contact: kefu_normalizer::views::ContactSummary {
            id: 1,
            name: None,
            email: None,
        },
        status: kefu_normalizer::Status::Assigned,
        priority: 0,
        skills: Default::default(),
        assignee_id: None,
        team_id: None,
        subject: Some(format!("event {n}")),
        last_seq: 0,
        created_at: now,
        last_message_at: now,
        sentiment: None,
        intent: None,
        summary: None,
    }
}
