//! `kefu-bench list`: the conversation list over a large database, one filter at a time.
//!
//! ```text
//! kefu-bench list --database-url sqlite|postgres://postgres@127.0.0.1/postgres \
//!     [--conversations 100000] [--queries 200] [--keep true]
//! ```
//!
//! Fills a fresh database with `--conversations` conversations over four inboxes (web chat,
//! email, WeChat, app), each with a contact, an identity and two messages (the customer's and
//! the agent's), spread over statuses, 20 agents, 5 teams, priorities 0–3, ten labels (a third
//! of the conversations carry one) and the last 90 days, written through the storage layer's
//! entities in batches. Then, per case (no filter, each filter of `GET /api/v1/conversations`
//! alone, each sort order, and an agent's own view), it runs `--queries` lists one after
//! another, each the whole of what that endpoint does but HTTP: the first page of 25 in the
//! case's order, then the rows' last message, unread count and assignee
//! ([`Conversations::items`]). The filter's value changes from one query to the next (another
//! inbox, agent, label...).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::Utc;
use kefu_normalizer::access::Visibility;
use kefu_normalizer::entity::{
    contact, contact_identity, conversation, conversation_label, message,
};
use kefu_normalizer::{Conversations, Db, Limits, ListFilter, Sort, Status};
use kefu_tests::{Backend, fresh_database};
use sea_orm::{EntityTrait, Set};
use serde_json::json;

/// Rows per insert statement.
const BATCH: usize = 1000;
const AGENTS: usize = 20;
const TEAMS: usize = 5;
const LABELS: usize = 10;
const CHANNELS: [&str; 4] = ["web_chat", "email", "wechat", "app_push"];
const STATUSES: [Status; 5] = [
    Status::Resolved,
    Status::Resolved,
    Status::Assigned,
    Status::Queued,
    Status::Pending,
];

struct Args {
    database_url: String,
    conversations: usize,
    queries: usize,
    /// Keep the database afterwards (its URL is printed), to look at query plans.
    keep: bool,
}

fn parse() -> anyhow::Result<Args> {
    let mut a = Args {
        database_url: "sqlite".into(),
        conversations: 100_000,
        queries: 200,
        keep: false,
    };
    let mut it = std::env::args().skip(2);
    while let Some(flag) = it.next() {
        let v = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--database-url" => a.database_url = v,
            "--conversations" => a.conversations = v.parse()?,
            "--queries" => a.queries = v.parse()?,
            "--keep" => a.keep = v.parse()?,
            other => bail!(
                "unknown flag {other}; usage: kefu-bench list [--database-url URL|sqlite] [--conversations N] [--queries N] [--keep true]"
            ),
        }
    }
    if a.conversations < 100 || a.queries == 0 {
        bail!("--conversations must be at least 100 and --queries at least 1");
    }
    Ok(a)
}

/// What the fill made: ids to filter by.
struct Seeded {
    inboxes: Vec<i64>,
    agents: Vec<i64>,
    teams: Vec<i64>,
    labels: Vec<i64>,
}

pub async fn main() -> anyhow::Result<()> {
    let args = parse()?;
    let dir = tempfile::tempdir()?;
    let backend = Backend::from_arg(&args.database_url);
    let url = fresh_database(&backend, dir.path()).await?;
    let db = Db::connect(&url, 8).await?;
    db.migrate().await?;
    let started = Instant::now();
    let seeded = fill(&db, args.conversations).await?;
    kefu_tests::analyze(&db).await?;
    // What a running Kefu does at start and every hour on SQLite (`planner::run`).
    kefu_normalizer::planner::refresh(&db).await?;
    let filled = started.elapsed();
    println!(
        "backend={} conversations={} queries_per_case={} fill_s={:.1}",
        backend.label(),
        args.conversations,
        args.queries,
        filled.as_secs_f64()
    );

    let conversations = Conversations::new(db.clone(), Limits::default());
    let day = chrono::Duration::days(1);
    type Case<'a> = (&'a str, Sort, Box<dyn Fn(usize) -> ListFilter + 'a>);
    let s = &seeded;
    let cases: Vec<Case<'_>> = vec![
        ("none", Sort::Newest, Box::new(|_| ListFilter::default())),
        (
            "status",
            Sort::Newest,
            Box::new(|i| ListFilter {
                statuses: vec![[Status::Assigned, Status::Queued, Status::Pending][i % 3]],
                ..ListFilter::default()
            }),
        ),
        (
            "inbox",
            Sort::Newest,
            Box::new(|i| ListFilter {
                inbox_id: Some(s.inboxes[i % s.inboxes.len()]),
                ..ListFilter::default()
            }),
        ),
        (
            "channel",
            Sort::Newest,
            Box::new(|i| ListFilter {
                channel: Some(CHANNELS[i % CHANNELS.len()].to_owned()),
                ..ListFilter::default()
            }),
        ),
        (
            "assignee",
            Sort::Newest,
            Box::new(|i| ListFilter {
                assignee_id: Some(s.agents[i % s.agents.len()]),
                ..ListFilter::default()
            }),
        ),
        (
            "unassigned",
            Sort::Newest,
            Box::new(|_| ListFilter {
                unassigned: true,
                ..ListFilter::default()
            }),
        ),
        (
            "team",
            Sort::Newest,
            Box::new(|i| ListFilter {
                team_id: Some(s.teams[i % s.teams.len()]),
                ..ListFilter::default()
            }),
        ),
        (
            "label",
            Sort::Newest,
            Box::new(|i| ListFilter {
                label_id: Some(s.labels[i % s.labels.len()]),
                ..ListFilter::default()
            }),
        ),
        (
            "priority",
            Sort::Newest,
            Box::new(|i| ListFilter {
                priority_min: Some(1 + (i % 3) as i32),
                ..ListFilter::default()
            }),
        ),
        (
            "created_after",
            Sort::Newest,
            Box::new(move |i| ListFilter {
                created_after: Some(Utc::now() - day * (1 + (i % 30) as i32)),
                ..ListFilter::default()
            }),
        ),
        (
            "sort=last_activity",
            Sort::LastActivity,
            Box::new(|_| ListFilter::default()),
        ),
        (
            "sort=waiting (active)",
            Sort::Waiting,
            Box::new(|_| ListFilter {
                statuses: vec![Status::Assigned, Status::Queued, Status::Pending],
                ..ListFilter::default()
            }),
        ),
        (
            "sort=priority (active)",
            Sort::Priority,
            Box::new(|_| ListFilter {
                statuses: vec![Status::Assigned, Status::Queued, Status::Pending],
                ..ListFilter::default()
            }),
        ),
        (
            "an agent's view",
            Sort::Newest,
            Box::new(|i| ListFilter {
                visible: Some(Visibility::Member {
                    agent_id: s.agents[i % s.agents.len()],
                    inboxes: s.inboxes[..2].iter().copied().collect(),
                    read_others: BTreeSet::new(),
                    act_others: BTreeSet::new(),
                }),
                ..ListFilter::default()
            }),
        ),
    ];
    println!("| case | p50 ms | p90 ms | p99 ms | max ms | rows per page |");
    println!("|---|---|---|---|---|---|");
    for (name, sort, filter) in &cases {
        let mut latencies = Vec::with_capacity(args.queries);
        let mut rows = 0usize;
        for i in 0..args.queries {
            let f = filter(i);
            let viewer = s.agents[i % s.agents.len()];
            let t = Instant::now();
            let (page, _) = conversations.list(&f, *sort, None, 25).await?;
            let items = conversations.items(page, viewer).await?;
            latencies.push(t.elapsed());
            rows += items.len();
        }
        latencies.sort();
        let ms = |p: f64| {
            kefu_tests::quantile(&latencies, p)
                .map_or(f64::NAN, |d: Duration| d.as_secs_f64() * 1e3)
        };
        println!(
            "| {name} | {:.2} | {:.2} | {:.2} | {:.2} | {:.1} |",
            ms(0.5),
            ms(0.9),
            ms(0.99),
            ms(1.0),
            rows as f64 / args.queries as f64
        );
    }
    if args.keep {
        let _ = dir.keep();
        println!("kept {url}");
        return Ok(());
    }
    kefu_tests::drop_fresh_database(&backend, &db, &url).await?;
    Ok(())
}

/// Agents, teams, labels and inboxes, then contacts, identities, conversations, their labels
/// and messages in batches. The database is fresh, so the n-th contact, identity and
/// conversation written all get the id n + 1.
async fn fill(db: &Db, n: usize) -> anyhow::Result<Seeded> {
    let now = Utc::now();
    let mut inboxes = Vec::new();
    for kind in CHANNELS {
        inboxes.push(kefu_tests::bench_inbox(db, kind, kind).await?.id);
    }
    let kefu_tests::bench_seed::Staff {
        agents,
        teams,
        labels,
    } = kefu_tests::bench_seed::staff(db, AGENTS, 5000, TEAMS, LABELS).await?;

    for start in (0..n).step_by(BATCH) {
        let ids: Vec<usize> = (start..(start + BATCH).min(n)).collect();
        // The i-th conversation is (n - i) / n × 90 days old, so ids grow with time.
        let at = |i: usize| now - chrono::Duration::seconds(((n - i) * 90 * 86_400 / n) as i64);
        let tx = db.begin_write().await?;
        contact::Entity::insert_many(ids.iter().map(|&i| contact::ActiveModel {
            name: Set(Some(format!("Customer {i}"))),
            email: Set(None),
            phone: Set(None),
            attributes: Set(json!({})),
            merged_into_id: Set(None),
            created_at: Set(at(i)),
            updated_at: Set(at(i)),
            ..Default::default()
        }))
        .exec(&*tx)
        .await?;
        contact_identity::Entity::insert_many(ids.iter().map(|&i| contact_identity::ActiveModel {
            contact_id: Set(i as i64 + 1),
            inbox_id: Set(inboxes[i % inboxes.len()]),
            external_id: Set(format!("customer-{i}")),
            display_name: Set(None),
            created_at: Set(at(i)),
            ..Default::default()
        }))
        .exec(&*tx)
        .await?;
        conversation::Entity::insert_many(ids.iter().map(|&i| {
            let status = STATUSES[i % STATUSES.len()];
            // Queued conversations have nobody; a few resolved ones never had anyone.
            let assigned =
                !matches!(status, Status::Queued) && (i % 7 != 0 || status != Status::Resolved);
            conversation::ActiveModel {
                inbox_id: Set(inboxes[i % inboxes.len()]),
                contact_id: Set(i as i64 + 1),
                identity_id: Set(i as i64 + 1),
                status: Set(status),
                priority: Set((i % 11 % 4) as i32),
                skills: Set(json!({})),
                assignee_id: Set(assigned.then(|| agents[(i / 5) % agents.len()])),
                team_id: Set((i % 3 == 0).then(|| teams[i % teams.len()])),
                last_seq: Set(2),
                subject: Set(None),
                token: Set(format!("bench-{i}")),
                created_at: Set(at(i)),
                updated_at: Set(at(i)),
                last_message_at: Set(at(i) + chrono::Duration::minutes(2)),
                last_inbound_at: Set(Some(at(i))),
                queued_at: Set(matches!(status, Status::Queued).then(|| at(i))),
                resolved_at: Set(matches!(status, Status::Resolved).then(|| at(i))),
                ..Default::default()
            }
        }))
        .exec(&*tx)
        .await?;
        conversation_label::Entity::insert_many(ids.iter().filter(|&&i| i % 3 == 1).map(|&i| {
            conversation_label::ActiveModel {
                conversation_id: Set(i as i64 + 1),
                label_id: Set(labels[i % labels.len()]),
            }
        }))
        .exec(&*tx)
        .await?;
        // One statement per seq: 1,000 rows of messages' columns stay under SQLite's limit of
        // bound values per statement.
        for seq in [1i64, 2] {
            message::Entity::insert_many(ids.iter().map(|&i| {
                let inbound = seq == 1;
                let text = if inbound {
                    format!("Where is order {}?", 100_000 + i)
                } else {
                    "It left the warehouse today.".to_owned()
                };
                message::ActiveModel {
                    conversation_id: Set(i as i64 + 1),
                    inbox_id: Set(inboxes[i % inboxes.len()]),
                    seq: Set(seq),
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
                    created_at: Set(at(i) + chrono::Duration::minutes(seq * 2 - 2)),
                    ..Default::default()
                }
            }))
            .exec(&*tx)
            .await?;
        }
        tx.commit().await?;
    }
    Ok(Seeded {
        inboxes,
        agents,
        teams,
        labels,
    })
}
