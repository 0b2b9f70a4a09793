//! `kefu-bench idle`: the CPU a release `kefu` burns with nobody connected.
//!
//! ```text
//! kefu-bench idle [--database-url sqlite|postgres://postgres@127.0.0.1/postgres]
//!     [--kefu target/release/kefu] [--seconds 30] [--warmup 5] [--runs 3]
//! ```
//!
//! Each run starts the `kefu` binary (by default the one next to this program) on a fresh
//! database — a SQLite file in a new temporary folder, or a new PostgreSQL database next to the
//! one named — with no inbox, no client and no job, waits until `/readyz` answers, lets it sit
//! `--warmup` seconds (startup work is not idling), then measures `--seconds` seconds. It
//! reports the CPU time (user + system, from `/proc/<pid>/stat`) per 10 s of the `kefu` process
//! and, on PostgreSQL, of the database server's backends serving that database, then the
//! process's resident memory (`VmRSS`, split into anonymous and file-backed pages) and thread
//! count at the end of the window. The targets are at most 0.1 s per 10 s (1 % of a core) and
//! 20 MB resident. Linux only.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use kefu_tests::{Backend, fresh_database};
use sea_orm::{ConnectionTrait, Database, Statement};

struct Args {
    database_url: String,
    kefu: PathBuf,
    seconds: u64,
    warmup: u64,
    runs: usize,
}

fn parse() -> anyhow::Result<Args> {
    let exe = std::env::current_exe()?;
    let mut a = Args {
        database_url: "sqlite".into(),
        kefu: exe.with_file_name("kefu"),
        seconds: 30,
        warmup: 5,
        runs: 3,
    };
    let mut it = std::env::args().skip(2);
    while let Some(flag) = it.next() {
        let v = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--database-url" => a.database_url = v,
            "--kefu" => a.kefu = v.into(),
            "--seconds" => a.seconds = v.parse()?,
            "--warmup" => a.warmup = v.parse()?,
            "--runs" => a.runs = v.parse()?,
            other => bail!(
                "unknown flag {other}; usage: kefu-bench idle [--database-url URL|sqlite] [--kefu PATH] [--seconds N] [--warmup N] [--runs N]"
            ),
        }
    }
    if a.seconds == 0 || a.runs == 0 {
        bail!("--seconds and --runs must be at least 1");
    }
    Ok(a)
}

/// CPU seconds per 10 s of one run, and the memory at its end.
struct Sample {
    kefu: f64,
    database: Option<f64>,
    memory: Memory,
}

/// Resident memory (KiB) and threads of a process, from `/proc/<pid>/status`.
#[derive(Clone, Copy, Default)]
struct Memory {
    rss: u64,
    anon: u64,
    file: u64,
    threads: u64,
}

impl std::fmt::Display for Memory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "rss_mib={:.1} anon_mib={:.1} file_mib={:.1} threads={}",
            self.rss as f64 / 1024.0,
            self.anon as f64 / 1024.0,
            self.file as f64 / 1024.0,
            self.threads
        )
    }
}

fn memory(pid: u32) -> anyhow::Result<Memory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("cannot read /proc/{pid}/status"))?;
    let mut m = Memory::default();
    for line in status.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let n = || {
            value
                .split_whitespace()
                .next()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        match key {
            "VmRSS" => m.rss = n(),
            "RssAnon" => m.anon = n(),
            "RssFile" => m.file = n(),
            "Threads" => m.threads = n(),
            _ => {}
        }
    }
    Ok(m)
}

pub async fn main() -> anyhow::Result<()> {
    let args = parse()?;
    if !args.kefu.is_file() {
        bail!(
            "no kefu binary at {} (build it with `cargo build --release -p kefu-gateway --bin kefu` or pass --kefu)",
            args.kefu.display()
        );
    }
    let backend = Backend::from_arg(&args.database_url);
    let tick = clock_ticks_per_second().await;
    let mut samples = Vec::with_capacity(args.runs);
    for run in 1..=args.runs {
        let s = one_run(&args, &backend, tick).await?;
        println!(
            "run={run} backend={} seconds={} kefu_cpu_s_per_10s={:.3}{} {}",
            backend.label(),
            args.seconds,
            s.kefu,
            s.database
                .map(|d| format!(" database_cpu_s_per_10s={d:.3}"))
                .unwrap_or_default(),
            s.memory
        );
        samples.push(s);
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let kefu = median(samples.iter().map(|s| s.kefu).collect());
    let database: Vec<f64> = samples.iter().filter_map(|s| s.database).collect();
    let mem = |f: fn(&Memory) -> u64| median(samples.iter().map(|s| f(&s.memory) as f64).collect());
    let memory = Memory {
        rss: mem(|m| m.rss) as u64,
        anon: mem(|m| m.anon) as u64,
        file: mem(|m| m.file) as u64,
        threads: mem(|m| m.threads) as u64,
    };
    println!(
        "median backend={} runs={} kefu_cpu_s_per_10s={kefu:.3} ({:.2} % of a core){} {memory}",
        backend.label(),
        args.runs,
        kefu * 10.0,
        if database.is_empty() {
            String::new()
        } else {
            format!(" database_cpu_s_per_10s={:.3}", median(database))
        }
    );
    Ok(())
}

async fn one_run(args: &Args, backend: &Backend, tick: f64) -> anyhow::Result<Sample> {
    let dir = tempfile::tempdir()?;
    let url = fresh_database(backend, dir.path()).await?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let log = std::fs::File::create(dir.path().join("kefu.log"))?;
    let mut child = tokio::process::Command::new(&args.kefu)
        .current_dir(dir.path())
        .env("KEFU_LISTEN", format!("127.0.0.1:{port}"))
        .env("KEFU_DATABASE_URL", &url)
        .env("KEFU_DATA_DIR", dir.path().join("data"))
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("cannot start {}", args.kefu.display()))?;
    let pid = child.id().context("kefu exited at once")?;
    let result = async {
        wait_ready(port, &mut child).await?;
        tokio::time::sleep(Duration::from_secs(args.warmup)).await;
        let db_pids = database_backends(backend, &url).await?;
        let before = cpu_ticks(pid)?;
        let db_before: Vec<(u32, u64)> = db_pids
            .iter()
            .filter_map(|&p| Some((p, cpu_ticks(p).ok()?)))
            .collect();
        let window = Duration::from_secs(args.seconds);
        // The measurement window itself: nothing to wait for, the point is to do nothing.
        tokio::time::sleep(window).await;
        let kefu = (cpu_ticks(pid)? - before) as f64 / tick;
        let database = db_before
            .iter()
            .filter_map(|&(p, t)| Some(cpu_ticks(p).ok()?.saturating_sub(t)))
            .sum::<u64>() as f64
            / tick;
        let per_10s = 10.0 / window.as_secs_f64();
        anyhow::Ok(Sample {
            kefu: kefu * per_10s,
            database: matches!(backend, Backend::Postgres(_)).then_some(database * per_10s),
            memory: memory(pid)?,
        })
    }
    .await;
    let _ = child.start_kill();
    let _ = child.wait().await;
    if let Backend::Postgres(admin) = backend {
        let name = url::Url::parse(&url)?
            .path()
            .trim_start_matches('/')
            .to_owned();
        let admin = Database::connect(admin.as_str()).await?;
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await?;
    }
    result
}

/// Waits until the server answers `/readyz` (a minute at most).
async fn wait_ready(port: u16, child: &mut tokio::process::Child) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait()? {
            bail!("kefu exited before it was ready ({status}); see kefu.log in its folder");
        }
        let ready = client
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ready {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("kefu was not ready within a minute");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The PostgreSQL server processes serving the database at `url` (none on SQLite).
async fn database_backends(backend: &Backend, url: &str) -> anyhow::Result<Vec<u32>> {
    let Backend::Postgres(admin) = backend else {
        return Ok(Vec::new());
    };
    let name = url::Url::parse(url)?
        .path()
        .trim_start_matches('/')
        .to_owned();
    let admin = Database::connect(admin.as_str()).await?;
    let rows = admin
        .query_all_raw(Statement::from_sql_and_values(
            admin.get_database_backend(),
            "SELECT pid FROM pg_stat_activity WHERE datname = $1",
            [name.into()],
        ))
        .await?;
    admin.close().await?;
    Ok(rows
        .iter()
        .filter_map(|r| r.try_get::<i32>("", "pid").ok())
        .filter_map(|p| u32::try_from(p).ok())
        .collect())
}

/// utime + stime of a process (all its threads), in clock ticks.
fn cpu_ticks(pid: u32) -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("cannot read /proc/{pid}/stat"))?;
    // The command name (field 2) is in parentheses and may hold spaces; count after it.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .context("malformed /proc stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 of the whole line are the 12th and 13th after the name.
    let utime: u64 = fields.get(11).context("no utime")?.parse()?;
    let stime: u64 = fields.get(12).context("no stime")?.parse()?;
    Ok(utime + stime)
}

/// The kernel's clock ticks per second (`getconf CLK_TCK`; 100 on Linux in practice).
async fn clock_ticks_per_second() -> f64 {
    tokio::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .await
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}
