//! `kefu-wsload throughput`: durable visitor messages per second over the widget's WebSocket.
//!
//! Connects `--visitors` widget connections and spreads them over `--in-flight` lanes. Each lane
//! is a closed loop: it sends a message from its next visitor and waits for that message's
//! `ack` (sent after the commit) before sending the next, so `--in-flight` messages are always
//! on their way. First every visitor sends one message, which opens its conversation (the
//! warm-up, reported as new conversations per second); then the lanes send for `--seconds`
//! seconds into the open conversations. It reports acknowledged messages per second, the
//! send → `ack` latency and, with `--server-pid` / `--pg`, what the messages cost the server
//! and its database (see `cost.rs`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{Barrier, Semaphore};
use tokio_tungstenite::tungstenite::Message;

use super::cost::Meter;
use super::{Args, CONNECT_TIMEOUT, Ws, host_port, percentiles};

/// What one lane did in the measured stretch.
#[derive(Default)]
struct Lane {
    acks: Vec<u64>,
    errors: usize,
    /// Why the lane stopped early.
    failed: Option<String>,
}

pub async fn throughput(a: Args) -> anyhow::Result<()> {
    let server = host_port(&a.url)?;
    let source: std::net::IpAddr = a.source.parse()?;
    let token = match &a.token {
        Some(t) => t.clone(),
        None => super::login(&a).await?.1,
    };
    let url = format!("{}/ws/web_chat", a.url);
    let gate = Arc::new(Semaphore::new(a.concurrency));
    let started = Instant::now();
    let mut connecting = Vec::with_capacity(a.visitors);
    for _ in 0..a.visitors {
        let permit = gate.clone().acquire_owned().await?;
        let (url, token) = (url.clone(), token.clone());
        connecting.push(tokio::spawn(async move {
            let ws = super::visitor(server, source, &url, &token).await;
            drop(permit);
            ws
        }));
    }
    let lanes_n = a.in_flight.min(a.visitors);
    let mut lanes: Vec<Vec<Ws>> = (0..lanes_n).map(|_| Vec::new()).collect();
    let mut failed = 0usize;
    for (i, c) in connecting.into_iter().enumerate() {
        match c.await? {
            Ok(ws) => lanes[i % lanes_n].push(ws),
            Err(e) => {
                if failed == 0 {
                    eprintln!("visitor connect failed: {e:#}");
                }
                failed += 1;
            }
        }
    }
    let connected: usize = lanes.iter().map(Vec::len).sum();
    println!(
        "visitors connected={connected} failed={failed} in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    if connected == 0 {
        bail!("no visitor could connect");
    }

    // Every lane warms up its visitors, waits for the others, then runs until the deadline.
    let lanes_n = lanes.iter().filter(|l| !l.is_empty()).count();
    let warmed = Arc::new(Barrier::new(lanes_n + 1));
    let go = Arc::new(Barrier::new(lanes_n + 1));
    let stop = Duration::from_secs_f64(a.seconds);
    let run = std::process::id();
    let mut tasks = Vec::with_capacity(lanes_n);
    for (li, lane) in lanes.into_iter().filter(|l| !l.is_empty()).enumerate() {
        let (warmed, go) = (warmed.clone(), go.clone());
        tasks.push(tokio::spawn(async move {
            run_lane(lane, li, run, warmed, go, stop).await
        }));
    }
    let t0 = Instant::now();
    warmed.wait().await;
    let warm = t0.elapsed().as_secs_f64();
    println!(
        "warm-up: {connected} conversations opened in {warm:.1}s ({:.0}/s)",
        connected as f64 / warm
    );
    if let Some(url) = &a.analyze {
        let db = kefu_normalizer::Db::connect(url, 1).await?;
        kefu_tests::analyze(&db).await?;
        db.conn().clone().close().await?;
    }
    let meter = Meter::new(a.server_pid, a.pg.as_deref()).await?;
    let before = meter.read().await?;
    let begin = Instant::now();
    go.wait().await;
    let mut acks = Vec::new();
    let mut errors = 0usize;
    let failures = AtomicUsize::new(0);
    for t in tasks {
        match t.await? {
            Ok(lane) => {
                acks.extend(lane.acks);
                errors += lane.errors;
                if let Some(e) = lane.failed
                    && failures.fetch_add(1, Ordering::Relaxed) < 3
                {
                    eprintln!("lane stopped: {e}");
                }
            }
            Err(e) => {
                if failures.fetch_add(1, Ordering::Relaxed) < 3 {
                    eprintln!("lane failed: {e:#}");
                }
            }
        }
    }
    let elapsed = begin.elapsed().as_secs_f64();
    let after = meter.finish().await?;
    println!(
        "acknowledged {} messages in {elapsed:.2}s with {lanes_n} in flight: {:.0} msg/s; errors={errors} failed_lanes={}",
        acks.len(),
        acks.len() as f64 / elapsed,
        failures.load(Ordering::Relaxed)
    );
    let count = acks.len();
    percentiles("visitor send -> ack", acks);
    meter.report(&before, &after, count, "messages");
    Ok(())
}

/// Sends one message from `ws` and waits for its `ack`; returns the microseconds it took.
async fn send_one(ws: &mut Ws, client_id: &str, text: &str) -> anyhow::Result<Result<u64, String>> {
    let frame = json!({"type": "message", "client_id": client_id, "text": text}).to_string();
    let sent = Instant::now();
    ws.send(Message::Text(frame.into())).await?;
    let until = tokio::time::Instant::now() + CONNECT_TIMEOUT;
    loop {
        let m = tokio::time::timeout_at(until, ws.next())
            .await
            .with_context(|| format!("no ack for {client_id} within {CONNECT_TIMEOUT:?}"))?;
        let t = match m {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Close(_))) | None => bail!("closed while waiting for {client_id}"),
            Some(Err(e)) => return Err(e.into()),
            Some(Ok(_)) => continue,
        };
        let t = t.as_str();
        // Only frames naming this message, or errors, are decoded: the generator shares the
        // server's cores. An error without a client_id (`rate_limited`, say) is about the
        // message in flight, the only one this socket has.
        if !t.contains(client_id) && !t.contains("\"error\"") {
            continue;
        }
        let v: Value = serde_json::from_str(t)?;
        if v["client_id"].as_str().is_some_and(|c| c != client_id) {
            continue;
        }
        match v["type"].as_str() {
            Some("ack") => return Ok(Ok(sent.elapsed().as_micros() as u64)),
            Some("error") => return Ok(Err(t.to_owned())),
            _ => {}
        }
    }
}

async fn run_lane(
    mut lane: Vec<Ws>,
    li: usize,
    run: u32,
    warmed: Arc<Barrier>,
    go: Arc<Barrier>,
    stop: Duration,
) -> anyhow::Result<Lane> {
    let mut out = Lane::default();
    let mut seq = 0u64;
    let warm_up = async {
        for (vi, ws) in lane.iter_mut().enumerate() {
            seq += 1;
            if let Err(e) = send_one(
                ws,
                &format!("w{li}-{seq}"),
                &format!("hello from {li}.{vi}"),
            )
            .await?
            {
                eprintln!("lane {li} warm-up: {e}");
            }
        }
        anyhow::Ok(())
    }
    .await;
    // Reach both barriers even after a failure, so the other lanes are not held.
    warmed.wait().await;
    go.wait().await;
    warm_up?;
    let deadline = Instant::now() + stop;
    let mut vi = 0usize;
    while Instant::now() < deadline {
        seq += 1;
        let next = (vi + 1) % lane.len();
        let ws = &mut lane[vi];
        vi = next;
        match send_one(
            ws,
            &format!("t{li}-{seq}"),
            &format!("wst-{run}-{li}-{seq}"),
        )
        .await
        {
            Ok(Ok(us)) => out.acks.push(us),
            Ok(Err(e)) => {
                out.errors += 1;
                if out.errors <= 3 {
                    eprintln!("lane {li}: {e}");
                }
            }
            // A lost socket or a missing ack ends the lane; what it measured still counts.
            Err(e) => {
                out.failed = Some(format!("{e:#}"));
                break;
            }
        }
    }
    Ok(out)
}
