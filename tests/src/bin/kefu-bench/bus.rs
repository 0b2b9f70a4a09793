//! `kefu-bench bus`: events per second through the Redis event bus.
//!
//! ```text
//! kefu-bench bus --redis-url redis://127.0.0.1:6379 [--events 100000] [--batch 500] [--nodes 3]
//! ```
//!
//! Starts `--nodes` [`RedisBus`]es in this process, as that many nodes would (each with its own
//! subscription), in a fresh namespace. One of them publishes `--events` `message.created`
//! events in batches of `--batch` (as the relay does), and the run ends when every node's
//! subscriber has received and decoded all of them. It reports events per second end to end
//! (publish, Redis, every node's decode) and, apart, what decoding alone costs one node per
//! event: the work one channel for all events asks of every node.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use kefu_normalizer::events::{decode_wire, encode_wire};
use kefu_normalizer::{Event, EventBus, EventData, EventType, RedisBus};
use tokio_util::sync::CancellationToken;

/// A reply with an attachment, as `message.created` carries it.
const MESSAGE: &str = r#"{"content":{"attachments":[{"id":9,"mime":"application/pdf","name":"label.pdf","size":2048,"url":null}],"text":"您好，您的订单已经发货，快递单号是 SF1234567890，预计明天送达。"},"conversation_id":7,"created_at":"2024-04-25T09:16:40.123Z","delivery":{"attempts":0,"status":"pending"},"direction":"outbound","id":11,"private":false,"sender":{"id":3,"name":"Ada","type":"agent"},"seq":4}"#;

struct Args {
    redis_url: String,
    events: usize,
    batch: usize,
    nodes: usize,
}

fn parse() -> anyhow::Result<Args> {
    let mut a = Args {
        redis_url: "redis://127.0.0.1:6379".into(),
        events: 100_000,
        batch: 500,
        nodes: 3,
    };
    let mut it = std::env::args().skip(2);
    while let Some(flag) = it.next() {
        let v = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--redis-url" => a.redis_url = v,
            "--events" => a.events = v.parse()?,
            "--batch" => a.batch = v.parse()?,
            "--nodes" => a.nodes = v.parse()?,
            other => bail!("unknown flag {other}"),
        }
    }
    if a.batch == 0 || a.nodes == 0 {
        bail!("--batch and --nodes must be at least 1");
    }
    Ok(a)
}

pub async fn main() -> anyhow::Result<()> {
    let args = parse()?;
    let data = EventData::decode(EventType::MessageCreated, serde_json::from_str(MESSAGE)?)?;
    let events: Vec<Arc<Event>> = (0..args.events)
        .map(|i| {
            let id = i64::try_from(i).unwrap_or(i64::MAX);
            Arc::new(Event {
                id,
                timestamp: chrono::Utc::now(),
                conversation_id: Some(id % 1000),
                data: data.clone(),
            })
        })
        .collect();

    // Decoding alone, on one core: what every node pays per event.
    let encoded: Vec<Vec<u8>> = events
        .iter()
        .map(|e| encode_wire(e))
        .collect::<Result<_, _>>()?;
    let bytes: usize = encoded.iter().map(Vec::len).sum();
    let started = Instant::now();
    for b in &encoded {
        std::hint::black_box(decode_wire(b)?);
    }
    let decode = started.elapsed();

    let shutdown = CancellationToken::new();
    let namespace = format!(
        "kefu-bench-{}",
        kefu_normalizer::token::random(8).to_lowercase()
    );
    let mut buses = Vec::new();
    for _ in 0..args.nodes {
        let bus = RedisBus::start(
            &args.redis_url,
            &namespace,
            args.events + 16,
            shutdown.clone(),
        )?;
        if !bus.wait_subscribed(Duration::from_secs(5)).await {
            bail!("Redis at {} did not answer", args.redis_url);
        }
        buses.push(bus);
    }
    let mut receivers = buses.iter().map(|b| b.subscribe()).collect::<Vec<_>>();
    let expected = args.events;
    let waiters: Vec<_> = receivers
        .drain(..)
        .map(|mut rx| {
            tokio::spawn(async move {
                for _ in 0..expected {
                    rx.recv().await?;
                }
                Ok::<_, tokio::sync::broadcast::error::RecvError>(Instant::now())
            })
        })
        .collect();
    let started = Instant::now();
    for chunk in events.chunks(args.batch) {
        buses[0].publish_batch(chunk).await;
    }
    let published = started.elapsed();
    let mut last = started;
    for w in waiters {
        last = last.max(w.await??);
    }
    let total = last - started;
    shutdown.cancel();
    if !buses[0].health().ok {
        bail!(
            "the bus fell back to local delivery: {:?}",
            buses[0].health()
        );
    }

    let per_sec = |d: Duration| args.events as f64 / d.as_secs_f64();
    println!(
        "bus: {} events of {} bytes on average, batches of {}, {} nodes",
        args.events,
        bytes / args.events.max(1),
        args.batch,
        args.nodes
    );
    println!(
        "  published in {:.2} s ({:.0} events/s); received and decoded by every node in {:.2} s ({:.0} events/s)",
        published.as_secs_f64(),
        per_sec(published),
        total.as_secs_f64(),
        per_sec(total)
    );
    println!(
        "  decoding alone: {:.1} µs per event on one core ({:.0} events/s)",
        decode.as_secs_f64() * 1e6 / args.events as f64,
        per_sec(decode)
    );
    Ok(())
}
