//! The same loads against a peer: any chat server whose visitors send messages with a plain
//! HTTP form post and whose agent console receives them over a WebSocket (and the other way for
//! replies), so Kefu can be measured side by side with a system a reader installs themselves.
//!
//! A peer is described by URL and form templates; `{visitor}` (the visitor's id,
//! `wsp-<run>-<i>`), `{text}`, `{token}` (`--peer-token`, the agent's credential) and `{ip}` (an
//! address unique to each request, for peers that limit messages per client address and trust
//! `X-Forwarded-For`) are replaced in every URL, form value and header:
//!
//! ```text
//! --peer-send URL --peer-send-form 'from_id={visitor}&content={text}'   visitor's message
//! --peer-agent-ws 'ws://…/agent?token={token}'                         agent console
//! --peer-reply URL --peer-reply-form 'to_id={visitor}&content={text}'   agent's reply
//! [--peer-visitor-init URL --peer-visitor-init-form …]                 once per visitor
//! [--peer-visitor-ws 'ws://…/visitor?id={visitor}']                     visitor's socket
//! [--peer-header 'Name: value' …] [--peer-ok SUBSTRING] [--peer-ping FRAME]
//! ```
//!
//! A request succeeded when its status is 2xx and, with `--peer-ok`, its body contains that
//! text (some peers answer refusals with 200). A message or reply is recognised on the receiving
//! socket by the marker its text carries, whatever the frame's shape.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::{SinkExt, StreamExt};
use tokio::sync::{Mutex, Semaphore, mpsc};
use tokio_tungstenite::tungstenite::Message;

use super::cost::Meter;
use super::{Args, CONNECT_TIMEOUT, PING_EVERY, Ws, host_port, marker, open_ws, percentiles};

/// How to talk to the peer (`--peer-*`).
#[derive(Debug, Default, Clone)]
pub struct Peer {
    pub send: Option<String>,
    pub send_form: String,
    pub agent_ws: Option<String>,
    pub reply: Option<String>,
    pub reply_form: String,
    pub visitor_init: Option<String>,
    pub visitor_init_form: String,
    pub visitor_ws: Option<String>,
    pub headers: Vec<String>,
    pub ok: Option<String>,
    pub ping: Option<String>,
    pub token: String,
}

impl Peer {
    /// Parses one `--peer-*` flag; false if `flag` is not one.
    pub fn flag(&mut self, flag: &str, v: String) -> bool {
        match flag {
            "--peer-send" => self.send = Some(v),
            "--peer-send-form" => self.send_form = v,
            "--peer-agent-ws" => self.agent_ws = Some(v),
            "--peer-reply" => self.reply = Some(v),
            "--peer-reply-form" => self.reply_form = v,
            "--peer-visitor-init" => self.visitor_init = Some(v),
            "--peer-visitor-init-form" => self.visitor_init_form = v,
            "--peer-visitor-ws" => self.visitor_ws = Some(v),
            "--peer-header" => self.headers.push(v),
            "--peer-ok" => self.ok = Some(v),
            "--peer-ping" => self.ping = Some(v),
            "--peer-token" => self.token = v,
            _ => return false,
        }
        true
    }

    /// True when any `--peer-*` flag names an endpoint: the run targets the peer.
    pub fn is_set(&self) -> bool {
        self.send.is_some() || self.visitor_ws.is_some() || self.reply.is_some()
    }

    fn fill(&self, template: &str, visitor: &str, text: &str, ip: &str) -> String {
        template
            .replace("{visitor}", visitor)
            .replace("{text}", text)
            .replace("{token}", &self.token)
            .replace("{ip}", ip)
    }

    /// Posts `form` (a `k=v&…` template) to `url`; Ok(Err(reason)) when the peer refused it.
    async fn post(
        &self,
        http: &reqwest::Client,
        url: &str,
        form: &str,
        visitor: &str,
        text: &str,
    ) -> anyhow::Result<Result<(), String>> {
        static NEXT_IP: AtomicU64 = AtomicU64::new(1);
        let n = NEXT_IP.fetch_add(1, Ordering::Relaxed);
        let ip = format!("10.{}.{}.{}", (n >> 16) & 255, (n >> 8) & 255, n & 255);
        let pairs: Vec<(String, String)> = form
            .split('&')
            .filter(|kv| !kv.is_empty())
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                (k.to_owned(), self.fill(v, visitor, text, &ip))
            })
            .collect();
        let mut req = http.post(self.fill(url, visitor, text, &ip)).form(&pairs);
        for h in &self.headers {
            let (name, value) = h
                .split_once(':')
                .context("--peer-header needs Name: value")?;
            req = req.header(name.trim(), self.fill(value.trim(), visitor, text, &ip));
        }
        let r = req.send().await?;
        let status = r.status();
        let body = r.text().await.unwrap_or_default();
        if !status.is_success() {
            return Ok(Err(format!("{status} {body}")));
        }
        if let Some(ok) = &self.ok
            && !body.contains(ok.as_str())
        {
            return Ok(Err(body));
        }
        Ok(Ok(()))
    }

    async fn ws(
        &self,
        source: std::net::IpAddr,
        template: &str,
        visitor: &str,
    ) -> anyhow::Result<Ws> {
        let url = self.fill(template, visitor, "", "");
        let server = host_port(&url)?;
        tokio::time::timeout(CONNECT_TIMEOUT, open_ws(server, source, &url))
            .await
            .context("connect timed out")?
    }

    fn ping_frame(&self) -> String {
        self.ping
            .clone()
            .unwrap_or_else(|| r#"{"type":"ping"}"#.to_owned())
    }
}

fn client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .build()?)
}

/// Registers `n` visitors (`--peer-visitor-init`) and, with `--peer-visitor-ws`, opens their
/// sockets; returns the visitors' ids and sockets (None without sockets).
async fn visitors(
    a: &Args,
    http: &reqwest::Client,
    with_sockets: bool,
) -> anyhow::Result<(Vec<String>, Vec<Option<Ws>>)> {
    let p = &a.peer;
    let source: std::net::IpAddr = a.source.parse()?;
    let run = std::process::id();
    let gate = Arc::new(Semaphore::new(a.concurrency));
    let mut tasks = Vec::with_capacity(a.visitors);
    for i in 0..a.visitors {
        let permit = gate.clone().acquire_owned().await?;
        let (p, http) = (p.clone(), http.clone());
        let id = format!("wsp-{run}-{i}");
        tasks.push(tokio::spawn(async move {
            let _permit = permit;
            if let Some(url) = &p.visitor_init
                && let Err(e) = p.post(&http, url, &p.visitor_init_form, &id, "").await?
            {
                bail!("visitor init refused: {e}");
            }
            let ws = match (&p.visitor_ws, with_sockets) {
                (Some(t), true) => Some(p.ws(source, t, &id).await?),
                _ => None,
            };
            Ok((id, ws))
        }));
    }
    let (mut ids, mut sockets, mut failed) = (Vec::new(), Vec::new(), 0usize);
    for t in tasks {
        match t.await? {
            Ok((id, ws)) => {
                ids.push(id);
                sockets.push(ws);
            }
            Err(e) => {
                if failed == 0 {
                    eprintln!("visitor failed: {e:#}");
                }
                failed += 1;
            }
        }
    }
    println!("visitors ready={} failed={failed}", ids.len());
    if ids.is_empty() {
        bail!("no visitor could be set up");
    }
    Ok((ids, sockets))
}

/// Keeps a socket open, answering nothing, pinging every [`PING_EVERY`]; every text frame goes
/// to `frames` with its arrival time.
async fn hold(mut ws: Ws, ping: String, frames: Option<mpsc::UnboundedSender<(Instant, String)>>) {
    let mut next_ping = tokio::time::Instant::now() + PING_EVERY;
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(next_ping) => {
                next_ping += PING_EVERY;
                if ws.send(Message::Text(ping.clone().into())).await.is_err() {
                    break;
                }
            }
            m = ws.next() => match m {
                Some(Ok(Message::Text(t))) => {
                    if let Some(f) = &frames {
                        let _ = f.send((Instant::now(), t.as_str().to_owned()));
                    }
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
        }
    }
}

/// `throughput` against the peer: closed-loop form posts, `--in-flight` at a time.
pub async fn throughput(a: Args) -> anyhow::Result<()> {
    let p = a.peer.clone();
    let send = p.send.clone().context("throughput needs --peer-send")?;
    let http = client()?;
    let (ids, _) = visitors(&a, &http, false).await?;
    let ids = Arc::new(ids);
    // The warm-up: each visitor's first message, closed loop.
    let t0 = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let mut warm = Vec::new();
    for _ in 0..a.in_flight {
        let (p, http, ids, next, send) = (
            p.clone(),
            http.clone(),
            ids.clone(),
            next.clone(),
            send.clone(),
        );
        warm.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(id) = ids.get(i) else { break };
                if let Ok(Err(e)) = p.post(&http, &send, &p.send_form, id, "hello").await {
                    eprintln!("warm-up refused: {e}");
                }
            }
        }));
    }
    for w in warm {
        w.await?;
    }
    let warm = t0.elapsed().as_secs_f64();
    println!(
        "warm-up: {} first messages in {warm:.1}s ({:.0}/s)",
        ids.len(),
        ids.len() as f64 / warm
    );

    let meter = Meter::new(a.server_pid, a.pg.as_deref())
        .await?
        .with_database_pid(a.db_pid);
    let before = meter.read().await?;
    let run = std::process::id();
    let begin = Instant::now();
    let deadline = begin + Duration::from_secs_f64(a.seconds);
    let seq = Arc::new(AtomicU64::new(ids.len() as u64));
    let mut lanes = Vec::new();
    for li in 0..a.in_flight {
        let (p, http, ids, seq, send) = (
            p.clone(),
            http.clone(),
            ids.clone(),
            seq.clone(),
            send.clone(),
        );
        lanes.push(tokio::spawn(async move {
            let (mut acks, mut errors) = (Vec::new(), 0usize);
            let mut vi = li;
            while Instant::now() < deadline {
                let n = seq.fetch_add(1, Ordering::Relaxed);
                let id = &ids[vi % ids.len()];
                vi += a.in_flight;
                let t = Instant::now();
                match p
                    .post(&http, &send, &p.send_form, id, &format!("wst-{run}-{n}"))
                    .await
                {
                    Ok(Ok(())) => acks.push(t.elapsed().as_micros() as u64),
                    Ok(Err(e)) => {
                        errors += 1;
                        if errors <= 3 {
                            eprintln!("lane {li}: {e}");
                        }
                    }
                    Err(e) => {
                        errors += 1;
                        if errors <= 3 {
                            eprintln!("lane {li}: {e:#}");
                        }
                    }
                }
            }
            (acks, errors)
        }));
    }
    let (mut acks, mut errors) = (Vec::new(), 0usize);
    for l in lanes {
        let (a, e) = l.await?;
        acks.extend(a);
        errors += e;
    }
    let elapsed = begin.elapsed().as_secs_f64();
    let after = meter.finish().await?;
    println!(
        "acknowledged {} messages in {elapsed:.2}s with {} in flight: {:.0} msg/s; errors={errors} failed_lanes=0",
        acks.len(),
        a.in_flight,
        acks.len() as f64 / elapsed
    );
    let count = acks.len();
    percentiles("visitor send -> ack", acks);
    meter.report(&before, &after, count, "messages");
    Ok(())
}

/// Times between a request's send and a marked frame's arrival.
struct Clock {
    start: Instant,
    sent_at: Vec<AtomicU64>,
    prefix: String,
}

impl Clock {
    fn new(total: usize, prefix: String) -> Arc<Self> {
        Arc::new(Self {
            start: Instant::now(),
            sent_at: (0..total).map(|_| AtomicU64::new(0)).collect(),
            prefix,
        })
    }

    fn mark_sent(&self, n: usize) {
        let now = self.start.elapsed().as_micros() as u64;
        self.sent_at[n].store(now.max(1), Ordering::Release);
    }

    /// The latency of the first frame carrying message n's marker.
    fn arrived(&self, at: Instant, frame: &str) -> Option<u64> {
        let n = marker(frame, &self.prefix)?;
        let sent = self.sent_at.get(n)?.swap(0, Ordering::AcqRel);
        (sent > 0).then(|| (at - self.start).as_micros() as u64 - sent)
    }
}

/// `latency` (visitor → agent, `replies` false) or `replies` (agent → visitor) against the
/// peer: open-loop form posts at `--rate`, timed until the marked frame reaches the other side.
pub async fn open_loop(a: Args, replies: bool) -> anyhow::Result<()> {
    let p = a.peer.clone();
    let source: std::net::IpAddr = a.source.parse()?;
    let http = client()?;
    let (url, form) = if replies {
        (
            p.reply.clone().context("replies needs --peer-reply")?,
            p.reply_form.clone(),
        )
    } else {
        (
            p.send.clone().context("latency needs --peer-send")?,
            p.send_form.clone(),
        )
    };
    if replies && p.visitor_ws.is_none() {
        bail!("replies needs --peer-visitor-ws");
    }
    let (ids, sockets) = visitors(&a, &http, true).await?;
    let total = (a.rate * a.seconds).round() as usize;
    let run = std::process::id();
    let clock = Clock::new(total, format!("wsp-{run}-m"));
    let (frames_tx, mut frames_rx) = mpsc::unbounded_channel::<(Instant, String)>();
    let mut held = Vec::new();
    for ws in sockets.into_iter().flatten() {
        let tx = replies.then(|| frames_tx.clone());
        held.push(tokio::spawn(hold(ws, p.ping_frame(), tx)));
    }
    if !replies {
        let t = p
            .agent_ws
            .clone()
            .context("latency needs --peer-agent-ws")?;
        let ws = p.ws(source, &t, "").await.context("agent console")?;
        held.push(tokio::spawn(hold(
            ws,
            p.ping_frame(),
            Some(frames_tx.clone()),
        )));
    }
    drop(frames_tx);
    if a.warmup && !replies {
        // Each visitor's first message, at most `rate` per second, unmeasured.
        let step = Duration::from_secs_f64(1.0 / a.rate);
        let t0 = Instant::now();
        let mut next = tokio::time::Instant::now();
        let mut posts = Vec::new();
        for id in &ids {
            tokio::time::sleep_until(next).await;
            next += step;
            let (p, http, url, form, id) = (
                p.clone(),
                http.clone(),
                url.clone(),
                form.clone(),
                id.clone(),
            );
            posts.push(tokio::spawn(async move {
                let _ = p.post(&http, &url, &form, &id, "warm-up").await;
            }));
        }
        for t in posts {
            t.await?;
        }
        println!(
            "warm-up: {} first messages in {:.1}s",
            ids.len(),
            t0.elapsed().as_secs_f64()
        );
    }
    // Frames that arrived so far are the warm-up's.
    tokio::time::sleep(Duration::from_secs(1)).await;
    while frames_rx.try_recv().is_ok() {}
    let lats = Arc::new(Mutex::new(Vec::with_capacity(total)));
    let received = Arc::new(AtomicUsize::new(0));
    let reader = {
        let (clock, lats, received) = (clock.clone(), lats.clone(), received.clone());
        tokio::spawn(async move {
            while let Some((at, frame)) = frames_rx.recv().await {
                if let Some(l) = clock.arrived(at, &frame) {
                    received.fetch_add(1, Ordering::Relaxed);
                    lats.lock().await.push(l);
                }
            }
        })
    };

    let meter = Meter::new(a.server_pid, a.pg.as_deref())
        .await?
        .with_database_pid(a.db_pid);
    let before = meter.read().await?;
    let answers = Arc::new(Mutex::new(Vec::with_capacity(total)));
    let failures = Arc::new(AtomicUsize::new(0));
    let mut schedule = super::Schedule::new(a.rate, run);
    let mut posts = Vec::with_capacity(total);
    for n in 0..total {
        let id = ids[schedule.slot(n, ids.len()).await].clone();
        let (p, http, url, form, clock, answers, failures) = (
            p.clone(),
            http.clone(),
            url.clone(),
            form.clone(),
            clock.clone(),
            answers.clone(),
            failures.clone(),
        );
        posts.push(tokio::spawn(async move {
            let text = format!("{}{n}. hello", clock.prefix);
            clock.mark_sent(n);
            let t = Instant::now();
            match p.post(&http, &url, &form, &id, &text).await {
                Ok(Ok(())) => answers.lock().await.push(t.elapsed().as_micros() as u64),
                Ok(Err(e)) => {
                    if failures.fetch_add(1, Ordering::Relaxed) < 3 {
                        eprintln!("message {n}: {e}");
                    }
                }
                Err(e) => {
                    if failures.fetch_add(1, Ordering::Relaxed) < 3 {
                        eprintln!("message {n}: {e:#}");
                    }
                }
            }
        }));
    }
    let offered = schedule.elapsed();
    println!(
        "offered {total} messages in {offered:.2}s ({:.0}/s); scheduler late>5ms={}",
        total as f64 / offered,
        schedule.late
    );
    let until = tokio::time::Instant::now() + Duration::from_secs(10);
    while received.load(Ordering::Relaxed) < total && tokio::time::Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for p in posts {
        let _ = p.await;
    }
    let after = meter.finish().await?;
    for h in &held {
        h.abort();
    }
    reader.abort();
    let lats = std::mem::take(&mut *lats.lock().await);
    let who = if replies {
        "visitor messages"
    } else {
        "agent events"
    };
    println!(
        "{who} received={}/{total} failed_posts={}",
        lats.len(),
        failures.load(Ordering::Relaxed)
    );
    if replies {
        percentiles("agent reply -> visitor message", lats);
        percentiles(
            "agent reply -> 201",
            std::mem::take(&mut *answers.lock().await),
        );
    } else {
        percentiles("visitor send -> agent message.created", lats);
        percentiles(
            "visitor send -> ack",
            std::mem::take(&mut *answers.lock().await),
        );
    }
    meter.report(
        &before,
        &after,
        total,
        if replies { "replies" } else { "messages" },
    );
    Ok(())
}

/// `idle` against the peer: `--connections` visitor sockets (`--peer-visitor-ws`, after
/// `--peer-visitor-init`) held for `--hold` seconds.
pub async fn idle(a: Args) -> anyhow::Result<()> {
    let mut a = a;
    a.visitors = a.connections;
    let http = client()?;
    let started = Instant::now();
    let (_, sockets) = visitors(&a, &http, true).await?;
    let open = sockets.iter().flatten().count();
    println!(
        "connected t={:.0}s source={} open={open}",
        started.elapsed().as_secs_f64(),
        a.source
    );
    let ping = a.peer.ping_frame();
    let alive = Arc::new(AtomicUsize::new(open));
    let mut tasks = Vec::new();
    for ws in sockets.into_iter().flatten() {
        let (ping, alive) = (ping.clone(), alive.clone());
        tasks.push(tokio::spawn(async move {
            hold(ws, ping, None).await;
            alive.fetch_sub(1, Ordering::Relaxed);
        }));
    }
    tokio::time::sleep(Duration::from_secs(a.hold)).await;
    let still = alive.load(Ordering::Relaxed);
    println!(
        "final t={:.0}s source={} open={still} failed={} dropped={} client_rss={}",
        started.elapsed().as_secs_f64(),
        a.source,
        a.connections - open,
        open - still,
        super::rss_note()
    );
    for t in tasks {
        t.abort();
    }
    Ok(())
}
