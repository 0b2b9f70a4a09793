//! What a measured stretch of load cost the server: CPU seconds of the `kefu` process
//! (`--server-pid`, from `/proc/<pid>/stat`) and, with `--pg URL` naming the server's PostgreSQL
//! database, of the database backends serving it, the transactions committed
//! (`pg_stat_database.xact_commit`) and each table's scans and row changes
//! (`pg_stat_user_tables`).

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Context;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};

/// Table counters, in the order of [`TABLE_SQL`].
type TableRow = [i64; 5];

const TABLE_SQL: &str = "SELECT relname::text AS name, seq_scan, seq_tup_read, \
     COALESCE(idx_scan, 0) AS idx_scan, n_tup_ins + n_tup_upd + n_tup_del AS written, \
     n_dead_tup FROM pg_stat_user_tables";

/// One reading of every counter.
pub struct Snapshot {
    kefu_ticks: Option<u64>,
    backends: HashMap<u32, u64>,
    commits: i64,
    tables: HashMap<String, TableRow>,
}

/// Reads the counters of one server.
pub struct Meter {
    pid: Option<u32>,
    /// A database server process measured as a whole (a peer's MariaDB, say).
    db_pid: Option<u32>,
    pg: Option<DatabaseConnection>,
    ticks_per_second: f64,
}

impl Snapshot {
    /// Keeps this reading's CPU times and takes the database counters of a later one.
    pub fn take_counters(&mut self, later: Snapshot) {
        self.commits = later.commits;
        self.tables = later.tables;
    }
}

impl Meter {
    /// A meter for the `kefu` process `pid` and the PostgreSQL database at `pg`.
    pub async fn new(pid: Option<u32>, pg: Option<&str>) -> anyhow::Result<Self> {
        let pg = match pg {
            Some(url) => Some(Database::connect(url).await.context("--pg")?),
            None => None,
        };
        Ok(Self {
            pid,
            db_pid: None,
            pg,
            ticks_per_second: clock_ticks_per_second(),
        })
    }

    /// Also counts the CPU time of the database server process `pid`, for a database that is
    /// not the PostgreSQL named by `--pg`.
    pub fn with_database_pid(mut self, pid: Option<u32>) -> Self {
        self.db_pid = pid;
        self
    }

    /// Reads every counter now. PostgreSQL publishes a backend's statistics up to a second
    /// after its transactions, so wait [`settle`] before the last reading.
    pub async fn read(&self) -> anyhow::Result<Snapshot> {
        let kefu_ticks = self.pid.map(cpu_ticks).transpose()?;
        let (mut backends, mut commits, mut tables) = (HashMap::new(), 0, HashMap::new());
        if let Some(pid) = self.db_pid {
            backends.insert(pid, cpu_ticks(pid)?);
        }
        if let Some(pg) = &self.pg {
            let be = pg.get_database_backend();
            let rows = pg
                .query_all_raw(Statement::from_string(
                    be,
                    "SELECT pid FROM pg_stat_activity \
                     WHERE datname = current_database() AND pid <> pg_backend_pid()",
                ))
                .await?;
            for r in rows {
                let pid: i32 = r.try_get("", "pid")?;
                if let Ok(pid) = u32::try_from(pid)
                    && let Ok(t) = cpu_ticks(pid)
                {
                    backends.insert(pid, t);
                }
            }
            let row = pg
                .query_one_raw(Statement::from_string(
                    be,
                    "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()",
                ))
                .await?
                .context("no pg_stat_database row")?;
            commits = row.try_get("", "xact_commit")?;
            for r in pg
                .query_all_raw(Statement::from_string(be, TABLE_SQL))
                .await?
            {
                let name: String = r.try_get("", "name")?;
                let mut v = [0i64; 5];
                for (slot, col) in v.iter_mut().zip([
                    "seq_scan",
                    "seq_tup_read",
                    "idx_scan",
                    "written",
                    "n_dead_tup",
                ]) {
                    *slot = r.try_get("", col)?;
                }
                tables.insert(name, v);
            }
        }
        Ok(Snapshot {
            kefu_ticks,
            backends,
            commits,
            tables,
        })
    }

    /// The reading at the end of a measured stretch: CPU times now, database counters once
    /// PostgreSQL has published them (after [`settle`]).
    pub async fn finish(&self) -> anyhow::Result<Snapshot> {
        let mut after = self.read().await?;
        settle().await;
        after.take_counters(self.read().await?);
        Ok(after)
    }

    /// Prints what happened between two readings, per `units` operations (replies, messages).
    pub fn report(&self, before: &Snapshot, after: &Snapshot, units: usize, what: &str) {
        let per = |x: f64| x * 1000.0 / units.max(1) as f64;
        let kefu = match (before.kefu_ticks, after.kefu_ticks) {
            (Some(b), Some(a)) => Some(a.saturating_sub(b) as f64 / self.ticks_per_second),
            _ => None,
        };
        let database = (self.pg.is_some() || self.db_pid.is_some()).then(|| {
            after
                .backends
                .iter()
                .map(|(pid, a)| a.saturating_sub(*before.backends.get(pid).unwrap_or(&0)))
                .sum::<u64>() as f64
                / self.ticks_per_second
        });
        let total = kefu.unwrap_or(0.0) + database.unwrap_or(0.0);
        let fmt = |x: Option<f64>| x.map_or("-".to_owned(), |x| format!("{x:.2}"));
        println!(
            "cpu seconds: server={} database={} total={total:.2}; per 1,000 {what}: server={} database={} total={:.2}",
            fmt(kefu),
            fmt(database),
            fmt(kefu.map(per)),
            fmt(database.map(per)),
            per(total),
        );
        if self.pg.is_none() {
            return;
        }
        let commits = after.commits - before.commits;
        println!(
            "transactions committed={commits} per {}={:.1}",
            what.trim_end_matches('s'),
            commits as f64 / units.max(1) as f64
        );
        let mut rows: Vec<(&String, TableRow)> = after
            .tables
            .iter()
            .map(|(name, a)| {
                let b = before.tables.get(name).copied().unwrap_or_default();
                let mut d = [0i64; 5];
                for i in 0..4 {
                    d[i] = a[i] - b[i];
                }
                d[4] = a[4];
                (name, d)
            })
            .filter(|(_, d)| d[..4].iter().any(|x| *x != 0))
            .collect();
        rows.sort_by_key(|(name, d)| (std::cmp::Reverse(d[0]), (*name).clone()));
        println!("table: seq_scan seq_tup_read idx_scan rows_written dead_rows");
        for (name, d) in rows {
            println!("  {name}: {} {} {} {} {}", d[0], d[1], d[2], d[3], d[4]);
        }
    }
}

/// How long PostgreSQL may take to publish a backend's statistics.
pub async fn settle() {
    tokio::time::sleep(Duration::from_millis(1500)).await;
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
    let utime: u64 = fields.get(11).context("no utime")?.parse()?;
    let stime: u64 = fields.get(12).context("no stime")?.parse()?;
    Ok(utime + stime)
}

/// The kernel's clock ticks per second (`getconf CLK_TCK`; 100 on Linux in practice).
fn clock_ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}
