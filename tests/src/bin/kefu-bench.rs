//! `kefu-bench`: load generator for Kefu's ingest pipeline.
//!
//! ```text
//! kefu-bench ingest --database-url postgres://postgres@127.0.0.1/postgres --messages 20000 \
//!     --conversations 500 --concurrency 64 [--rate 3000]
//! ```
//!
//! Creates a fresh database (a new PostgreSQL database next to the one named, or a SQLite file
//! in a temporary folder), one inbox and `--conversations` customers, then drives
//! `Normalizer::ingest` — the same call every channel's ingress makes — from `--concurrency`
//! tasks. Without `--rate` it measures the maximum throughput (closed loop); with `--rate` it
//! offers that many messages per second (open loop) and reports the latency the customers see,
//! including time spent waiting for a free task. Every message is a durable commit.
//!
//! `kefu-bench routing` measures the dispatcher instead (see `kefu-bench/routing.rs`),
//! `kefu-bench wechat` encrypted WeChat callbacks through a real server (`kefu-bench/wechat.rs`)
//! `kefu-bench imap` mail taken in from a real Dovecot (see `kefu-bench/imap.rs`) and
//! `kefu-bench idle` the CPU an idle release `kefu` burns (see `kefu-bench/idle.rs`) and
//! `kefu-bench search` full-text search over a million messages (see `kefu-bench/search.rs`),
//! `kefu-bench bus` events per second through the Redis event bus (`kefu-bench/bus.rs`)
//! `kefu-bench login` legitimate logins and ingest under a login flood (see
//! `kefu-bench/login.rs`) and `kefu-bench faq` the FAQ bot's accuracy on its evaluation set and
//! the time it adds per message (see `kefu-bench/faq.rs`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use kefu_channel::{Content, ExternalIdentity, InboundEnvelope, ThreadHints};
use kefu_normalizer::{Db, Limits, Normalizer};
use kefu_tests::{Backend, fresh_database};
use tokio::sync::Semaphore;

#[path = "kefu-bench/routing.rs"]
mod routing;
#[path = "kefu-bench/wechat.rs"]
mod wechat;

#[path = "kefu-bench/imap.rs"]
mod imap;

#[path = "kefu-bench/idle.rs"]
mod idle;

#[path = "kefu-bench/search.rs"]
mod search;

#[path = "kefu-bench/list.rs"]
mod list;

#[path = "kefu-bench/bus.rs"]
mod bus;
#[path = "kefu-bench/faq.rs"]
mod faq;
#[path = "kefu-bench/login.rs"]
mod login;
#[path = "kefu-bench/record_cost.rs"]
mod record_cost;
#[path = "kefu-bench/reports.rs"]
mod reports;

/// The email channel's test servers (a private Dovecot), shared with its tests.
#[path = "../../../channels/email/tests/support/mod.rs"]
mod email_support;

struct Args {
    database_url: String,
    messages: usize,
    conversations: usize,
    concurrency: usize,
    rate: Option<f64>,
    pool: u32,
    metrics: bool,
    fresh: bool,
    relay: Option<record_cost::Relay>,
}

fn parse() -> anyhow::Result<Args> {
    let mut a = Args {
        database_url: "sqlite".into(),
        messages: 10_000,
        conversations: 500,
        concurrency: 64,
        rate: None,
        pool: 16,
        metrics: false,
        fresh: false,
        relay: None,
    };
    let mut it = std::env::args().skip(1);
    match it.next().as_deref() {
        Some("ingest") => {}
        _ => bail!(
            "usage: kefu-bench routing … | kefu-bench search … | kefu-bench list … | kefu-bench bus … | kefu-bench login … | kefu-bench reports … | kefu-bench faq … | kefu-bench wechat … | kefu-bench imap … | kefu-bench idle … | kefu-bench ingest [--database-url URL|sqlite] [--messages N] [--conversations N] [--concurrency N] [--rate PER_SEC] [--pool N] [--metrics true] [--fresh true] [--relay plain|metrics]"
        ),
    }
    while let Some(flag) = it.next() {
        let v = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--database-url" => a.database_url = v,
            "--messages" => a.messages = v.parse()?,
            "--conversations" => a.conversations = v.parse()?,
            "--concurrency" => a.concurrency = v.parse()?,
            "--rate" => a.rate = Some(v.parse()?),
            "--pool" => a.pool = v.parse()?,
            "--metrics" => a.metrics = v.parse()?,
            "--fresh" => a.fresh = v.parse()?,
            "--relay" => a.relay = Some(v.parse()?),
            other => bail!("unknown flag {other}"),
        }
    }
    Ok(a)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match std::env::args().nth(1).as_deref() {
        Some("routing") => return routing::main().await,
        Some("wechat") => return wechat::main().await,
        Some("imap") => return imap::main().await,
        Some("idle") => return idle::main().await,
        Some("search") => return search::main().await,
        Some("list") => return list::main().await,
        Some("bus") => return bus::main().await,
        Some("login") => return login::main().await,
        Some("reports") => return reports::main().await,
        Some("faq") => return faq::main().await,
        _ => {}
    }
    let args = parse()?;
    let dir = tempfile::tempdir()?;
    let backend = Backend::from_arg(&args.database_url);
    let url = fresh_database(&backend, dir.path()).await?;
    let db = Db::connect(&url, args.pool).await?;
    db.migrate().await?;
    let inbox = kefu_tests::bench_inbox(&db, "bench", "loopback").await?;
    let normalizer = Normalizer::new(db.clone(), Limits::default());
    let envelope = |i: usize| InboundEnvelope {
        inbox_id: inbox.id,
        // With `--fresh`, every measured message comes from a new customer and opens a
        // conversation (the warm-ups' customers are the first `conversations`).
        sender: ExternalIdentity::new(format!(
            "customer-{}",
            if args.fresh && (args.conversations..args.conversations + args.messages).contains(&i) {
                i
            } else {
                i % args.conversations
            }
        )),
        dedupe_key: Some(format!("bench-{i}")),
        thread: ThreadHints::default(),
        content: Content::text(format!(
            "Hello, this is message {i}; my order number is {}.",
            100_000 + i
        )),
        sent_at: None,
    };

    // Warm-up: every customer's first message creates the contact and the conversation.
    for i in 0..args.conversations {
        normalizer.ingest(envelope(i)).await?;
    }
    kefu_tests::analyze(&db).await?;
    // Then one more message from every customer at once, not measured either: a server that
    // has been running has prepared the grouped path's statements on its connections; this
    // one prepares them now, so the clock measures the steady state, not the first groups.
    let second_round = (0..args.conversations).map(|c| {
        let (normalizer, env) = (
            normalizer.clone(),
            envelope(args.conversations + args.messages + c),
        );
        async move { normalizer.ingest(env).await }
    });
    for r in futures::future::join_all(second_round).await {
        r?;
    }
    if args.metrics || args.relay.is_some() {
        // The warm-up's facts are written now, so the measured drain (or relay) holds the
        // timed messages' events only.
        record_cost::drain(&db).await?;
    }

    // With `--relay`, the outbox is relayed while the messages come in, as a server does, and
    // the clock stops once it has caught up: the throughput then includes relaying (and, with
    // `metrics`, writing metric events), so two runs tell what metric writing costs ingest.
    let relay = args.relay.map(|kind| record_cost::spawn(&db, kind));
    let sem = Arc::new(Semaphore::new(args.concurrency));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(args.messages);
    for n in 0..args.messages {
        let i = args.conversations + n;
        let offered = match args.rate {
            Some(rate) => {
                let at = started + Duration::from_secs_f64(n as f64 / rate);
                tokio::time::sleep_until(at.into()).await;
                at
            }
            None => Instant::now(),
        };
        let permit = sem.clone().acquire_owned().await?;
        let (normalizer, env) = (normalizer.clone(), envelope(i));
        tasks.push(tokio::spawn(async move {
            let r = normalizer.ingest(env).await;
            drop(permit);
            r.map(|_| offered.elapsed())
        }));
    }
    let mut lat = Vec::with_capacity(tasks.len());
    for t in tasks {
        lat.push(t.await??);
    }
    if let Some((stop, task)) = relay {
        stop.cancel();
        task.await?;
    }
    let elapsed = started.elapsed();
    lat.sort();
    let pct = |p: f64| kefu_tests::quantile(&lat, p).map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0);
    println!(
        "backend={} messages={} conversations={} concurrency={} rate={} pool={} relay={}",
        backend.label(),
        args.messages,
        args.conversations,
        args.concurrency,
        args.rate
            .map(|r| r.to_string())
            .unwrap_or_else(|| "max".into()),
        args.pool,
        args.relay.map_or("none", record_cost::Relay::as_str)
    );
    println!(
        "throughput={:.0} msg/s  latency_ms p50={:.2} p90={:.2} p99={:.2} max={:.2}",
        args.messages as f64 / elapsed.as_secs_f64(),
        pct(0.50),
        pct(0.90),
        pct(0.99),
        pct(1.0)
    );
    if args.metrics {
        let (spent, events) = record_cost::drain(&db).await?;
        println!(
            "metrics: {events} events recorded in {:.0} ms = {:.1} % of the ingest time ({:.0} ms)",
            spent.as_secs_f64() * 1000.0,
            spent.as_secs_f64() / elapsed.as_secs_f64() * 100.0,
            elapsed.as_secs_f64() * 1000.0
        );
    }
    drop(normalizer);
    kefu_tests::drop_fresh_database(&backend, &db, &url).await?;
    Ok(())
}
