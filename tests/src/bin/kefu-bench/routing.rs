//! `kefu-bench routing`: the dispatcher's decision latency and durable assignment throughput.
//!
//! ```text
//! kefu-bench routing [--database-url postgres://postgres@127.0.0.1/postgres|sqlite]
//!     [--queued 10000] [--agents 1000] [--capacity 10] [--pool 16]
//! ```
//!
//! 1. In process: `--queued` conversations and `--agents` agents with random skills (20 skills,
//!    3–5 per agent, 1–2 required per conversation), priorities and waits; times
//!    `routing::choose` for every conversation (one decision: eligibility, ranking,
//!    explanation) and one whole `plan_round`.
//! 2. Durable: the same shape in a fresh database (agents online with `--capacity` each,
//!    conversations queued and not yet routed), then `Dispatcher::run_round` until nothing more
//!    can be assigned. Reports routing and assignment rates; every assignment is committed with
//!    its events and history row.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use kefu_dispatcher::assign::{Dispatcher, Settings, route, snapshot};
use kefu_dispatcher::routing::{
    AgentSnapshot, Aging, QueuePolicy, QueuedConversation, choose, plan_round,
};
use kefu_normalizer::Db;
use kefu_normalizer::entity::{agent, agent_skill, contact, contact_identity, conversation};
use kefu_tests::{Backend, fresh_database};
use rand::Rng;
use sea_orm::{EntityTrait, Set};

struct Args {
    database_url: String,
    queued: usize,
    agents: usize,
    capacity: u32,
    pool: u32,
}

fn parse() -> anyhow::Result<Args> {
    let mut a = Args {
        database_url: "sqlite".into(),
        queued: 10_000,
        agents: 1_000,
        capacity: 10,
        pool: 16,
    };
    let mut it = std::env::args().skip(2);
    while let Some(flag) = it.next() {
        let v = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--database-url" => a.database_url = v,
            "--queued" => a.queued = v.parse()?,
            "--agents" => a.agents = v.parse()?,
            "--capacity" => a.capacity = v.parse()?,
            "--pool" => a.pool = v.parse()?,
            other => anyhow::bail!(
                "unknown flag {other}; usage: kefu-bench routing [--database-url URL|sqlite] [--queued N] [--agents N] [--capacity N] [--pool N]"
            ),
        }
    }
    Ok(a)
}

fn skill(i: usize) -> String {
    format!("skill{i:02}")
}

fn agent_skills(rng: &mut impl Rng) -> BTreeMap<String, u8> {
    let n = rng.random_range(3..=5);
    (0..n)
        .map(|_| (skill(rng.random_range(0..20)), rng.random_range(1..=10)))
        .collect()
}

fn required_skills(rng: &mut impl Rng) -> BTreeMap<String, u8> {
    let n = rng.random_range(1..=2);
    (0..n)
        .map(|_| (skill(rng.random_range(0..20)), rng.random_range(1..=5)))
        .collect()
}

/// Microseconds at quantile `p` of sorted durations.
fn pct(v: &[Duration], p: f64) -> f64 {
    kefu_tests::quantile(v, p).map_or(f64::NAN, |d| d.as_secs_f64() * 1e6)
}

/// Runs the benchmark.
pub async fn main() -> anyhow::Result<()> {
    let args = parse()?;
    let mut rng = rand::rng();
    let now = Utc::now();

    // 1. In process.
    let agents: Vec<AgentSnapshot> = (0..args.agents)
        .map(|i| AgentSnapshot {
            id: i as i64 + 1,
            online: true,
            skills: agent_skills(&mut rng),
            active: rng.random_range(0..args.capacity),
            max_concurrent: args.capacity,
            last_assigned_at: Some(now - chrono::Duration::seconds(rng.random_range(0..3600))),
            teams: BTreeSet::new(),
        })
        .collect();
    let queue: Vec<QueuedConversation> = (0..args.queued)
        .map(|i| QueuedConversation {
            id: i as i64 + 1,
            inbox_id: 1,
            priority: rng.random_range(0..10),
            enqueued_at: now - chrono::Duration::seconds(rng.random_range(0..1800)),
            required_skills: required_skills(&mut rng),
            team_id: None,
            previous_agent: None,
            max_wait_notified: false,
            rule_hits: Vec::new(),
        })
        .collect();
    let policy = QueuePolicy::default();
    let mut lat = Vec::with_capacity(queue.len());
    let mut eligible = 0usize;
    for c in &queue {
        let t = Instant::now();
        let choice = choose(c, &agents, now, &policy);
        lat.push(t.elapsed());
        eligible += usize::from(choice.agent_id.is_some());
    }
    lat.sort();
    println!(
        "decision: queued={} agents={} assignable={} latency_us p50={:.0} p90={:.0} p99={:.0} max={:.0}",
        args.queued,
        args.agents,
        eligible,
        pct(&lat, 0.5),
        pct(&lat, 0.9),
        pct(&lat, 0.99),
        pct(&lat, 1.0)
    );
    let policies = BTreeMap::from([(1, policy)]);
    let t = Instant::now();
    let plan = plan_round(&queue, &agents, &policies, now, Aging::default());
    let took = t.elapsed();
    println!(
        "plan_round: {} assignments, {} left queued in {:.1} ms ({:.1} us per conversation)",
        plan.assignments.len(),
        plan.unassigned.len(),
        took.as_secs_f64() * 1e3,
        took.as_secs_f64() * 1e6 / args.queued as f64
    );

    // 2. Durable.
    let dir = tempfile::tempdir()?;
    let backend = Backend::from_arg(&args.database_url);
    let url = fresh_database(&backend, dir.path()).await?;
    let db = Db::connect(&url, args.pool).await?;
    db.migrate().await?;
    seed(&db, &args, &mut rng).await?;
    // Routing (rules over the first message) on its own, then assignment rounds.
    let started = Instant::now();
    let inboxes = snapshot::inboxes(&db).await?;
    let q = snapshot::queue(&db, &inboxes).await?;
    let routed =
        route::route_new(&db, &inboxes, &q.unrouted, None, std::sync::Arc::new(|| ())).await?;
    let routing_time = started.elapsed();
    let dispatcher = Dispatcher::new(db.clone(), Settings::default());
    let started = Instant::now();
    let (mut assigned, mut rounds) = (0, 0);
    loop {
        let r = dispatcher.run_round().await?;
        rounds += 1;
        assigned += r.assigned.len();
        if r.assigned.is_empty() {
            break;
        }
    }
    let assign_time = started.elapsed();
    let name = backend.label();
    println!(
        "durable ({name}): routed {routed} in {:.2}s = {:.0} conversations/s",
        routing_time.as_secs_f64(),
        routed as f64 / routing_time.as_secs_f64().max(1e-9)
    );
    println!(
        "durable ({name}): assigned {assigned} in {rounds} rounds, {:.2}s = {:.0} assignments/s (load, plan, commit with events and history)",
        assign_time.as_secs_f64(),
        assigned as f64 / assign_time.as_secs_f64().max(1e-9)
    );
    kefu_tests::drop_fresh_database(&backend, &db, &url).await?;
    Ok(())
}

/// Agents online with skills, one inbox, and `queued` conversations of distinct contacts.
async fn seed(db: &Db, args: &Args, rng: &mut impl Rng) -> anyhow::Result<()> {
    let inbox = kefu_tests::bench_inbox(db, "bench", "loopback").await?;
    let now = Utc::now();
    for chunk in (0..args.agents).collect::<Vec<_>>().chunks(500) {
        let rows: Vec<agent::ActiveModel> = chunk
            .iter()
            .map(|i| agent::ActiveModel {
                email: Set(format!("agent{i}@bench.local")),
                name: Set(format!("Agent {i}")),
                password_hash: Set("-".into()),
                role: Set("agent".into()),
                max_concurrent: Set(args.capacity as i32),
                status: Set(kefu_normalizer::AgentStatus::Online),
                status_changed_at: Set(now),
                last_assigned_at: Set(None),
                deleted_at: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            })
            .collect();
        let inserted = agent::Entity::insert_many(rows)
            .exec_with_returning(db.conn())
            .await?;
        let skills: Vec<agent_skill::ActiveModel> = inserted
            .iter()
            .flat_map(|a| {
                agent_skills(rng)
                    .into_iter()
                    .map(|(s, l)| agent_skill::ActiveModel {
                        agent_id: Set(a.id),
                        skill: Set(s),
                        level: Set(i16::from(l)),
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        agent_skill::Entity::insert_many(skills)
            .exec(db.conn())
            .await?;
    }
    for chunk in (0..args.queued).collect::<Vec<_>>().chunks(500) {
        let contacts = contact::Entity::insert_many(chunk.iter().map(|i| contact::ActiveModel {
            name: Set(Some(format!("Customer {i}"))),
            email: Set(None),
            phone: Set(None),
            attributes: Set(serde_json::json!({})),
            merged_into_id: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }))
        .exec_with_returning(db.conn())
        .await?;
        let identities = contact_identity::Entity::insert_many(contacts.iter().map(|c| {
            contact_identity::ActiveModel {
                contact_id: Set(c.id),
                inbox_id: Set(inbox.id),
                external_id: Set(format!("c{}", c.id)),
                display_name: Set(None),
                created_at: Set(now),
                ..Default::default()
            }
        }))
        .exec_with_returning(db.conn())
        .await?;
        let convs: Vec<conversation::ActiveModel> = identities
            .iter()
            .map(|i| {
                let queued_at = now - chrono::Duration::seconds(rng.random_range(0..1800));
                conversation::ActiveModel {
                    inbox_id: Set(inbox.id),
                    contact_id: Set(i.contact_id),
                    identity_id: Set(i.id),
                    status: Set(kefu_normalizer::Status::Queued),
                    priority: Set(rng.random_range(0..10)),
                    skills: Set(serde_json::json!(required_skills(rng))),
                    assignee_id: Set(None),
                    team_id: Set(None),
                    last_seq: Set(0),
                    subject: Set(None),
                    token: Set(kefu_normalizer::token::random(20)),
                    created_at: Set(queued_at),
                    updated_at: Set(queued_at),
                    last_message_at: Set(queued_at),
                    last_inbound_at: Set(Some(queued_at)),
                    queued_at: Set(Some(queued_at)),
                    resolved_at: Set(None),
                    ..Default::default()
                }
            })
            .collect();
        conversation::Entity::insert_many(convs)
            .exec(db.conn())
            .await?;
    }
    Ok(())
}
