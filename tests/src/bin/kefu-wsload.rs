//! `kefu-wsload`: WebSocket load generator for Kefu's web chat.
//!
//! ```text
//! kefu-wsload idle --url ws://127.0.0.1:8080 --token WEBSITE_TOKEN --connections 4750 \
//!     --source 127.0.0.2 [--hold 120] [--concurrency 256]
//! kefu-wsload latency --url ws://127.0.0.1:8080 --api http://127.0.0.1:8080 \
//!     --email admin@example.com --password secret [--token WEBSITE_TOKEN] \
//!     --visitors 5000 --rate 1000 --seconds 20 [--source 127.0.0.2] [--warmup 1] \
//!     [--analyze postgres://…/kefu] [--agent-url ws://127.0.0.1:8082]
//! ```
//!
//! `idle` opens `--connections` widget connections to `/ws/web_chat` from the `--source` address
//! (so several processes, each with its own 127.0.0.x, can together exceed one process's
//! open-file limit and one address's ephemeral ports), sends `hello`, waits for `welcome`, then
//! keeps every connection open by sending the widget's `ping` every 25 s until `--hold` seconds
//! have passed. It prints how many connections are open every 10 s and at the end.
//!
//! `latency` connects `--visitors` widget connections and one agent console (`/ws/agent`), then
//! sends `--rate` messages per second for `--seconds` seconds (open loop: the schedule does not
//! wait for replies), each from a random visitor and carrying a unique marker. It reports the
//! latency from the moment a message is handed to its visitor's socket until the agent socket
//! receives its `message.created` event, and the visitor's own send→`ack` latency; with
//! `--agent-url` the agent console is on another node of a cluster, so every message crosses the
//! Redis bus. With
//! `--warmup 1` (the default) every visitor first sends one unmeasured message, so the measured
//! messages go to existing conversations, as in a chat under way. `--analyze URL` refreshes the
//! server database's planner statistics after the warm-up, as autovacuum would on a production
//! PostgreSQL (see `kefu_tests::analyze`).
//!
//! `replies` measures agent replies to visitors' conversations (see `kefu-wsload/replies.rs`):
//!
//! ```text
//! kefu-wsload replies --url ws://127.0.0.1:8080 --api http://127.0.0.1:8080 \
//!     --email admin@example.com --password secret --visitors 1000 --rate 100 --seconds 20 \
//!     [--server-pid PID] [--pg postgres://…/kefu]
//! ```
//!
//! `throughput` measures durable visitor messages per second over the widget's protocol, closed
//! loop with `--in-flight` messages on their way (see `kefu-wsload/throughput.rs`):
//!
//! ```text
//! kefu-wsload throughput --url ws://127.0.0.1:8080 --token WEBSITE_TOKEN --visitors 1000 \
//!     --in-flight 64 --seconds 20 [--server-pid PID] [--pg postgres://…/kefu]
//! ```
//!
//! With `--server-pid` (the `kefu` process) and `--pg` (its PostgreSQL database), `latency`,
//! `replies` and `throughput` also report the CPU seconds the server and its database backends spent per 1,000
//! messages, the transactions committed and each table's scans (see `kefu-wsload/cost.rs`).
//!
//! Every mode can load a peer instead of Kefu: a chat server that takes a visitor's message
//! as a plain HTTP form post and pushes it to an agent's WebSocket (`--peer-*` flags, see
//! `kefu-wsload/peer.rs`); `--db-pid` then names its database server's process, whose CPU
//! time is reported with the server's.
//!
//! Everything is bounded: connection attempts, the send schedule and the final drain all end.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{Mutex, Semaphore, mpsc};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{WebSocketStream, client_async_with_config};

#[path = "kefu-wsload/cost.rs"]
mod cost;
#[path = "kefu-wsload/peer.rs"]
mod peer;
#[path = "kefu-wsload/replies.rs"]
mod replies;
#[path = "kefu-wsload/throughput.rs"]
mod throughput;

type Ws = WebSocketStream<TcpStream>;

const PING_EVERY: Duration = Duration::from_secs(25);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
const USAGE: &str = "usage:\n  kefu-wsload idle --url ws://HOST:PORT --token WEBSITE_TOKEN --connections N --source 127.0.0.K [--hold SECS] [--concurrency N]\n  kefu-wsload latency --url ws://HOST:PORT --api http://HOST:PORT --email E --password P [--token WEBSITE_TOKEN] --visitors N --rate PER_SEC --seconds S [--source 127.0.0.K] [--warmup 0|1] [--concurrency N] [--analyze DATABASE_URL] [--agent-url ws://OTHER_NODE] [--server-pid PID] [--pg DATABASE_URL]\n  kefu-wsload replies --url ws://HOST:PORT --api http://HOST:PORT --email E --password P [--token WEBSITE_TOKEN] --visitors N --rate PER_SEC --seconds S [--source 127.0.0.K] [--analyze DATABASE_URL] [--server-pid PID] [--pg DATABASE_URL]\n  kefu-wsload throughput --url ws://HOST:PORT (--token WEBSITE_TOKEN | --api http://HOST:PORT --email E --password P) --visitors N --in-flight N --seconds S [--source 127.0.0.K] [--analyze DATABASE_URL] [--server-pid PID] [--pg DATABASE_URL]\n  any mode against a peer: --peer-send URL --peer-send-form TEMPLATE --peer-agent-ws URL --peer-reply URL --peer-reply-form TEMPLATE [--peer-visitor-init URL --peer-visitor-init-form TEMPLATE] [--peer-visitor-ws URL] [--peer-header 'Name: value']... [--peer-ok TEXT] [--peer-ping FRAME] [--peer-token TOKEN] [--db-pid PID]";

#[derive(Debug)]
struct Args {
    mode: String,
    url: String,
    api: String,
    email: String,
    password: String,
    token: Option<String>,
    connections: usize,
    source: String,
    hold: u64,
    concurrency: usize,
    /// `throughput`: messages on their way at any time.
    in_flight: usize,
    visitors: usize,
    rate: f64,
    seconds: f64,
    warmup: bool,
    analyze: Option<String>,
    /// Where the agent console connects (another node of a cluster); `--url` by default.
    agent_url: Option<String>,
    /// The `kefu` process whose CPU time is reported.
    server_pid: Option<u32>,
    /// The server's PostgreSQL database, whose backends and counters are reported.
    pg: Option<String>,
    /// A database server process whose CPU time is reported (a peer's).
    db_pid: Option<u32>,
    /// A peer to load instead of Kefu (`--peer-*`, see `kefu-wsload/peer.rs`).
    peer: peer::Peer,
}

fn parse() -> anyhow::Result<Args> {
    let mut it = std::env::args().skip(1);
    let mode = match it.next().as_deref() {
        Some(m @ ("idle" | "latency" | "replies" | "throughput")) => m.to_owned(),
        _ => bail!("{USAGE}"),
    };
    let mut a = Args {
        mode,
        url: "ws://127.0.0.1:8080".into(),
        api: "http://127.0.0.1:8080".into(),
        email: String::new(),
        password: String::new(),
        token: None,
        connections: 1000,
        source: "127.0.0.1".into(),
        hold: 60,
        concurrency: 256,
        in_flight: 64,
        visitors: 1000,
        rate: 100.0,
        seconds: 10.0,
        warmup: true,
        analyze: None,
        agent_url: None,
        server_pid: None,
        pg: None,
        db_pid: None,
        peer: peer::Peer::default(),
    };
    while let Some(flag) = it.next() {
        let v = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--url" => a.url = v.trim_end_matches('/').to_owned(),
            "--api" => a.api = v.trim_end_matches('/').to_owned(),
            "--email" => a.email = v,
            "--password" => a.password = v,
            "--token" => a.token = Some(v),
            "--connections" => a.connections = v.parse()?,
            "--source" => a.source = v,
            "--hold" => a.hold = v.parse()?,
            "--concurrency" => a.concurrency = v.parse::<usize>()?.max(1),
            "--in-flight" => a.in_flight = v.parse::<usize>()?.max(1),
            "--visitors" => a.visitors = v.parse::<usize>()?.max(1),
            "--rate" => a.rate = v.parse()?,
            "--seconds" => a.seconds = v.parse()?,
            "--warmup" => a.warmup = v != "0",
            "--analyze" => a.analyze = Some(v),
            "--agent-url" => a.agent_url = Some(v.trim_end_matches('/').to_owned()),
            "--server-pid" => a.server_pid = Some(v.parse()?),
            "--pg" => a.pg = Some(v),
            "--db-pid" => a.db_pid = Some(v.parse()?),
            f if a.peer.flag(f, v.clone()) => {}
            other => bail!("unknown flag {other}\n{USAGE}"),
        }
    }
    let ip: std::net::IpAddr = a.source.parse().context("--source must be an IP address")?;
    if !ip.is_loopback() {
        bail!("--source must be a loopback address (127.0.0.0/8)");
    }
    if matches!(a.mode.as_str(), "latency" | "replies") && !(a.rate > 0.0 && a.seconds > 0.0) {
        bail!("--rate and --seconds must be positive");
    }
    Ok(a)
}

/// Small per-connection buffers: thousands of clients live in one process.
fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
        .max_message_size(Some(1 << 20))
        .max_frame_size(Some(1 << 20))
}

fn host_port(url: &str) -> anyhow::Result<std::net::SocketAddr> {
    let u = url::Url::parse(url)?;
    let host = u.host_str().context("URL without host")?;
    let port = u.port_or_known_default().context("URL without port")?;
    let addr: std::net::SocketAddr = format!("{host}:{port}")
        .parse()
        .context("use a numeric loopback address in --url")?;
    if !addr.ip().is_loopback() {
        bail!("only loopback targets are allowed");
    }
    Ok(addr)
}

/// Opens a WebSocket to `path` on `server`, from `source` (any free port).
async fn open_ws(
    server: std::net::SocketAddr,
    source: std::net::IpAddr,
    url: &str,
) -> anyhow::Result<Ws> {
    let sock = TcpSocket::new_v4()?;
    sock.bind(std::net::SocketAddr::new(source, 0))?;
    let stream = sock.connect(server).await?;
    stream.set_nodelay(true)?;
    let (ws, _) = client_async_with_config(url, stream, Some(ws_config())).await?;
    Ok(ws)
}

/// Sends `hello` and waits for `welcome`.
async fn hello(ws: &mut Ws, token: &str) -> anyhow::Result<()> {
    ws.send(Message::Text(
        json!({"type": "hello", "website_token": token})
            .to_string()
            .into(),
    ))
    .await?;
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => {
                let v: Value = serde_json::from_str(t.as_str())?;
                match v["type"].as_str() {
                    Some("welcome") => return Ok(()),
                    Some("error") => bail!("hello refused: {t}"),
                    _ => {}
                }
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e.into()),
            None => bail!("closed before welcome"),
        }
    }
}

/// Opens a widget connection and completes the hello, within [`CONNECT_TIMEOUT`].
async fn visitor(
    server: std::net::SocketAddr,
    source: std::net::IpAddr,
    url: &str,
    token: &str,
) -> anyhow::Result<Ws> {
    tokio::time::timeout(CONNECT_TIMEOUT, async {
        let mut ws = open_ws(server, source, url).await?;
        hello(&mut ws, token).await?;
        Ok(ws)
    })
    .await
    .context("connect timed out")?
}

fn rss_note() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .map(|l| l.split_whitespace().nth(1).unwrap_or("?").to_owned())
        })
        .map(|kb| format!("{kb} KiB"))
        .unwrap_or_else(|| "?".into())
}

#[derive(Default)]
struct IdleStats {
    open: AtomicUsize,
    failed: AtomicUsize,
    dropped: AtomicUsize,
}

async fn idle(a: Args) -> anyhow::Result<()> {
    let server = host_port(&a.url)?;
    let source: std::net::IpAddr = a.source.parse()?;
    let token = a.token.clone().context("idle needs --token")?;
    let url = format!("{}/ws/web_chat", a.url);
    let stats = Arc::new(IdleStats::default());
    let gate = Arc::new(Semaphore::new(a.concurrency));
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(a.hold);
    let errors = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut tasks = Vec::with_capacity(a.connections);
    for i in 0..a.connections {
        let permit = gate.clone().acquire_owned().await?;
        let (stats, url, token, errors) =
            (stats.clone(), url.clone(), token.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            let mut ws = match visitor(server, source, &url, &token).await {
                Ok(ws) => ws,
                Err(e) => {
                    stats.failed.fetch_add(1, Ordering::Relaxed);
                    let mut errs = errors.lock().await;
                    if errs.len() < 5 {
                        errs.push(format!("{e:#}"));
                    }
                    return;
                }
            };
            drop(permit);
            stats.open.fetch_add(1, Ordering::Relaxed);
            // Spread the pings over the interval so they do not arrive in one burst.
            let offset = Duration::from_millis((i as u64 * 7919) % PING_EVERY.as_millis() as u64);
            let mut next_ping = tokio::time::Instant::now() + offset;
            let alive = loop {
                tokio::select! {
                    _ = tokio::time::sleep_until(deadline) => break true,
                    _ = tokio::time::sleep_until(next_ping) => {
                        next_ping += PING_EVERY;
                        if ws.send(Message::Text(r#"{"type":"ping"}"#.into())).await.is_err() {
                            break false;
                        }
                    }
                    m = ws.next() => match m {
                        Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break false,
                        Some(Ok(_)) => {}
                    },
                }
            };
            stats.open.fetch_sub(1, Ordering::Relaxed);
            if alive {
                let _ = tokio::time::timeout(Duration::from_secs(5), ws.close(None)).await;
            } else {
                stats.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let report = |label: &str| {
        println!(
            "{label} t={:.0}s source={} open={} failed={} dropped={} client_rss={}",
            started.elapsed().as_secs_f64(),
            a.source,
            stats.open.load(Ordering::Relaxed),
            stats.failed.load(Ordering::Relaxed),
            stats.dropped.load(Ordering::Relaxed),
            rss_note(),
        );
    };
    // Wait until every connection attempt has finished.
    while stats.open.load(Ordering::Relaxed)
        + stats.failed.load(Ordering::Relaxed)
        + stats.dropped.load(Ordering::Relaxed)
        < a.connections
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    report("connected");
    let mut tick = tokio::time::interval_at(
        tokio::time::Instant::now() + Duration::from_secs(10),
        Duration::from_secs(10),
    );
    while tokio::time::Instant::now() < deadline {
        tokio::select! {
            _ = tick.tick() => report("holding"),
            _ = tokio::time::sleep_until(deadline) => {}
        }
    }
    report("final");
    for e in errors.lock().await.iter() {
        eprintln!("connect error: {e}");
    }
    for t in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(10), t).await;
    }
    Ok(())
}

async fn login(a: &Args) -> anyhow::Result<(String, String)> {
    let http = reqwest::Client::new();
    let r: Value = http
        .post(format!("{}/api/v1/auth/login", a.api))
        .json(&json!({"email": a.email, "password": a.password}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let agent_token = r["token"]
        .as_str()
        .context("login without token")?
        .to_owned();
    let website_token = match &a.token {
        Some(t) => t.clone(),
        None => {
            let r: Value = http
                .get(format!("{}/api/v1/inboxes", a.api))
                .bearer_auth(&agent_token)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            r["items"]
                .as_array()
                .and_then(|items| items.iter().find_map(|i| i["website_token"].as_str()))
                .context("no web chat inbox; pass --token")?
                .to_owned()
        }
    };
    Ok((agent_token, website_token))
}

/// Finds the message number in `wsl-<run>-<n>.` inside `text`.
fn marker(text: &str, prefix: &str) -> Option<usize> {
    let at = text.find(prefix)? + prefix.len();
    let digits: String = text[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

fn percentiles(label: &str, mut v: Vec<u64>) {
    if v.is_empty() {
        println!("{label}: no samples");
        return;
    }
    v.sort_unstable();
    let p = |q: f64| kefu_tests::quantile(&v, q).map_or(f64::NAN, |us| us as f64 / 1000.0);
    println!(
        "{label}: n={} p50={:.2}ms p90={:.2}ms p99={:.2}ms max={:.2}ms",
        v.len(),
        p(0.50),
        p(0.90),
        p(0.99),
        v[v.len() - 1] as f64 / 1000.0
    );
}

/// An open-loop schedule: `rate` sends a second from `begin`, each to a random target.
struct Schedule {
    begin: tokio::time::Instant,
    step: Duration,
    seed: u64,
    /// Sends that started more than 5 ms after their slot (the generator fell behind).
    late: usize,
}

impl Schedule {
    fn new(rate: f64, run: u32) -> Self {
        Self {
            begin: tokio::time::Instant::now(),
            step: Duration::from_secs_f64(1.0 / rate),
            seed: 0x9e37_79b9_7f4a_7c15u64 ^ u64::from(run),
            late: 0,
        }
    }

    /// Waits for send `n`'s slot and picks its target among `targets` (xorshift).
    async fn slot(&mut self, n: usize, targets: usize) -> usize {
        let at = self.begin + self.step.mul_f64(n as f64);
        let now = tokio::time::Instant::now();
        if at > now {
            tokio::time::sleep_until(at).await;
        } else if now - at > Duration::from_millis(5) {
            self.late += 1;
        }
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        (self.seed % targets.max(1) as u64) as usize
    }

    /// Seconds since the schedule began.
    fn elapsed(&self) -> f64 {
        self.begin.elapsed().as_secs_f64()
    }
}

struct Shared {
    start: Instant,
    /// Microseconds since `start` when message n was handed to its visitor's socket (0: not yet).
    sent_at: Vec<AtomicU64>,
    acks: Mutex<Vec<u64>>,
    errors: AtomicUsize,
    prefix: String,
}

async fn latency(a: Args) -> anyhow::Result<()> {
    let server = host_port(&a.url)?;
    let source: std::net::IpAddr = a.source.parse()?;
    let (agent_token, website_token) = login(&a).await?;
    let total = (a.rate * a.seconds).round() as usize;
    let run = std::process::id();
    let shared = Arc::new(Shared {
        start: Instant::now(),
        sent_at: (0..total).map(|_| AtomicU64::new(0)).collect(),
        acks: Mutex::new(Vec::with_capacity(total)),
        errors: AtomicUsize::new(0),
        prefix: format!("wsl-{run}-"),
    });

    // Visitors: each gets a queue of message numbers to send (u64::MAX = warm-up message).
    let url = format!("{}/ws/web_chat", a.url);
    let gate = Arc::new(Semaphore::new(a.concurrency));
    let mut connecting = Vec::with_capacity(a.visitors);
    for _ in 0..a.visitors {
        let permit = gate.clone().acquire_owned().await?;
        let (url, token) = (url.clone(), website_token.clone());
        connecting.push(tokio::spawn(async move {
            let ws = visitor(server, source, &url, &token).await;
            drop(permit);
            ws
        }));
    }
    let mut queues = Vec::with_capacity(a.visitors);
    let mut visitors = Vec::with_capacity(a.visitors);
    let mut failed = 0usize;
    let warmed = Arc::new(AtomicUsize::new(0));
    for (vi, c) in connecting.into_iter().enumerate() {
        let ws = match c.await? {
            Ok(ws) => ws,
            Err(e) => {
                if failed == 0 {
                    eprintln!("visitor connect failed: {e:#}");
                }
                failed += 1;
                continue;
            }
        };
        let (tx, rx) = mpsc::channel::<u64>(64);
        queues.push(tx);
        visitors.push(tokio::spawn(run_visitor(
            ws,
            rx,
            shared.clone(),
            vi,
            warmed.clone(),
        )));
    }
    println!(
        "visitors connected={} failed={failed} in {:.1}s",
        queues.len(),
        shared.start.elapsed().as_secs_f64()
    );
    if queues.is_empty() {
        bail!("no visitor could connect");
    }

    // The agent console.
    let agent_base = a.agent_url.as_deref().unwrap_or(&a.url);
    let agent_url = format!("{agent_base}/ws/agent?token={agent_token}");
    let agent_server = host_port(agent_base)?;
    let mut agent =
        tokio::time::timeout(CONNECT_TIMEOUT, open_ws(agent_server, source, &agent_url))
            .await
            .context("agent connect timed out")??;
    let received = Arc::new(AtomicUsize::new(0));
    let (lat_tx, mut lat_rx) = mpsc::unbounded_channel::<u64>();
    let agent_task = {
        let (shared, received) = (shared.clone(), received.clone());
        tokio::spawn(async move {
            let mut resyncs = 0u64;
            while let Some(m) = agent.next().await {
                let t = match m {
                    Ok(Message::Text(t)) => t,
                    Ok(Message::Close(_)) | Err(_) => break,
                    Ok(_) => continue,
                };
                let now = shared.start.elapsed().as_micros() as u64;
                if t.as_str().contains("\"resync\"") {
                    resyncs += 1;
                    continue;
                }
                if !t.as_str().contains("message.created") {
                    continue;
                }
                let Some(n) = marker(t.as_str(), &shared.prefix) else {
                    continue;
                };
                if let Some(sent) = shared.sent_at.get(n).map(|s| s.load(Ordering::Acquire))
                    && sent > 0
                {
                    received.fetch_add(1, Ordering::Relaxed);
                    let _ = lat_tx.send(now.saturating_sub(sent));
                }
            }
            resyncs
        })
    };
    // Give the agent socket a moment to subscribe before anything is sent.
    tokio::time::sleep(Duration::from_millis(300)).await;

    if a.warmup {
        let t0 = Instant::now();
        let n = queues.len();
        // At most `rate` warm-up messages per second, so the warm-up is no harsher than the run.
        let mut next = tokio::time::Instant::now();
        let step = Duration::from_secs_f64(1.0 / a.rate);
        for q in &queues {
            tokio::time::sleep_until(next).await;
            next += step;
            let _ = q.send(u64::MAX).await;
        }
        let until = tokio::time::Instant::now() + Duration::from_secs(60);
        while warmed.load(Ordering::Relaxed) < n && tokio::time::Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        println!(
            "warm-up: {}/{n} visitors' first message acknowledged in {:.1}s",
            warmed.load(Ordering::Relaxed),
            t0.elapsed().as_secs_f64()
        );
        shared.acks.lock().await.clear();
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    if let Some(url) = &a.analyze {
        let db = kefu_normalizer::Db::connect(url, 1).await?;
        kefu_tests::analyze(&db).await?;
        db.conn().clone().close().await?;
    }

    let meter = cost::Meter::new(a.server_pid, a.pg.as_deref()).await?;
    let before = meter.read().await?;
    // The open-loop schedule.
    let mut schedule = Schedule::new(a.rate, run);
    let mut overflow = 0usize;
    for n in 0..total {
        let v = schedule.slot(n, queues.len()).await;
        if queues[v].try_send(n as u64).is_err() {
            overflow += 1;
        }
    }
    let offered = schedule.elapsed();
    println!(
        "offered {total} messages in {offered:.2}s ({:.0}/s); scheduler late>5ms={} queue_overflow={overflow}",
        total as f64 / offered,
        schedule.late
    );

    // Drain: wait until every event arrived, at most 10 s.
    let until = tokio::time::Instant::now() + Duration::from_secs(10);
    while received.load(Ordering::Relaxed) < total - overflow && tokio::time::Instant::now() < until
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let after = meter.finish().await?;
    drop(queues);
    agent_task.abort();
    let resyncs = agent_task.await.unwrap_or(0);
    let mut lats = Vec::with_capacity(total);
    while let Ok(l) = lat_rx.try_recv() {
        lats.push(l);
    }
    for v in visitors {
        v.abort();
    }
    let acks = std::mem::take(&mut *shared.acks.lock().await);
    println!(
        "agent events received={}/{} resync_frames={resyncs} visitor_errors={} acks={}",
        lats.len(),
        total - overflow,
        shared.errors.load(Ordering::Relaxed),
        acks.len()
    );
    percentiles("visitor send -> agent message.created", lats);
    percentiles("visitor send -> ack", acks);
    println!("client_rss={}", rss_note());
    meter.report(&before, &after, total, "messages");
    Ok(())
}

async fn run_visitor(
    mut ws: Ws,
    mut rx: mpsc::Receiver<u64>,
    shared: Arc<Shared>,
    vi: usize,
    warmed: Arc<AtomicUsize>,
) {
    // client_id -> sent (microseconds since start); a visitor has few messages in flight.
    let mut pending: Vec<(String, u64)> = Vec::new();
    let mut next_ping = tokio::time::Instant::now() + PING_EVERY;
    let mut seq = 0u64;
    loop {
        tokio::select! {
            n = rx.recv() => {
                let Some(n) = n else { break };
                seq += 1;
                let client_id = format!("v{vi}-{seq}");
                let text = if n == u64::MAX {
                    format!("warm-up from visitor {vi}")
                } else {
                    format!("{}{n}. hello from visitor {vi}", shared.prefix)
                };
                let frame = json!({"type": "message", "client_id": client_id, "text": text}).to_string();
                let now = shared.start.elapsed().as_micros() as u64;
                if n != u64::MAX {
                    shared.sent_at[n as usize].store(now.max(1), Ordering::Release);
                }
                pending.push((if n == u64::MAX { format!("W{client_id}") } else { client_id }, now));
                if ws.send(Message::Text(frame.into())).await.is_err() {
                    shared.errors.fetch_add(1, Ordering::Relaxed);
                    break;
                }
            }
            _ = tokio::time::sleep_until(next_ping) => {
                next_ping += PING_EVERY;
                if ws.send(Message::Text(r#"{"type":"ping"}"#.into())).await.is_err() {
                    break;
                }
            }
            m = ws.next() => {
                let t = match m {
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                    Some(Ok(_)) => continue,
                };
                let Ok(v) = serde_json::from_str::<Value>(t.as_str()) else { continue };
                match v["type"].as_str() {
                    Some("ack") => {
                        let id = v["client_id"].as_str().unwrap_or_default();
                        let now = shared.start.elapsed().as_micros() as u64;
                        if let Some(i) = pending.iter().position(|(c, _)| c == id || c.strip_prefix('W') == Some(id)) {
                            let (c, sent) = pending.swap_remove(i);
                            if c.starts_with('W') {
                                warmed.fetch_add(1, Ordering::Relaxed);
                            } else {
                                shared.acks.lock().await.push(now.saturating_sub(sent));
                            }
                        }
                    }
                    Some("error") => {
                        shared.errors.fetch_add(1, Ordering::Relaxed);
                        eprintln!("visitor {vi}: {t}");
                    }
                    _ => {}
                }
            }
        }
    }
}

fn main() -> anyhow::Result<()> {
    let a = parse()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        if a.peer.is_set() {
            return match a.mode.as_str() {
                "idle" => peer::idle(a).await,
                "throughput" => peer::throughput(a).await,
                "replies" => peer::open_loop(a, true).await,
                _ => peer::open_loop(a, false).await,
            };
        }
        match a.mode.as_str() {
            "idle" => idle(a).await,
            "replies" => replies::replies(a).await,
            "throughput" => throughput::throughput(a).await,
            _ => latency(a).await,
        }
    })
}
