//! `kefu-bench reports`: report queries over a year of a million conversations.
//!
//! ```text
//! kefu-bench reports --database-url sqlite|postgres://postgres@127.0.0.1/postgres \
//!     [--conversations 1000000] [--queries 20] [--keep] [--reuse URL] [--from-events]
//! ```
//!
//! Fills a fresh database with `--conversations` conversations spread evenly over the year
//! 2025, written in bulk as the metric events the outbox consumer would have derived from
//! them: each is opened, waits in the queue, is answered (its first response and two or three
//! more replies) and resolved; a third carry one of ten labels; one in ten is reopened a day
//! later and answered and resolved again, one in twenty is transferred, three in ten are rated.
//! Twenty agents in four teams, six inboxes over four channel types; durations are spread over
//! seconds to days so the medians and 90th percentiles are not trivial. Then, per case
//! (overview per day over the year in UTC, Asia/Shanghai and America/New_York, agents, teams,
//! channels, inboxes, and the same with a filter), it runs `--queries` reports one after
//! another, each what `GET /api/v1/reports/{grouping}` does but HTTP ([`Reports::report`]), and
//! prints the median and the 99th percentile.
//!
//! The fill writes the metric events only, as a bulk import would; the hourly and daily
//! rollups are then rebuilt from them (timed apart). `--from-events` measures the reports
//! computed from the metric events alone ([`Reports::report_from_events`], what every report
//! did before the rollups: one query for the range's rows, figures computed in Rust).
//!
//! `--keep` leaves the filled database in place and prints its URL; `--reuse URL` measures
//! an existing one (migrated first, filled only when it holds no metric events), so one fill
//! serves several runs.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{DateTime, TimeZone, Utc};
use kefu_normalizer::Db;
use kefu_normalizer::entity::{agent, metric_event, team};
use kefu_normalizer::reports::{
    Actor, Clock, Grouping, MetricKind, ReportFilter, ReportRange, Reports, rollup,
};
use kefu_tests::{Backend, fresh_database};
use sea_orm::{EntityTrait, PaginatorTrait, Set};

/// Rows per insert statement (13 columns each: under SQLite's 32,766 bound values).
const BATCH: usize = 2000;
/// Rows per transaction.
const TX_ROWS: usize = 50_000;
const AGENTS: usize = 20;
const TEAMS: usize = 4;
const LABELS: usize = 10;
const INBOXES: [&str; 6] = [
    "web_chat", "web_chat", "email", "wechat", "wechat", "app_push",
];

struct Args {
    database_url: String,
    conversations: usize,
    queries: usize,
    keep: bool,
    reuse: Option<String>,
    from_events: bool,
}

fn parse() -> anyhow::Result<Args> {
    let mut a = Args {
        database_url: "sqlite".into(),
        conversations: 1_000_000,
        queries: 20,
        keep: false,
        reuse: None,
        from_events: false,
    };
    let mut it = std::env::args().skip(2);
    while let Some(flag) = it.next() {
        if flag == "--keep" || flag == "--from-events" {
            a.keep |= flag == "--keep";
            a.from_events |= flag == "--from-events";
            continue;
        }
        let v = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--database-url" => a.database_url = v,
            "--conversations" => a.conversations = v.parse()?,
            "--queries" => a.queries = v.parse()?,
            "--reuse" => a.reuse = Some(v),
            other => bail!(
                "unknown flag {other}; usage: kefu-bench reports [--database-url URL|sqlite] [--conversations N] [--queries N] [--keep] [--reuse URL] [--from-events]"
            ),
        }
    }
    if a.conversations < 1000 || a.queries == 0 {
        bail!("--conversations must be at least 1000 and --queries at least 1");
    }
    Ok(a)
}

/// What the fill made: ids to filter by.
struct Seeded {
    inboxes: Vec<i64>,
    agents: Vec<i64>,
    teams: Vec<i64>,
}

pub async fn main() -> anyhow::Result<()> {
    let args = parse()?;
    let dir = tempfile::tempdir()?;
    let backend = Backend::from_arg(&args.database_url);
    let url = match &args.reuse {
        Some(u) => u.clone(),
        None if args.keep && matches!(backend, Backend::Sqlite) => {
            let kept = dir.keep();
            format!("sqlite://{}?mode=rwc", kept.join("kefu.db").display())
        }
        None => fresh_database(&backend, dir.path()).await?,
    };
    let db = Db::connect(&url, 8).await?;
    db.migrate().await?;
    let started = Instant::now();
    let seeded = fill(&db, args.conversations).await?;
    kefu_tests::analyze(&db).await?;
    let filled = started.elapsed();
    let started = Instant::now();
    let rebuilt = rollup::rebuild_if_missing(&db).await?;
    kefu_tests::analyze(&db).await?;
    let rows = metric_event::Entity::find().count(db.conn()).await?;
    println!(
        "backend={} conversations={} metric_events={} queries_per_case={} fill_s={:.1} \
         rollup_rows={} rollup_rebuild_s={:.1} from_events={}",
        backend.label(),
        args.conversations,
        rows,
        args.queries,
        filled.as_secs_f64(),
        rebuilt.map_or("kept".to_owned(), |n| n.to_string()),
        started.elapsed().as_secs_f64(),
        args.from_events,
    );

    let reports = Reports::new(db.clone());
    let now = Utc::now();
    let year = |tz: &str| ReportRange::parse(Some("2025-01-01"), Some("2025-12-31"), Some(tz), now);
    let s = &seeded;
    type Case<'a> = (
        &'a str,
        Grouping,
        &'a str,
        Box<dyn Fn(usize) -> ReportFilter + 'a>,
    );
    let none = || Box::new(|_| ReportFilter::default()) as Box<dyn Fn(usize) -> ReportFilter>;
    let cases: Vec<Case<'_>> = vec![
        ("overview", Grouping::Overview, "UTC", none()),
        (
            "overview, Asia/Shanghai",
            Grouping::Overview,
            "Asia/Shanghai",
            none(),
        ),
        (
            "overview, America/New_York",
            Grouping::Overview,
            "America/New_York",
            none(),
        ),
        ("agents", Grouping::Agents, "UTC", none()),
        ("teams", Grouping::Teams, "UTC", none()),
        ("channels", Grouping::Channels, "UTC", none()),
        ("inboxes", Grouping::Inboxes, "UTC", none()),
        ("labels", Grouping::Labels, "UTC", none()),
        (
            "overview, agent_id",
            Grouping::Overview,
            "UTC",
            Box::new(|i| ReportFilter {
                agent_id: Some(s.agents[i % s.agents.len()]),
                ..ReportFilter::default()
            }),
        ),
        (
            "agents, inbox_id",
            Grouping::Agents,
            "UTC",
            Box::new(|i| ReportFilter {
                inbox_id: Some(s.inboxes[i % s.inboxes.len()]),
                ..ReportFilter::default()
            }),
        ),
        (
            "channels, team_id",
            Grouping::Channels,
            "UTC",
            Box::new(|i| ReportFilter {
                team_id: Some(s.teams[i % s.teams.len()]),
                ..ReportFilter::default()
            }),
        ),
        (
            "inboxes, supervisor's 3 inboxes",
            Grouping::Inboxes,
            "UTC",
            Box::new(|i| ReportFilter {
                inboxes: Some(
                    (0..3)
                        .map(|k| s.inboxes[(i + k) % s.inboxes.len()])
                        .collect(),
                ),
                ..ReportFilter::default()
            }),
        ),
    ];
    println!("| case | p50 ms | p99 ms | max ms | items | conversations |");
    println!("|---|---|---|---|---|---|");
    for (name, grouping, tz, filter) in &cases {
        let range = year(tz)?;
        let mut latencies = Vec::with_capacity(args.queries);
        let mut shape = (0, 0);
        for i in 0..args.queries {
            let f = filter(i);
            let t = Instant::now();
            let r = if args.from_events {
                reports
                    .report_from_events(*grouping, &range, &f, Clock::Wall)
                    .await?
            } else {
                reports.report(*grouping, &range, &f, Clock::Wall).await?
            };
            latencies.push(t.elapsed());
            shape = (r.items.len(), r.totals.conversations);
        }
        latencies.sort();
        let ms = |p: f64| {
            kefu_tests::quantile(&latencies, p)
                .map_or(f64::NAN, |d: Duration| d.as_secs_f64() * 1e3)
        };
        println!(
            "| {name} | {:.1} | {:.1} | {:.1} | {} | {} |",
            ms(0.5),
            ms(0.99),
            ms(1.0),
            shape.0,
            shape.1
        );
    }
    if args.keep || args.reuse.is_some() {
        println!("database kept: {url}");
    } else {
        kefu_tests::drop_fresh_database(&backend, &db, &url).await?;
    }
    Ok(())
}

/// A small deterministic generator (xorshift64*), so every run fills the same year.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A duration between `lo` and `hi` milliseconds, spread logarithmically (many short
    /// ones, a long tail).
    fn span(&mut self, lo: i64, hi: i64) -> i64 {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        let (lo, hi) = ((lo as f64).ln(), (hi as f64).ln());
        (lo + u * (hi - lo)).exp() as i64
    }
}

/// Agents, teams and inboxes, then the metric events, unless the database has some already.
async fn fill(db: &Db, n: usize) -> anyhow::Result<Seeded> {
    let existing_agents: Vec<i64> = agent::Entity::find()
        .all(db.conn())
        .await?
        .into_iter()
        .map(|a| a.id)
        .collect();
    if metric_event::Entity::find().count(db.conn()).await? > 0 {
        let teams = team::Entity::find().all(db.conn()).await?;
        let inboxes = kefu_normalizer::entity::inbox::Entity::find()
            .all(db.conn())
            .await?;
        return Ok(Seeded {
            inboxes: inboxes.iter().map(|i| i.id).collect(),
            agents: existing_agents,
            teams: teams.iter().map(|t| t.id).collect(),
        });
    }
    let mut inboxes = Vec::new();
    for (i, kind) in INBOXES.iter().enumerate() {
        inboxes.push(
            kefu_tests::bench_inbox(db, &format!("{kind} {i}"), kind)
                .await?
                .id,
        );
    }
    let kefu_tests::bench_seed::Staff {
        agents,
        teams,
        labels,
    } = kefu_tests::bench_seed::staff(db, AGENTS, 50, TEAMS, LABELS).await?;
    let start = Utc
        .with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
        .single()
        .context("a valid start")?;
    let year_ms = 365 * 86_400_000i64;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut source = 0i64;
    let mut rows: Vec<metric_event::ActiveModel> = Vec::with_capacity(TX_ROWS + 64);
    let channel = |inbox: usize| INBOXES[inbox].to_owned();
    for c in 0..n {
        let conv = c as i64 + 1;
        let opened = start + chrono::Duration::milliseconds(c as i64 * year_ms / n as i64);
        let inbox = c % INBOXES.len();
        // A third of the conversations carry a label.
        let labelled = (c % 3 == 1).then(|| labels[c % LABELS].to_string());
        let mut agent = rng.below(AGENTS as u64) as usize;
        let mut push = |kind: MetricKind,
                        actor: Actor,
                        agent: Option<usize>,
                        at: DateTime<Utc>,
                        ms: Option<i64>,
                        rating: Option<i16>| {
            source += 1;
            rows.push(metric_event::ActiveModel {
                kind: Set(kind),
                source_event_id: Set(source),
                conversation_id: Set(conv),
                inbox_id: Set(inboxes[inbox]),
                channel: Set(channel(inbox)),
                team_id: Set(agent.map(|a| teams[a % TEAMS])),
                agent_id: Set(agent.map(|a| agents[a])),
                actor: Set(actor),
                at: Set(at),
                wall_ms: Set(ms),
                business_ms: Set(ms),
                rating: Set(rating),
                labels: Set(labelled.clone()),
                ..Default::default()
            });
        };
        let ms = chrono::Duration::milliseconds;
        let mut cycle_start = opened;
        push(MetricKind::Opened, Actor::Contact, None, opened, None, None);
        let cycles = if rng.below(10) == 0 { 2 } else { 1 };
        for k in 0..cycles {
            if k == 1 {
                cycle_start += ms(86_400_000);
                push(
                    MetricKind::Reopen,
                    Actor::Contact,
                    None,
                    cycle_start,
                    None,
                    None,
                );
            }
            let wait = rng.span(2_000, 1_800_000);
            push(
                MetricKind::QueueWait,
                Actor::System,
                Some(agent),
                cycle_start + ms(wait),
                Some(wait),
                None,
            );
            if rng.below(20) == 0 {
                agent = (agent + 1 + rng.below(AGENTS as u64 - 1) as usize) % AGENTS;
                push(
                    MetricKind::Transfer,
                    Actor::Human,
                    Some(agent),
                    cycle_start + ms(wait + 1000),
                    None,
                    None,
                );
            }
            let first = wait + rng.span(5_000, 3_600_000);
            let t_first = cycle_start + ms(first);
            push(
                MetricKind::FirstResponse,
                Actor::Human,
                Some(agent),
                t_first,
                Some(first),
                None,
            );
            let mut t = t_first;
            push(MetricKind::Reply, Actor::Human, Some(agent), t, None, None);
            for _ in 0..2 + rng.below(2) {
                t += ms(rng.span(10_000, 7_200_000));
                push(MetricKind::Reply, Actor::Human, Some(agent), t, None, None);
            }
            let resolved = (t - cycle_start).num_milliseconds() + rng.span(60_000, 86_400_000);
            push(
                MetricKind::Resolution,
                Actor::Human,
                Some(agent),
                cycle_start + ms(resolved),
                Some(resolved),
                None,
            );
            if k + 1 == cycles && rng.below(10) < 3 {
                let rating = [5, 5, 5, 4, 4, 3, 2, 1][rng.below(8) as usize];
                push(
                    MetricKind::Csat,
                    Actor::Contact,
                    Some(agent),
                    cycle_start + ms(resolved + rng.span(10_000, 3_600_000)),
                    None,
                    Some(rating),
                );
            }
        }
        if rows.len() >= TX_ROWS || c + 1 == n {
            let tx = db.begin_write().await?;
            for chunk in rows.chunks(BATCH) {
                metric_event::Entity::insert_many(chunk.to_vec())
                    .exec_without_returning(&*tx)
                    .await?;
            }
            tx.commit().await?;
            rows.clear();
        }
    }
    Ok(Seeded {
        inboxes,
        agents,
        teams,
    })
}
