//! `kefu-hookbench`: throughput of the outbound side, through a real Kefu server.
//!
//! ```text
//! kefu-hookbench webhooks --database-url postgres://postgres@127.0.0.1/postgres --events 5000 \
//!     [--conversations 500] [--concurrency 64]
//! kefu-hookbench sends --database-url sqlite --replies 300 --per-second 100 [--burst 10]
//! ```
//!
//! `webhooks` starts Kefu on a fresh database with one endpoint subscribed to everything,
//! commits `--events` events to the outbox (spread over `--conversations` conversations,
//! 100 per transaction), and measures until a local receiver has acknowledged all of them:
//! deliveries per second, and the latency from the event's commit to its arrival.
//!
//! `sends` posts `--replies` agent replies to one loopback inbox limited to `--per-second`
//! and reports the rate at which the provider received them: the limiter's accuracy.

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
    replies: usize,
    per_second: u32,
    burst: u32,
}

fn parse() -> anyhow::Result<Args> {
    let mut a = Args {
        mode: String::new(),
        database_url: "sqlite".into(),
        events: 5000,
        conversations: 500,
        concurrency: 64,
        replies: 300,
        per_second: 100,
        burst: 10,
    };
    let mut it = std::env::args().skip(1);
    a.mode = it.next().unwrap_or_default();
    if a.mode != "webhooks" && a.mode != "sends" {
        bail!(
            "usage: kefu-hookbench webhooks|sends [--database-url URL|sqlite] [--events N] [--conversations N] [--concurrency N] [--replies N] [--per-second N] [--burst N]"
        );
    }
    while let Some(flag) = it.next() {
        let v = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--database-url" => a.database_url = v,
            "--events" => a.events = v.parse()?,
            "--conversations" => a.conversations = v.parse()?,
            "--concurrency" => a.concurrency = v.parse()?,
            "--replies" => a.replies = v.parse()?,
            "--per-second" => a.per_second = v.parse()?,
            "--burst" => a.burst = v.parse()?,
            other => bail!("unknown flag {other}"),
        }
    }
    Ok(a)
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = parse()?;
    let backend = if args.database_url == "sqlite" {
        Backend::Sqlite
    } else {
        Backend::Postgres(args.database_url.clone())
    };
    let concurrency = args.concurrency;
    let app = TestApp::spawn_with(&backend, |c| {
        c.jobs.webhook_concurrency = concurrency;
        c.jobs.send_concurrency = concurrency;
        c.database_max_connections = 32;
    })
    .await;
    match args.mode.as_str() {
        "webhooks" => webhooks(&app, &args).await?,
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
            kefu_normalizer::events::append(
                &tx,
                "conversation.updated",
                Some(conv),
                json!({"id": conv, "n": appended}),
            )
            .await?;
            appended += 1;
        }
        tx.commit().await?;
        app.state.wake.notify_one();
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
