//! An idle server stays quiet: with no client, no message and no job, Kefu uses almost no CPU.
//! (Its two job workers once shared a task and woke each other into about a thousand empty
//! job fetches a second: half a core on SQLite.) This test is alone in its binary, so the CPU
//! time of the process is the server's.

use std::time::Duration;

use kefu_tests::{TestApp, backends};

/// The CPU time (user + system, all threads) this process has used so far.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // Fields 14 and 15 (utime, stime) are the 12th and 13th after the command name, which is
    // in parentheses and may hold spaces.
    let (_, rest) = stat.rsplit_once(')').expect("command name");
    let fields: Vec<u64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .map(|f| f.parse().expect("clock ticks"))
        .collect();
    let ticks_per_second: u64 = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100);
    Duration::from_millis((fields[0] + fields[1]) * 1000 / ticks_per_second)
}

/// Windows measured at most per backend; the quietest one counts. Startup work that spills
/// past the first second on a loaded machine (the first relay pass, an index commit) shows in
/// one window; a server that keeps itself busy shows in every one.
const WINDOWS: usize = 4;

#[tokio::test]
async fn an_idle_server_uses_almost_no_cpu() {
    let window = Duration::from_secs(2);
    // At most 5 % of a core, in a debug build (a release build idles far below 1 %).
    let allowed = window / 20;
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        // Startup's own work (the workers registering, the first relay pass) is not idling.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let mut used = Vec::new();
        for _ in 0..WINDOWS {
            let before = cpu_time();
            // The measurement window: there is nothing to wait for, the point is that nothing
            // runs.
            tokio::time::sleep(window).await;
            used.push(cpu_time() - before);
            if used.iter().any(|u| *u <= allowed) {
                break;
            }
        }
        assert!(
            used.iter().any(|u| *u <= allowed),
            "{}: an idle server used {used:?} of CPU in each {window:?}",
            backend.label()
        );
        app.stop().await;
    }
}
