//! `kefu-bench imap`: mail taken in per second, from a real Dovecot through the email channel
//! into the normalizer.
//!
//! ```text
//! kefu-bench imap [--database-url postgres://postgres@127.0.0.1/postgres|sqlite]
//!     [--messages 5000] [--size 10240] [--senders 500] [--pool 16] [--store db|none]
//! ```
//!
//! 1. Starts a private Dovecot (the one the email channel's tests use; Debian `dovecot-imapd`)
//!    and APPENDs `--messages` messages of about `--size` bytes from `--senders` customers:
//!    each customer's first message starts a thread, the later ones answer it (`In-Reply-To`),
//!    so the run opens `--senders` conversations and threads the rest into them. Also times
//!    parsing the same messages alone, in process.
//! 2. Clock starts: the email channel (`Channel::run`: connect, `SELECT`, `UID SEARCH`, `UID
//!    FETCH`, parse, hand in, persist the UID cursor) feeds the normalizer on a fresh database,
//!    with the cursor in the database too. Clock stops when the last message is committed
//!    (counted in the sink, no polling). Then the database is checked: every message stored
//!    once, one conversation per customer.
//!
//! `--store none` replaces the normalizer and the database cursor with in-memory ones, to see
//! what IMAP and parsing alone allow.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use async_trait::async_trait;
use kefu_channel::testkit::MemoryState;
use kefu_channel::{
    Accepted, ChannelContext, ChannelFactory, ChannelKind, ChannelState, InboundEnvelope,
    InboundSink, InboxConfig, IngestError,
};
use kefu_channel_email::EmailFactory;
use kefu_channel_email::parse::{ParseOptions, parse_message};
use kefu_normalizer::entity::{conversation, message};
use kefu_normalizer::{Db, DbChannelState, Limits, Normalizer};
use kefu_tests::{Backend, fresh_database};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::email_support::Dovecot;

struct Args {
    database_url: String,
    messages: usize,
    size: usize,
    senders: usize,
    pool: u32,
    store: bool,
}

const USAGE: &str = "usage: kefu-bench imap [--database-url URL|sqlite] [--messages N] [--size BYTES] [--senders N] [--pool N] [--store db|none]";

fn parse() -> anyhow::Result<Args> {
    let mut a = Args {
        database_url: "sqlite".into(),
        messages: 5_000,
        size: 10 * 1024,
        senders: 500,
        pool: 16,
        store: true,
    };
    let mut it = std::env::args().skip(2);
    while let Some(flag) = it.next() {
        let v = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--database-url" => a.database_url = v,
            "--messages" => a.messages = v.parse()?,
            "--size" => a.size = v.parse()?,
            "--senders" => a.senders = v.parse()?,
            "--pool" => a.pool = v.parse()?,
            "--store" => {
                a.store = match v.as_str() {
                    "db" => true,
                    "none" => false,
                    other => bail!("--store is db or none, not {other:?}"),
                }
            }
            other => bail!("unknown flag {other}; {USAGE}"),
        }
    }
    if a.messages == 0 || a.senders == 0 || a.senders > a.messages {
        bail!("--messages and --senders must be positive, with no more senders than messages");
    }
    Ok(a)
}

/// Message `i` of the run: from customer `i % senders`, about `size` bytes.
fn mail(i: usize, senders: usize, size: usize) -> Vec<u8> {
    let sender = i % senders;
    let thread = if i < senders {
        String::new()
    } else {
        format!(
            "In-Reply-To: <bench-{sender}@customer.test>\r\nReferences: <bench-{sender}@customer.test>\r\n"
        )
    };
    let mut m = format!(
        "From: Customer {sender} <customer-{sender}@customer.test>\r\nTo: {to}\r\n\
         Subject: Order {order} has not arrived\r\nMessage-ID: <bench-{i}@customer.test>\r\n\
         {thread}Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\
         Hello, my order {order} has not arrived yet. 我的订单还没有到。\r\n\r\n",
        to = crate::email_support::USER,
        order = 100_000 + sender,
    );
    let mut line = 0;
    while m.len() < size {
        line += 1;
        m.push_str(&format!(
            "Line {line} of message {i}: the parcel left the warehouse on Monday and the tracking page has not changed since.\r\n"
        ));
    }
    m.into_bytes()
}

/// The normalizer (or nothing), counting committed messages and waking the clock at `target`.
struct Counting {
    store: Option<Normalizer>,
    done: AtomicUsize,
    target: usize,
    finished: Notify,
}

#[async_trait]
impl InboundSink for Counting {
    async fn accept(&self, envelope: InboundEnvelope) -> Result<Accepted, IngestError> {
        let accepted = match &self.store {
            Some(n) => n.accept(envelope).await?,
            None => Accepted {
                message_id: 0,
                conversation_id: 0,
                seq: 0,
                duplicate: false,
            },
        };
        if !accepted.duplicate && self.done.fetch_add(1, Ordering::SeqCst) + 1 == self.target {
            self.finished.notify_one();
        }
        Ok(accepted)
    }
}

async fn append_all(dovecot: &Dovecot, args: &Args) -> anyhow::Result<()> {
    // One session per slice of customers, so each customer's mail keeps its order.
    const SESSIONS: usize = 4;
    let mut tasks = Vec::new();
    for s in 0..SESSIONS {
        let mut session = dovecot.client().await;
        let (messages, senders, size) = (args.messages, args.senders, args.size);
        tasks.push(tokio::spawn(async move {
            for i in (0..messages).filter(|i| (i % senders) % SESSIONS == s) {
                session
                    .append("INBOX", None, None, mail(i, senders, size))
                    .await?;
            }
            session.logout().await?;
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(())
}

pub async fn main() -> anyhow::Result<()> {
    let args = parse()?;
    let Some(dovecot) = Dovecot::start() else {
        bail!("kefu-bench imap needs Dovecot (apt-get install -y dovecot-imapd)");
    };

    let t = Instant::now();
    append_all(&dovecot, &args).await?;
    let append_secs = t.elapsed().as_secs_f64();

    // Parsing alone, for comparison.
    let opts = ParseOptions::new(1);
    let raws: Vec<Vec<u8>> = (0..args.messages)
        .map(|i| mail(i, args.senders, args.size))
        .collect();
    let bytes: usize = raws.iter().map(Vec::len).sum();
    let t = Instant::now();
    for raw in &raws {
        std::hint::black_box(parse_message(raw, &opts));
    }
    let parse_rate = args.messages as f64 / t.elapsed().as_secs_f64();
    drop(raws);

    let dir = tempfile::tempdir()?;
    let backend = Backend::from_arg(&args.database_url);
    let url = fresh_database(&backend, dir.path()).await?;
    let db = Db::connect(&url, args.pool).await?;
    db.migrate().await?;
    let inbox = kefu_tests::bench_inbox(&db, "bench mail", "email").await?;

    let factory = EmailFactory::new();
    let settings = factory.validate(dovecot.settings("INBOX", 25))?;
    let channel = factory.build(
        &InboxConfig {
            id: inbox.id,
            name: "bench mail".into(),
            kind: ChannelKind::new("email"),
            settings,
            public_token: inbox.public_token.clone(),
            public_url: "http://127.0.0.1".into(),
        },
        &kefu_channel::testkit::build_context(),
    )?;
    let sink = Arc::new(Counting {
        store: args
            .store
            .then(|| Normalizer::new(db.clone(), Limits::default())),
        done: AtomicUsize::new(0),
        target: args.messages,
        finished: Notify::new(),
    });
    let state: Arc<dyn ChannelState> = if args.store {
        Arc::new(DbChannelState::new(db.clone()))
    } else {
        Arc::new(MemoryState::default())
    };
    let shutdown = CancellationToken::new();
    let cx = ChannelContext {
        inbox_id: inbox.id,
        inbound: sink.clone(),
        state,
        shutdown: shutdown.clone(),
    };

    let started = Instant::now();
    let task = tokio::spawn(channel.run(cx));
    let limit = Duration::from_secs(600);
    let finished = tokio::time::timeout(limit, sink.finished.notified()).await;
    let elapsed = started.elapsed();
    shutdown.cancel();
    task.await??;
    if finished.is_err() {
        bail!(
            "only {} of {} messages were taken in within {limit:?}; Dovecot log:\n{}",
            sink.done.load(Ordering::SeqCst),
            args.messages,
            dovecot.log()
        );
    }

    if args.store {
        let stored = message::Entity::find()
            .filter(message::Column::InboxId.eq(inbox.id))
            .count(db.conn())
            .await?;
        let conversations = conversation::Entity::find()
            .filter(conversation::Column::InboxId.eq(inbox.id))
            .count(db.conn())
            .await?;
        if stored != args.messages as u64 || conversations != args.senders as u64 {
            bail!(
                "stored {stored} messages in {conversations} conversations; expected {} in {}",
                args.messages,
                args.senders
            );
        }
    }

    println!(
        "backend={} store={} messages={} avg_size={} senders={} pool={}",
        match (&backend, args.store) {
            (_, false) => "none",
            (Backend::Sqlite, _) => "sqlite",
            (Backend::Postgres(_), _) => "postgres",
        },
        if args.store { "db" } else { "none" },
        args.messages,
        bytes / args.messages,
        args.senders,
        args.pool
    );
    println!(
        "ingest={:.0} msg/s ({:.2} s)  parse_only={:.0} msg/s  append={:.0} msg/s",
        args.messages as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64(),
        parse_rate,
        args.messages as f64 / append_secs,
    );

    drop(sink);
    kefu_tests::drop_fresh_database(&backend, &db, &url).await?;
    Ok(())
}
