//! `kefu-bench login`: what a login flood does to real users and to ingest.
//!
//! ```text
//! kefu-bench login [--database-url sqlite|postgres://postgres@127.0.0.1/postgres]
//!     [--flood 400] [--parallel 64] [--addresses 1] [--seconds 5]
//! ```
//!
//! Starts Kefu in this process (port 0, a fresh database, a loopback inbox), then runs the
//! same two probes twice, first on a quiet server and then under a flood:
//!
//! - **legitimate logins**: one real agent signs in with the right password, four times a
//!   second from their own address, for `--seconds`; p50 and p99 latency;
//! - **ingest**: customer messages through the loopback channel's HTTP ingress, 16 at a
//!   time, for `--seconds`; messages per second.
//!
//! The flood is `--flood` logins with wrong passwords, `--parallel` at a time, from
//! `--addresses` client addresses (sent as `X-Forwarded-For`, which Kefu trusts from the
//! loopback proxy), each guessing a different account, repeated until the probes end. Its
//! answers (401, 429) are counted. Kefu bounds password hashing to the cores and turns an
//! address away (429) before hashing once it exceeds its budget, so the target is a legitimate
//! p99 under 500 ms and ingest within 10 % of the quiet figure.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use kefu_tests::{Backend, TestApp, msg, quantile};
use reqwest::{Method, StatusCode};
use serde_json::json;

struct Args {
    database_url: String,
    flood: usize,
    parallel: usize,
    addresses: usize,
    seconds: u64,
}

fn parse() -> anyhow::Result<Args> {
    let mut a = Args {
        database_url: "sqlite".into(),
        flood: 400,
        parallel: 64,
        addresses: 1,
        seconds: 5,
    };
    let mut it = std::env::args().skip(2);
    while let Some(flag) = it.next() {
        let v = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--database-url" => a.database_url = v,
            "--flood" => a.flood = v.parse()?,
            "--parallel" => a.parallel = v.parse()?,
            "--addresses" => a.addresses = v.parse()?,
            "--seconds" => a.seconds = v.parse()?,
            other => bail!(
                "unknown flag {other}; usage: kefu-bench login [--database-url URL|sqlite] [--flood N] [--parallel N] [--addresses N] [--seconds N]"
            ),
        }
    }
    if a.parallel == 0 || a.addresses == 0 || a.seconds == 0 {
        bail!("--parallel, --addresses and --seconds must be at least 1");
    }
    Ok(a)
}

/// What the probes measured in one phase.
struct Probe {
    logins_ms: Vec<f64>,
    ingest_per_sec: f64,
}

async fn probes(app: &TestApp, inbox: i64, seconds: u64, phase: &str) -> anyhow::Result<Probe> {
    let until = Instant::now() + Duration::from_secs(seconds);
    let logins = async {
        let mut ms = Vec::new();
        // Four a second: below the per-address login rate, as a person signing in would be.
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        while Instant::now() < until {
            tick.tick().await;
            let t = Instant::now();
            let resp = app
                .client
                .post(format!("{}/api/v1/auth/login", app.base))
                .header("x-forwarded-for", "192.0.2.200")
                .json(&json!({"email": "real@example.com", "password": "the-real-password"}))
                .send()
                .await?;
            if resp.status() != StatusCode::OK {
                bail!("the legitimate login failed: {}", resp.status());
            }
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        Ok(ms)
    };
    let sent = AtomicU64::new(0);
    let ingest = async {
        let workers = (0..16).map(|w| {
            let sent = &sent;
            async move {
                let mut n = 0u64;
                while Instant::now() < until {
                    let id = format!("{phase}-{w}-{n}");
                    let (s, b) = app
                        .inbound(
                            inbox,
                            &msg(&id, &format!("customer-{w}"), "where is my order?"),
                        )
                        .await;
                    if s != StatusCode::OK {
                        bail!("ingest failed: {s} {b}");
                    }
                    n += 1;
                    sent.fetch_add(1, Ordering::Relaxed);
                }
                Ok::<_, anyhow::Error>(())
            }
        });
        futures::future::try_join_all(workers).await.map(|_| ())
    };
    let start = Instant::now();
    let (logins_ms, ()) = tokio::try_join!(logins, ingest)?;
    Ok(Probe {
        logins_ms,
        ingest_per_sec: sent.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64(),
    })
}

fn report(phase: &str, p: &mut Probe) {
    p.logins_ms.sort_by(f64::total_cmp);
    println!(
        "{phase:>6}: legitimate logins n={} p50={:.1} ms p99={:.1} ms; ingest {:.0} msg/s",
        p.logins_ms.len(),
        quantile(&p.logins_ms, 0.5).unwrap_or(f64::NAN),
        quantile(&p.logins_ms, 0.99).unwrap_or(f64::NAN),
        p.ingest_per_sec,
    );
}

pub async fn main() -> anyhow::Result<()> {
    let args = parse()?;
    let backend = Backend::from_arg(&args.database_url);
    let app = TestApp::spawn(&backend).await;
    let inbox = app.loopback_inbox(json!({})).await;
    let (s, b) = app
        .admin(
            Method::POST,
            "/api/v1/agents",
            Some(json!({"email": "real@example.com", "name": "Real", "password": "the-real-password"})),
        )
        .await;
    if s != StatusCode::CREATED {
        bail!("creating the agent failed: {s} {b}");
    }
    // Warm-up: connections, prepared statements, the first hash.
    probes(&app, inbox, 1, "warm").await?;
    let mut quiet = probes(&app, inbox, args.seconds, "quiet").await?;

    let stop = Arc::new(AtomicBool::new(false));
    let counts: Arc<[AtomicU64; 3]> = Arc::new(Default::default());
    let next = Arc::new(AtomicU64::new(0));
    let flooders: Vec<_> = (0..args.parallel)
        .map(|_| {
            let (client, base) = (app.client.clone(), app.base.clone());
            let (stop, counts, next) = (stop.clone(), counts.clone(), next.clone());
            let (flood, addresses) = (args.flood as u64, args.addresses as u64);
            tokio::spawn(async move {
                // `--flood` requests, then again, until the probes end.
                while !stop.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed) % flood.max(1);
                    let addr = format!("198.18.{}.{}", (i % addresses) / 250, (i % addresses) % 250 + 1);
                    let resp = client
                        .post(format!("{base}/api/v1/auth/login"))
                        .header("x-forwarded-for", addr)
                        .json(&json!({"email": format!("guess-{i}@example.com"), "password": "wrong-password"}))
                        .send()
                        .await;
                    let slot = match resp.map(|r| r.status()) {
                        Ok(StatusCode::UNAUTHORIZED) => 0,
                        Ok(StatusCode::TOO_MANY_REQUESTS) => 1,
                        _ => 2,
                    };
                    counts[slot].fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let mut flooded = probes(&app, inbox, args.seconds, "flood").await?;
    stop.store(true, Ordering::Relaxed);
    for f in flooders {
        f.await?;
    }
    println!(
        "login flood on {}: {} parallel from {} address(es), {} accounts guessed",
        backend.label(),
        args.parallel,
        args.addresses,
        args.flood
    );
    report("quiet", &mut quiet);
    report("flood", &mut flooded);
    println!(
        "flood answers: {} × 401, {} × 429, {} other; ingest under flood {:.2}× quiet",
        counts[0].load(Ordering::Relaxed),
        counts[1].load(Ordering::Relaxed),
        counts[2].load(Ordering::Relaxed),
        flooded.ingest_per_sec / quiet.ingest_per_sec,
    );
    app.stop().await;
    Ok(())
}
