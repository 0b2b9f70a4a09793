//! `kefu-bench login`: what a login flood does to real users and to ingest.
//!
//! ```text
//! kefu-bench login [--database-url sqlite|postgres://postgres@127.0.0.1/postgres]
//!     [--flood 400] [--parallel 64] [--addresses 1] [--seconds 5]
//! ```
//!
//! Starts Kefu in this process (port 0, a fresh database, a loopback inbox), then runs the
//! same two probes twice, first on a quiet server for `--seconds`, then from the start of a
//! flood:
//!
//! - **legitimate logins**: a real agent signs in with the right password twenty times a
//!   second, from ten addresses (each below the per-address login rate); p50 and p99 latency;
//! - **ingest**: customer messages through the loopback channel's HTTP ingress, 16 at a
//!   time; messages per second.
//!
//! The flood is `--flood` logins with wrong passwords, `--parallel` at a time, from
//! `--addresses` client addresses (sent as `X-Forwarded-For`, which Kefu trusts from the
//! loopback proxy), each guessing a different account. Its answers (401, 429) are counted and
//! the flood phase's figures are taken while it lasted (at least a second). Kefu refuses an
//! address past its budget (429) before any hashing, bounds hashing to the cores, and answers
//! a guessed email after the time a real check takes without hashing; the targets are a
//! legitimate p99 under 500 ms and ingest within 10 % of the quiet figure.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
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
    /// Legitimate logins: when each started (since the phase began) and how long it took.
    logins: Vec<(Duration, f64)>,
    /// Messages acknowledged, with when each was.
    ingested: Vec<Duration>,
}

impl Probe {
    /// Login latencies (ms) of logins that started before `until`, sorted.
    fn logins_before(&self, until: Duration) -> Vec<f64> {
        let mut ms: Vec<f64> = self
            .logins
            .iter()
            .filter(|(at, _)| *at < until)
            .map(|(_, ms)| *ms)
            .collect();
        ms.sort_by(f64::total_cmp);
        ms
    }

    /// Messages per second acknowledged before `until`.
    fn ingest_rate(&self, until: Duration) -> f64 {
        let n = self.ingested.iter().filter(|at| **at < until).count();
        n as f64 / until.as_secs_f64()
    }
}

async fn probes(
    app: &TestApp,
    inbox: i64,
    seconds: u64,
    phase: &str,
    started: Instant,
) -> anyhow::Result<Probe> {
    let until = started + Duration::from_secs(seconds);
    let logins = async {
        let mut out = Vec::new();
        // Twenty a second from ten addresses, each below the per-address login rate: people
        // signing in during the flood.
        let mut tick = tokio::time::interval(Duration::from_millis(50));
        let mut n = 0u32;
        while Instant::now() < until {
            tick.tick().await;
            n += 1;
            let t = Instant::now();
            let resp = app
                .client
                .post(format!("{}/api/v1/auth/login", app.base))
                .header("x-forwarded-for", format!("192.0.2.{}", 200 + n % 10))
                .json(&json!({"email": "real@example.com", "password": "the-real-password"}))
                .send()
                .await?;
            if resp.status() != StatusCode::OK {
                bail!("the legitimate login failed: {}", resp.status());
            }
            out.push((t - started, t.elapsed().as_secs_f64() * 1000.0));
        }
        Ok(out)
    };
    let ingest = async {
        let workers = (0..16).map(|w| async move {
            let mut at = Vec::new();
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
                at.push(started.elapsed());
            }
            Ok::<_, anyhow::Error>(at)
        });
        futures::future::try_join_all(workers)
            .await
            .map(|v| v.into_iter().flatten().collect::<Vec<_>>())
    };
    let (logins, ingested) = tokio::try_join!(logins, ingest)?;
    Ok(Probe { logins, ingested })
}

fn report(phase: &str, logins: &[f64], ingest: f64) {
    println!(
        "{phase:>6}: legitimate logins n={} p50={:.1} ms p99={:.1} ms; ingest {:.0} msg/s",
        logins.len(),
        quantile(logins, 0.5).unwrap_or(f64::NAN),
        quantile(logins, 0.99).unwrap_or(f64::NAN),
        ingest,
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
    probes(&app, inbox, 1, "warm", Instant::now()).await?;
    let window = Duration::from_secs(args.seconds);
    let quiet = probes(&app, inbox, args.seconds, "quiet", Instant::now()).await?;

    // The flood: `--flood` wrong-password logins, `--parallel` at a time, each guessing
    // another account, from `--addresses` client addresses; the probes run meanwhile.
    let started = Instant::now();
    let counts: Arc<[AtomicU64; 3]> = Arc::new(Default::default());
    let next = Arc::new(AtomicU64::new(0));
    let flooders: Vec<_> = (0..args.parallel)
        .map(|_| {
            let (client, base) = (app.client.clone(), app.base.clone());
            let (counts, next) = (counts.clone(), next.clone());
            let (flood, addresses) = (args.flood as u64, args.addresses as u64);
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= flood {
                        return;
                    }
                    let a = i % addresses;
                    let resp = client
                        .post(format!("{base}/api/v1/auth/login"))
                        .header("x-forwarded-for", format!("198.18.{}.{}", a / 250, a % 250 + 1))
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
    let flood_done = async {
        for f in flooders {
            f.await?;
        }
        Ok::<_, anyhow::Error>(started.elapsed())
    };
    let (flooded, flood_took) = tokio::try_join!(
        probes(&app, inbox, args.seconds, "flood", started),
        flood_done
    )?;
    // Measured while the flood lasted (at least a second, so there are samples).
    let during = flood_took.max(Duration::from_secs(1)).min(window);
    println!(
        "login flood on {}: {} wrong-password logins, {} parallel, from {} address(es); it lasted {:.2} s",
        backend.label(),
        args.flood,
        args.parallel,
        args.addresses,
        flood_took.as_secs_f64()
    );
    let quiet_ingest = quiet.ingest_rate(window);
    let flood_ingest = flooded.ingest_rate(during);
    report("quiet", &quiet.logins_before(window), quiet_ingest);
    report("flood", &flooded.logins_before(during), flood_ingest);
    println!(
        "flood answers: {} × 401, {} × 429, {} other; ingest during the flood {:.2}× quiet",
        counts[0].load(Ordering::Relaxed),
        counts[1].load(Ordering::Relaxed),
        counts[2].load(Ordering::Relaxed),
        flood_ingest / quiet_ingest,
    );
    app.stop().await;
    Ok(())
}
