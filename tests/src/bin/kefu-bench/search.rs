//! `kefu-bench search`: full-text search over a large database.
//!
//! ```text
//! kefu-bench search --database-url sqlite|postgres://postgres@127.0.0.1/postgres \
//!     [--messages 1000000] [--conversations 50000] [--queries 2000]
//! ```
//!
//! Fills a fresh database with `--conversations` conversations (contacts with Chinese and
//! English names, an identity each, every fifth with an email subject) and `--messages`
//! messages of mixed Chinese and English text, written directly through the storage layer's
//! entities in large batches (ingesting them one by one would measure ingest, not search).
//! Then it times the index build from the database (what a first start or an upgrade does)
//! and runs `--queries` searches one after another, each the whole of what
//! `GET /api/v1/conversations?q=` does but HTTP: rank in the index, filter and load the
//! conversations, highlight the best matches of the first page of 25.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::Utc;
use kefu_normalizer::entity::{contact, contact_identity, conversation, message};
use kefu_normalizer::search::{Location, Search};
use kefu_normalizer::{Conversations, Db, EventBus, InProcessBus, Limits, ListFilter};
use kefu_tests::{Backend, fresh_database};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use sea_orm::{EntityTrait, Set};
use serde_json::json;
use tokio_util::sync::CancellationToken;

/// Rows per insert statement.
const BATCH: usize = 1000;

const ZH: &[&str] = &[
    "我想申请退款，谢谢",
    "快递怎么还没到？已经三天了",
    "请问发票怎么开",
    "订单号是多少？我帮您查一下",
    "商品有质量问题，可以换货吗",
    "会员积分什么时候到账",
    "密码忘记了，登录不了",
    "优惠券用不了，提示已过期",
    "你好，在吗",
    "地址填错了，能改吗",
    "退货运费谁来承担",
    "客服您好，我要投诉",
];
const EN: &[&str] = &[
    "Where is my parcel? The tracking has not moved",
    "I would like a refund for order",
    "Can you send me the invoice please",
    "My password reset email never arrived",
    "The app crashes when I open the cart",
    "Is there a discount for annual plans",
    "Thanks, that solved it",
    "Please cancel my subscription",
    "The item arrived damaged",
    "How do I change the delivery address",
];
const SURNAMES: &[&str] = &["张", "王", "李", "刘", "陈", "杨", "黄", "赵"];
const GIVEN: &[&str] = &["伟", "芳", "娜", "敏", "静", "磊", "洋", "勇"];
const ENGLISH: &[&str] = &[
    "Alice Wong",
    "Bob Smith",
    "Carol Davis",
    "David Lee",
    "Emma Brown",
    "Frank Miller",
];
/// Queries: common and rare words in both languages, names, identities, subjects.
const QUERIES: &[&str] = &[
    "退款",
    "快递",
    "发票",
    "投诉",
    "密码",
    "换货",
    "refund",
    "parcel",
    "invoice",
    "password reset",
    "damaged item",
    "subscription",
    "张伟",
    "Alice",
    "Miller",
    "customer-1234@example.com",
    "order 104217",
    "billing question",
    "优惠券 过期",
    "where is my parcel",
];

struct Args {
    database_url: String,
    messages: usize,
    conversations: usize,
    queries: usize,
}

fn parse() -> anyhow::Result<Args> {
    let mut a = Args {
        database_url: "sqlite".into(),
        messages: 1_000_000,
        conversations: 50_000,
        queries: 2000,
    };
    let mut it = std::env::args().skip(2);
    while let Some(flag) = it.next() {
        let v = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--database-url" => a.database_url = v,
            "--messages" => a.messages = v.parse()?,
            "--conversations" => a.conversations = v.parse()?,
            "--queries" => a.queries = v.parse()?,
            other => bail!(
                "unknown flag {other}; usage: kefu-bench search [--database-url URL|sqlite] [--messages N] [--conversations N] [--queries N]"
            ),
        }
    }
    if a.conversations == 0 || a.messages < a.conversations {
        bail!("--messages must be at least --conversations, which must be at least 1");
    }
    Ok(a)
}

pub async fn main() -> anyhow::Result<()> {
    let args = parse()?;
    let dir = tempfile::tempdir()?;
    let backend = Backend::from_arg(&args.database_url);
    let url = fresh_database(&backend, dir.path()).await?;
    let db = Db::connect(&url, 8).await?;
    db.migrate().await?;
    let inbox = kefu_tests::bench_inbox(&db, "bench", "email").await?;

    let started = Instant::now();
    fill(&db, inbox.id, &args).await?;
    kefu_tests::analyze(&db).await?;
    let filled = started.elapsed();

    let (search, indexer) = Search::open(db.clone(), &Location::Dir(dir.path().join("search")))?;
    let bus = InProcessBus::new(16);
    let stop = CancellationToken::new();
    let task = tokio::spawn(indexer.run(bus.subscribe(), stop.clone()));
    let started = Instant::now();
    search.settled().await?;
    let built = started.elapsed();
    let size = folder_size(&dir.path().join("search"));

    let conversations = Conversations::new(db.clone(), Limits::default());
    let filter = ListFilter::default();
    let mut latencies = Vec::with_capacity(args.queries);
    let mut found = 0usize;
    for i in 0..args.queries {
        let q = QUERIES[i % QUERIES.len()];
        let t = Instant::now();
        let page = search
            .conversations(&conversations, &filter, q, 0, 25)
            .await?;
        latencies.push(t.elapsed());
        found += page.items.len();
    }
    latencies.sort();
    let ms = |p: f64| {
        kefu_tests::quantile(&latencies, p).map_or(f64::NAN, |d: Duration| d.as_secs_f64() * 1e3)
    };
    println!(
        "backend={} messages={} conversations={} queries={}",
        backend.label(),
        args.messages,
        args.conversations,
        args.queries
    );
    println!(
        "fill_s={:.1} index_build_s={:.1} index_mb={:.0}",
        filled.as_secs_f64(),
        built.as_secs_f64(),
        size as f64 / 1e6
    );
    println!(
        "search_ms p50={:.2} p90={:.2} p99={:.2} max={:.2} (first page of 25, {:.1} items on average)",
        ms(0.5),
        ms(0.9),
        ms(0.99),
        ms(1.0),
        found as f64 / args.queries as f64
    );
    stop.cancel();
    let _ = task.await;
    kefu_tests::drop_fresh_database(&backend, &db, &url).await?;
    Ok(())
}

/// Writes contacts, identities, conversations and messages in batches. The database is fresh,
/// so the n-th contact, identity and conversation written all get the id n + 1.
async fn fill(db: &Db, inbox_id: i64, args: &Args) -> anyhow::Result<()> {
    let mut rng = StdRng::seed_from_u64(20);
    let now = Utc::now();
    for start in (0..args.conversations).step_by(BATCH) {
        let ids: Vec<usize> = (start..(start + BATCH).min(args.conversations)).collect();
        let contacts = ids.iter().map(|&i| {
            let name = if i % 2 == 0 {
                format!(
                    "{}{}",
                    SURNAMES[i % SURNAMES.len()],
                    GIVEN[(i / SURNAMES.len()) % GIVEN.len()]
                )
            } else {
                ENGLISH[i % ENGLISH.len()].to_owned()
            };
            contact::ActiveModel {
                name: Set(Some(name)),
                email: Set(Some(format!("customer-{i}@example.com"))),
                phone: Set(None),
                attributes: Set(json!({})),
                merged_into_id: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
        });
        let tx = db.begin_write().await?;
        contact::Entity::insert_many(contacts).exec(&*tx).await?;
        let identities = ids.iter().map(|&i| contact_identity::ActiveModel {
            contact_id: Set(i as i64 + 1),
            inbox_id: Set(inbox_id),
            external_id: Set(format!("customer-{i}@example.com")),
            display_name: Set(None),
            created_at: Set(now),
            ..Default::default()
        });
        contact_identity::Entity::insert_many(identities)
            .exec(&*tx)
            .await?;
        let per = args.messages / args.conversations;
        let convs = ids.iter().map(|&i| conversation::ActiveModel {
            inbox_id: Set(inbox_id),
            contact_id: Set(i as i64 + 1),
            identity_id: Set(i as i64 + 1),
            status: Set(kefu_normalizer::Status::Resolved),
            priority: Set(0),
            skills: Set(json!({})),
            assignee_id: Set(None),
            team_id: Set(None),
            last_seq: Set(per as i64),
            subject: Set(
                (i % 5 == 0).then(|| format!("Billing question about order {}", 100_000 + i))
            ),
            token: Set(format!("bench-{i}")),
            created_at: Set(now),
            updated_at: Set(now),
            last_message_at: Set(now),
            last_inbound_at: Set(None),
            queued_at: Set(None),
            resolved_at: Set(None),
            ..Default::default()
        });
        conversation::Entity::insert_many(convs).exec(&*tx).await?;
        tx.commit().await?;
    }
    // Messages: `messages / conversations` per conversation, the remainder in the first ones.
    let mut batch = Vec::with_capacity(BATCH);
    for n in 0..args.messages {
        let conv = n % args.conversations;
        let seq = n / args.conversations + 1;
        let text = match rng.random_range(0..10) {
            0..=4 => ZH.choose(&mut rng).copied().unwrap_or_default().to_owned(),
            5..=8 => format!(
                "{} {}",
                EN.choose(&mut rng).copied().unwrap_or_default(),
                100_000 + rng.random_range(0..args.conversations)
            ),
            _ => format!(
                "{} / {}",
                ZH.choose(&mut rng).copied().unwrap_or_default(),
                EN.choose(&mut rng).copied().unwrap_or_default()
            ),
        };
        let inbound = seq % 2 == 1;
        batch.push(message::ActiveModel {
            conversation_id: Set(conv as i64 + 1),
            inbox_id: Set(inbox_id),
            seq: Set(seq as i64),
            direction: Set(if inbound {
                kefu_normalizer::Direction::Inbound
            } else {
                kefu_normalizer::Direction::Outbound
            }),
            private: Set(false),
            sender_type: Set(if inbound {
                kefu_normalizer::SenderType::Contact
            } else {
                kefu_normalizer::SenderType::Agent
            }),
            sender_id: Set(None),
            sender_name: Set(None),
            text: Set(text.clone()),
            content: Set(json!({ "text": text })),
            dedupe_key: Set(None),
            message_ref: Set(None),
            delivery_status: Set(kefu_normalizer::DeliveryStatus::Sent),
            delivery_error: Set(None),
            provider_ref: Set(None),
            sent_at: Set(None),
            delivery_attempts: Set(0),
            delivery_details: Set(None),
            delivery_claimed_until: Set(None),
            delivery_due_at: Set(None),
            created_at: Set(now),
            ..Default::default()
        });
        if batch.len() == BATCH || n + 1 == args.messages {
            let tx = db.begin_write().await?;
            message::Entity::insert_many(std::mem::take(&mut batch))
                .exec(&*tx)
                .await?;
            tx.commit().await?;
        }
    }
    Ok(())
}

/// Bytes of the files under `dir`.
fn folder_size(dir: &std::path::Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => folder_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}
