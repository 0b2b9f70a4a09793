//! The real binary as a cluster of processes: `kefu cluster` starts three nodes behind its proxy
//! on one PostgreSQL and one Redis. A visitor on node 1 and an agent on node 2 chat; node 1 is
//! killed with SIGKILL mid-conversation; the visitor's widget reconnects through the proxy with
//! its session and resumes by `seq`: nothing acknowledged is lost or doubled, the conversation
//! goes on across the surviving nodes, and the cluster starts node 1 again.
//!
//! It runs the `kefu` binary next to this test (`cargo test --workspace` builds it) and needs
//! `KEFU_TEST_DATABASE_URL` and `KEFU_TEST_REDIS_URL`; without them it is skipped, saying so.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use kefu_tests::ws::{self, closed, next_where, send};
use kefu_tests::{Backend, backends, fresh_database, fresh_redis_namespace, test_redis};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use tokio::sync::mpsc;

const ADMIN: &str = "admin@cluster.test";
const PASSWORD: &str = "cluster-admin-password";

/// The `kefu` binary built with this test.
fn kefu_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    // target/<profile>/deps/<test> → target/<profile>/kefu
    let bin = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir")
        .join("kefu");
    assert!(
        bin.exists(),
        "{} is missing: build it with `cargo build -p kefu-gateway` (cargo test --workspace does)",
        bin.display()
    );
    bin
}

/// The cluster's process group, stopped (gracefully, then for good) when dropped, so a failed
/// test leaves no node running.
struct Group(u32);

impl Drop for Group {
    fn drop(&mut self) {
        let group = format!("-{}", self.0);
        let _ = std::process::Command::new("kill")
            .args(["-TERM", "--", &group])
            .status();
        for _ in 0..100 {
            let alive = std::process::Command::new("kill")
                .args(["-0", "--", &group])
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if !alive {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = std::process::Command::new("kill")
            .args(["-KILL", "--", &group])
            .status();
    }
}

/// What `kefu cluster` printed: the proxy's URL and each node's pid and URL.
struct Lines(mpsc::UnboundedReceiver<String>);

impl Lines {
    async fn next(&mut self, what: &str) -> String {
        tokio::time::timeout(Duration::from_secs(120), self.0.recv())
            .await
            .unwrap_or_else(|_| panic!("kefu cluster printed no {what} within 120 s"))
            .unwrap_or_else(|| panic!("kefu cluster exited before {what}"))
    }
}

fn pid_of(line: &str) -> u32 {
    line.split_whitespace()
        .nth(3)
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no pid in {line:?}"))
}

async fn kill9(pid: u32) {
    let status = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .await
        .expect("kill runs");
    assert!(status.success(), "kill -9 {pid}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_node_loses_nothing_and_its_visitor_resumes_on_another() {
    let (Some(pg), Some(redis)) = (
        backends()
            .into_iter()
            .find(|b| matches!(b, Backend::Postgres(_))),
        test_redis(),
    ) else {
        eprintln!(
            "skipping: the cluster needs KEFU_TEST_DATABASE_URL and KEFU_TEST_REDIS_URL (several processes share one PostgreSQL and one Redis)"
        );
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = fresh_database(&pg, dir.path()).await.expect("a database");
    let proxy_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut child = Command::new(kefu_bin())
        .args(["cluster", "--nodes", "3", "--first-port", "0"])
        .current_dir(dir.path())
        .env("KEFU_DATABASE_URL", &database_url)
        .env("KEFU_REDIS_URL", &redis)
        .env("KEFU_REDIS_NAMESPACE", fresh_redis_namespace())
        .env("KEFU_LISTEN", format!("127.0.0.1:{proxy_port}"))
        .env("KEFU_DATA_DIR", dir.path().join("data"))
        .env("KEFU_BOOTSTRAP_ADMIN_EMAIL", ADMIN)
        .env("KEFU_BOOTSTRAP_ADMIN_PASSWORD", PASSWORD)
        .env("RUST_LOG", "warn")
        .process_group(0)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("kefu cluster starts");
    let _group = Group(child.id().expect("pid"));
    let (tx, rx) = mpsc::unbounded_channel();
    let stdout = child.stdout.take().expect("stdout");
    tokio::spawn(async move {
        let mut lines = BufReader::new(stdout).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let _ = tx.send(line);
        }
    });
    let mut lines = Lines(rx);
    let mut nodes: HashMap<String, (u32, String)> = HashMap::new();
    let mut proxy = None;
    while nodes.len() < 3 || proxy.is_none() {
        let line = lines.next("the nodes and the proxy").await;
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["node", n, "pid", _, url] => {
                nodes.insert((*n).to_owned(), (pid_of(&line), (*url).to_owned()));
            }
            ["proxy", url] => proxy = Some((*url).to_owned()),
            _ => {}
        }
    }
    let proxy = proxy.expect("proxy");
    let (node1_pid, node1) = nodes["1"].clone();
    let node2 = nodes["2"].1.clone();

    let http = reqwest::Client::new();
    let login: Value = http
        .post(format!("{proxy}/api/v1/auth/login"))
        .json(&json!({"email": ADMIN, "password": PASSWORD}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("login body");
    let token = login["token"].as_str().expect("token").to_owned();
    let api = |method: reqwest::Method, path: &str| {
        http.request(method, format!("{proxy}{path}"))
            .bearer_auth(&token)
    };
    let inboxes: Value = api(reqwest::Method::GET, "/api/v1/inboxes")
        .send()
        .await
        .expect("inboxes")
        .json()
        .await
        .expect("inboxes body");
    let website_token = inboxes["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["channel"]["type"] == "web_chat")
        .and_then(|i| i["website_token"].as_str())
        .expect("the default web chat inbox")
        .to_owned();

    // The agent's console on node 2, the visitor's widget on node 1.
    let mut agent = ws::connect(&node2, &format!("/ws/agent?token={token}")).await;
    let mut tab = ws::connect(&node1, "/ws/web_chat").await;
    send(
        &mut tab,
        json!({"type": "hello", "website_token": website_token, "name": "Visitor Qian"}),
    )
    .await;
    let welcome = next_where(&mut tab, "welcome", |f| f["type"] == "welcome").await;
    let session = welcome["session"].as_str().expect("session").to_owned();
    send(
        &mut tab,
        json!({"type": "message", "client_id": "m-1", "text": "订单还没到"}),
    )
    .await;
    let ack = next_where(&mut tab, "ack", |f| f["type"] == "ack").await;
    let conv = ack["conversation_id"].as_i64().expect("conversation");
    assert_eq!(ack["seq"], 1);
    next_where(&mut agent, "the first message on node 2", |f| {
        f["event"]["type"] == "message.created" && f["event"]["data"]["seq"] == 1
    })
    .await;

    // Node 1 dies mid-conversation.
    kill9(node1_pid).await;
    closed(&mut tab).await;

    // The widget reconnects through the proxy with its session and resumes after seq 1.
    let mut tab = ws::connect(&proxy, "/ws/web_chat").await;
    send(
        &mut tab,
        json!({"type": "hello", "website_token": website_token, "session": session, "after_seq": 1}),
    )
    .await;
    let welcome = next_where(&mut tab, "welcome again", |f| f["type"] == "welcome").await;
    assert_eq!(welcome["conversation_id"], conv, "the same conversation");
    assert_eq!(
        welcome["messages"],
        json!([]),
        "nothing after seq 1 to replay"
    );
    send(
        &mut tab,
        json!({"type": "message", "client_id": "m-2", "text": "还在吗?"}),
    )
    .await;
    let ack = next_where(&mut tab, "ack after the kill", |f| f["type"] == "ack").await;
    assert_eq!(ack["seq"], 2);
    next_where(&mut agent, "the second message on node 2", |f| {
        f["event"]["type"] == "message.created" && f["event"]["data"]["seq"] == 2
    })
    .await;

    // The agent answers through the proxy; the widget shows it live.
    let reply = api(
        reqwest::Method::POST,
        &format!("/api/v1/conversations/{conv}/messages"),
    )
    .json(&json!({"text": "在的，马上查。"}))
    .send()
    .await
    .expect("reply");
    assert_eq!(reply.status(), reqwest::StatusCode::CREATED);
    let live = next_where(&mut tab, "the agent's reply", |f| {
        f["type"] == "message" && f["message"]["direction"] == "outbound"
    })
    .await;
    assert_eq!(live["message"]["seq"], 3);

    // Nothing lost, nothing doubled.
    let messages: Value = api(
        reqwest::Method::GET,
        &format!("/api/v1/conversations/{conv}/messages"),
    )
    .send()
    .await
    .expect("messages")
    .json()
    .await
    .expect("messages body");
    let seen: Vec<(i64, String)> = messages["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| {
            (
                m["seq"].as_i64().expect("seq"),
                m["content"]["text"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (1, "订单还没到".to_owned()),
            (2, "还在吗?".to_owned()),
            (3, "在的，马上查。".to_owned()),
        ]
    );

    // The cluster notices and starts node 1 again.
    let mut restarted = false;
    while !restarted {
        let line = lines.next("node 1 started again").await;
        restarted = line.starts_with("node 1 pid ") && pid_of(&line) != node1_pid;
    }
}
