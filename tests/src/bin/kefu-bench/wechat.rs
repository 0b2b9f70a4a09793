//! `kefu-bench wechat`: encrypted WeChat Official Account callbacks through a real Kefu server.
//!
//! ```text
//! kefu-bench wechat [--database-url postgres://postgres@127.0.0.1/postgres|sqlite]
//!     [--callbacks 20000] [--openids 2000] [--concurrency 64] [--rate 3000] [--pool 32]
//! ```
//!
//! Starts Kefu (the same server as `kefu serve`, in process, on port 0) on a fresh database,
//! creates a `wechat` inbox in safe mode (the Tencent sample's token, EncodingAESKey and
//! AppID), and POSTs callbacks exactly as WeChat sends them: text messages from `--openids`
//! customers with unique MsgIds, each AES-encrypted and signed (`signature` and
//! `msg_signature`). The bodies are encrypted before the clock starts — WeChat's servers do
//! that work, not Kefu's. Each customer's first message (which creates the contact and the
//! conversation) is sent before the clock starts too, as in `kefu-bench ingest`.
//!
//! `--concurrency` HTTP clients send; without `--rate` they send as fast as Kefu answers
//! (closed loop), with `--rate` callbacks are offered at that rate (open loop) and latency
//! counts from the moment a callback was due, including waiting for a free client. Every
//! callback must be answered `success`, which Kefu does only after the message is committed;
//! at the end the stored messages are counted.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use kefu_channel_wechat::crypto::{MsgCrypt, signature};
use kefu_normalizer::entity::message;
use kefu_tests::{Backend, TestApp};
use reqwest::Method;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::json;
use tokio::sync::Semaphore;

// Tencent's official sample account (test vector W1).
const TOKEN: &str = "QDG6eK";
const AES_KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
const APP_ID: &str = "wx5823bf96d3bd56c7";

struct Args {
    database_url: String,
    callbacks: usize,
    openids: usize,
    concurrency: usize,
    rate: Option<f64>,
    pool: u32,
}

fn parse() -> anyhow::Result<Args> {
    let mut a = Args {
        database_url: "sqlite".into(),
        callbacks: 20_000,
        openids: 2_000,
        concurrency: 64,
        rate: None,
        pool: 32,
    };
    let mut it = std::env::args().skip(2);
    while let Some(flag) = it.next() {
        let v = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--database-url" => a.database_url = v,
            "--callbacks" => a.callbacks = v.parse()?,
            "--openids" => a.openids = v.parse()?,
            "--concurrency" => a.concurrency = v.parse()?,
            "--rate" => a.rate = Some(v.parse()?),
            "--pool" => a.pool = v.parse()?,
            other => bail!(
                "unknown flag {other}; usage: kefu-bench wechat [--database-url URL|sqlite] [--callbacks N] [--openids N] [--concurrency N] [--rate PER_SEC] [--pool N]"
            ),
        }
    }
    if a.openids == 0 || a.concurrency == 0 || a.rate.is_some_and(|r| r <= 0.0) {
        bail!("--openids, --concurrency and --rate must be positive");
    }
    Ok(a)
}

/// One callback as WeChat sends it: the query string and the encrypted body.
struct Callback {
    url: String,
    body: String,
}

fn callbacks(
    base: &str,
    inbox: i64,
    range: std::ops::Range<usize>,
    openids: usize,
) -> anyhow::Result<Vec<Callback>> {
    let crypt = MsgCrypt::new(TOKEN, AES_KEY, APP_ID)?;
    let now = chrono::Utc::now().timestamp().to_string();
    Ok(range
        .map(|i| {
            let openid = format!("oBench{:06}", i % openids);
            let nonce = (1_000_000_000 + i).to_string();
            let plain = format!(
                "<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName>\
                 <FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{now}</CreateTime>\
                 <MsgType><![CDATA[text]]></MsgType>\
                 <Content><![CDATA[你好，我的订单 {} 什么时候发货？]]></Content>\
                 <MsgId>{}</MsgId></xml>",
                100_000 + i,
                7_000_000_000_000_000u64 + i as u64
            );
            let encrypt = crypt.encrypt(&plain);
            let msg_signature = crypt.msg_signature(&now, &nonce, &encrypt);
            let sig = signature(&[TOKEN, &now, &nonce]);
            Callback {
                url: format!(
                    "{base}/channels/wechat/{inbox}?signature={sig}&timestamp={now}&nonce={nonce}\
                     &openid={openid}&encrypt_type=aes&msg_signature={msg_signature}"
                ),
                body: format!(
                    "<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName>\
                     <Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
                ),
            }
        })
        .collect())
}

async fn post(client: &reqwest::Client, cb: &Callback) -> anyhow::Result<()> {
    let resp = client.post(&cb.url).body(cb.body.clone()).send().await?;
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    if status != reqwest::StatusCode::OK || text != "success" {
        bail!("callback answered {status}: {text}");
    }
    Ok(())
}

/// Milliseconds at quantile `p` of sorted durations.
fn pct(sorted: &[Duration], p: f64) -> f64 {
    kefu_tests::quantile(sorted, p).map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
}

pub async fn main() -> anyhow::Result<()> {
    let args = parse()?;
    let backend = Backend::from_arg(&args.database_url);
    let pool = args.pool;
    let app = TestApp::spawn_with(&backend, |c| c.database_max_connections = pool).await;
    let (s, inbox) = app
        .admin(
            Method::POST,
            "/api/v1/inboxes",
            Some(
                json!({"name": "bench", "channel": {"type": "wechat", "app_id": APP_ID,
                "app_secret": "unused", "token": TOKEN, "encoding_aes_key": AES_KEY,
                "api_base": "http://127.0.0.1:9"}}),
            ),
        )
        .await;
    if s != reqwest::StatusCode::CREATED {
        bail!("cannot create the inbox: {inbox}");
    }
    let inbox = inbox["id"].as_i64().context("inbox id")?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .timeout(Duration::from_secs(30))
        .build()?;

    // Warm-up: each customer's first message, concurrently, before the clock starts.
    let warm = callbacks(&app.base, inbox, 0..args.openids, args.openids)?;
    let warm_started = Instant::now();
    run(&client, warm, args.concurrency, None).await?;
    let warm_rate = args.openids as f64 / warm_started.elapsed().as_secs_f64();
    kefu_tests::analyze(&app.state.db).await?;

    let load = callbacks(
        &app.base,
        inbox,
        args.openids..args.openids + args.callbacks,
        args.openids,
    )?;
    let started = Instant::now();
    let mut lat = run(&client, load, args.concurrency, args.rate).await?;
    let elapsed = started.elapsed();
    lat.sort();

    let stored = message::Entity::find().count(app.state.db.conn()).await?;
    println!(
        "backend={} callbacks={} openids={} concurrency={} rate={} pool={}",
        backend.label(),
        args.callbacks,
        args.openids,
        args.concurrency,
        args.rate
            .map(|r| r.to_string())
            .unwrap_or_else(|| "max".into()),
        args.pool
    );
    println!(
        "throughput={:.0} callbacks/s  latency_ms p50={:.2} p90={:.2} p99={:.2} max={:.2}  (warm-up, new customers: {:.0}/s)",
        args.callbacks as f64 / elapsed.as_secs_f64(),
        pct(&lat, 0.50),
        pct(&lat, 0.90),
        pct(&lat, 0.99),
        pct(&lat, 1.0),
        warm_rate,
    );
    let expected = (args.openids + args.callbacks) as u64;
    println!("stored={stored} expected={expected}");
    app.stop().await;
    if stored != expected {
        bail!("{stored} messages stored, {expected} expected");
    }
    Ok(())
}

/// Sends every callback with `concurrency` clients, offered at `rate` when given; returns each
/// callback's latency from when it was due.
async fn run(
    client: &reqwest::Client,
    cbs: Vec<Callback>,
    concurrency: usize,
    rate: Option<f64>,
) -> anyhow::Result<Vec<Duration>> {
    let sem = Arc::new(Semaphore::new(concurrency));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(cbs.len());
    for (n, cb) in cbs.into_iter().enumerate() {
        let due = match rate {
            Some(rate) => {
                let at = started + Duration::from_secs_f64(n as f64 / rate);
                tokio::time::sleep_until(at.into()).await;
                at
            }
            None => Instant::now(),
        };
        let permit = sem.clone().acquire_owned().await?;
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let r = post(&client, &cb).await;
            drop(permit);
            r.map(|()| due.elapsed())
        }));
    }
    let mut lat = Vec::with_capacity(tasks.len());
    for t in tasks {
        lat.push(t.await??);
    }
    Ok(lat)
}
