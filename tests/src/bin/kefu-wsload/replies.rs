//! `kefu-wsload replies`: agent replies to visitors' conversations, as the console sends them.
//!
//! Connects `--visitors` widget connections; each sends one message, which opens its
//! conversation, and learns the conversation's id from the `status` frame that follows. Then
//! the agent posts `--rate` replies per second for `--seconds` seconds (open loop) with
//! `POST /api/v1/conversations/{id}/messages {text, client_id}`, each to a random visitor's
//! conversation and carrying a unique marker. It reports the latency from the moment the
//! request is sent until the visitor's socket receives the reply's `message` frame, the
//! request's own latency (until 201), and with `--server-pid` / `--pg` what the replies cost
//! the server and its database (see `cost.rs`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::bail;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{Mutex, Semaphore, mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

use super::cost::Meter;
use super::{Args, CONNECT_TIMEOUT, PING_EVERY, Ws, host_port, login, marker, percentiles};

struct Shared {
    start: Instant,
    /// Microseconds since `start` when reply n was sent (0: not yet).
    sent_at: Vec<AtomicU64>,
    received: AtomicUsize,
    prefix: String,
}

pub async fn replies(a: Args) -> anyhow::Result<()> {
    let server = host_port(&a.url)?;
    let source: std::net::IpAddr = a.source.parse()?;
    let (agent_token, website_token) = login(&a).await?;
    let total = (a.rate * a.seconds).round() as usize;
    let run = std::process::id();
    let shared = Arc::new(Shared {
        start: Instant::now(),
        sent_at: (0..total).map(|_| AtomicU64::new(0)).collect(),
        received: AtomicUsize::new(0),
        prefix: format!("wsr-{run}-"),
    });
    let (lat_tx, mut lat_rx) = mpsc::unbounded_channel::<u64>();

    // Visitors: each opens its conversation and reports its id.
    let url = format!("{}/ws/web_chat", a.url);
    let gate = Arc::new(Semaphore::new(a.concurrency));
    let step = Duration::from_secs_f64(1.0 / a.rate);
    let mut next = tokio::time::Instant::now();
    let mut opened = Vec::with_capacity(a.visitors);
    let mut tasks = Vec::with_capacity(a.visitors);
    for vi in 0..a.visitors {
        // At most `rate` new conversations per second, as in `latency`'s warm-up.
        tokio::time::sleep_until(next).await;
        next += step;
        let permit = gate.clone().acquire_owned().await?;
        let (url, token, shared, lat_tx) = (
            url.clone(),
            website_token.clone(),
            shared.clone(),
            lat_tx.clone(),
        );
        let (id_tx, id_rx) = oneshot::channel();
        opened.push(id_rx);
        tasks.push(tokio::spawn(async move {
            let ws = super::visitor(server, source, &url, &token).await;
            drop(permit);
            match ws {
                Ok(ws) => run_visitor(ws, vi, id_tx, shared, lat_tx).await,
                Err(e) => eprintln!("visitor {vi} connect failed: {e:#}"),
            }
        }));
    }
    drop(lat_tx);
    let t0 = Instant::now();
    let mut conversations = Vec::with_capacity(a.visitors);
    for rx in opened {
        if let Ok(Ok(Some(id))) = tokio::time::timeout(Duration::from_secs(60), rx).await {
            conversations.push(id);
        }
    }
    println!(
        "visitors with a conversation={}/{} in {:.1}s",
        conversations.len(),
        a.visitors,
        t0.elapsed().as_secs_f64()
    );
    if conversations.is_empty() {
        bail!("no visitor opened a conversation");
    }
    if let Some(url) = &a.analyze {
        let db = kefu_normalizer::Db::connect(url, 1).await?;
        kefu_tests::analyze(&db).await?;
        db.conn().clone().close().await?;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;

    let meter = Meter::new(a.server_pid, a.pg.as_deref()).await?;
    let before = meter.read().await?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;
    let answers = Arc::new(Mutex::new(Vec::<u64>::with_capacity(total)));
    let failures = Arc::new(AtomicUsize::new(0));
    let mut schedule = super::Schedule::new(a.rate, run);
    let mut posts = Vec::with_capacity(total);
    for n in 0..total {
        let conv = conversations[schedule.slot(n, conversations.len()).await];
        let (http, shared, answers, failures) = (
            http.clone(),
            shared.clone(),
            answers.clone(),
            failures.clone(),
        );
        let post = format!("{}/api/v1/conversations/{conv}/messages", a.api);
        let token = agent_token.clone();
        posts.push(tokio::spawn(async move {
            let body = json!({
                "text": format!("{}{n}. a reply", shared.prefix),
                "client_id": format!("r{run}-{n}"),
            });
            let sent = shared.start.elapsed().as_micros() as u64;
            shared.sent_at[n].store(sent.max(1), Ordering::Release);
            let r = http.post(post).bearer_auth(token).json(&body).send().await;
            match r {
                Ok(r) if r.status().is_success() => {
                    let done = shared.start.elapsed().as_micros() as u64;
                    answers.lock().await.push(done.saturating_sub(sent));
                }
                Ok(r) => {
                    if failures.fetch_add(1, Ordering::Relaxed) < 3 {
                        eprintln!(
                            "reply {n}: {} {}",
                            r.status(),
                            r.text().await.unwrap_or_default()
                        );
                    }
                }
                Err(e) => {
                    if failures.fetch_add(1, Ordering::Relaxed) < 3 {
                        eprintln!("reply {n}: {e}");
                    }
                }
            }
        }));
    }
    let offered = schedule.elapsed();
    println!(
        "offered {total} replies in {offered:.2}s ({:.0}/s); scheduler late>5ms={}",
        total as f64 / offered,
        schedule.late
    );
    // Drain: wait until every reply reached its visitor, at most 10 s.
    let until = tokio::time::Instant::now() + Duration::from_secs(10);
    while shared.received.load(Ordering::Relaxed) < total && tokio::time::Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for p in posts {
        let _ = p.await;
    }
    // CPU up to the last delivery; database counters once PostgreSQL has published them.
    let after = meter.finish().await?;
    for t in &tasks {
        t.abort();
    }
    let mut lats = Vec::with_capacity(total);
    while let Ok(l) = lat_rx.try_recv() {
        lats.push(l);
    }
    println!(
        "visitor messages received={}/{total} failed_posts={}",
        lats.len(),
        failures.load(Ordering::Relaxed)
    );
    percentiles("agent reply -> visitor message", lats);
    percentiles(
        "agent reply -> 201",
        std::mem::take(&mut *answers.lock().await),
    );
    meter.report(&before, &after, total, "replies");
    Ok(())
}

/// One visitor: opens a conversation, reports its id, then records every reply it receives.
async fn run_visitor(
    mut ws: Ws,
    vi: usize,
    id_tx: oneshot::Sender<Option<i64>>,
    shared: Arc<Shared>,
    lat_tx: mpsc::UnboundedSender<u64>,
) {
    let frame = json!({"type": "message", "client_id": format!("open-{vi}"), "text": format!("hello from visitor {vi}")});
    if ws
        .send(Message::Text(frame.to_string().into()))
        .await
        .is_err()
    {
        let _ = id_tx.send(None);
        return;
    }
    let mut id_tx = Some(id_tx);
    let opened_by = tokio::time::Instant::now() + CONNECT_TIMEOUT;
    let mut next_ping = tokio::time::Instant::now() + PING_EVERY;
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(next_ping) => {
                next_ping += PING_EVERY;
                if ws.send(Message::Text(r#"{"type":"ping"}"#.into())).await.is_err() {
                    break;
                }
            }
            _ = tokio::time::sleep_until(opened_by), if id_tx.is_some() => {
                eprintln!("visitor {vi}: no conversation within {CONNECT_TIMEOUT:?}");
                break;
            }
            m = ws.next() => {
                let t = match m {
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                    Some(Ok(_)) => continue,
                };
                let now = shared.start.elapsed().as_micros() as u64;
                let t = t.as_str();
                if let Some(n) = marker(t, &shared.prefix) {
                    // The first frame of a reply counts (a later one carries its delivery
                    // status).
                    if let Some(sent) = shared.sent_at.get(n).map(|s| s.swap(0, Ordering::AcqRel))
                        && sent > 0
                    {
                        shared.received.fetch_add(1, Ordering::Relaxed);
                        let _ = lat_tx.send(now.saturating_sub(sent));
                    }
                    continue;
                }
                if id_tx.is_some() {
                    let Ok(v) = serde_json::from_str::<Value>(t) else { continue };
                    if v["type"] == "error" {
                        eprintln!("visitor {vi}: {t}");
                    }
                    if let Some(c) = v["conversation_id"].as_i64()
                        && v["type"] == "status"
                        && let Some(tx) = id_tx.take()
                    {
                        let _ = tx.send(Some(c));
                    }
                }
            }
        }
    }
    if let Some(tx) = id_tx {
        let _ = tx.send(None);
    }
}
