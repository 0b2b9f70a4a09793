//! `kefu cluster`: several Kefu nodes on one machine, on one PostgreSQL and one Redis, behind a
//! small round-robin TCP proxy — the topology of `compose.yaml` without Docker, to try it and to
//! test it.
//!
//! The command starts node 1 and waits until it is ready (it applies the migrations and creates
//! the first admin), then the others, each a `kefu serve` child process with its own port and
//! data folder (a copy of the same secret key), and once all are ready announces the proxy. The
//! proxy listens on `listen` and hands each
//! connection to the next node that accepts it, so a dead node is skipped. A node that exits is
//! started again a second later. One line per change goes to standard output, for people and
//! tests:
//!
//! ```text
//! node 1 pid 4242 http://127.0.0.1:8081
//! proxy http://127.0.0.1:8080
//! node 1 exited (signal: 9)
//! node 1 pid 4250 http://127.0.0.1:8081
//! ```
//!
//! Ctrl-C (or SIGTERM) stops the nodes gracefully and exits.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};
use tokio_util::sync::CancellationToken;

use crate::config::Config;

/// How long a node may take to become ready (node 1 applies the migrations).
const READY_WITHIN: Duration = Duration::from_secs(120);

/// How long the proxy waits for a node to accept a connection before trying the next.
const CONNECT_WITHIN: Duration = Duration::from_secs(1);

/// What `kefu cluster` was asked for.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// How many nodes.
    pub nodes: usize,
    /// The first node's port; the others follow. `0` picks free ports.
    pub first_port: u16,
    /// The configuration file the nodes read, if any.
    pub config_file: Option<PathBuf>,
}

/// Runs the cluster until Ctrl-C or SIGTERM (or `stop`).
pub async fn run(
    config: &Config,
    options: ClusterOptions,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    if !config.database_url.starts_with("postgres") {
        anyhow::bail!(
            "kefu cluster needs PostgreSQL: set database_url to a postgres:// URL (several nodes cannot share one SQLite database)"
        );
    }
    if config.redis_url.is_none() {
        anyhow::bail!(
            "kefu cluster needs Redis: set redis_url (the nodes share events and presence through it)"
        );
    }
    if options.nodes == 0 {
        anyhow::bail!("--nodes must be at least 1");
    }
    let host = config.listen.ip();
    let proxy = TcpListener::bind(config.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
    let proxy_addr = proxy.local_addr()?;
    let public_url = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{proxy_addr}"));
    // One secret key for all nodes: sessions and sealed channel credentials must open on each.
    if config.secret_key.is_none() {
        crate::crypto::Keys::load_or_generate(None, &config.data_dir)?;
    }
    let mut addrs = Vec::with_capacity(options.nodes);
    for i in 0..options.nodes {
        let port = match options.first_port {
            0 => TcpListener::bind((host, 0)).await?.local_addr()?.port(),
            p => p.checked_add(u16::try_from(i)?).ok_or_else(|| {
                anyhow::anyhow!("--first-port leaves no room for {} nodes", options.nodes)
            })?,
        };
        addrs.push(SocketAddr::new(host, port));
    }
    let nodes: Vec<Node> = addrs
        .iter()
        .enumerate()
        .map(|(i, addr)| Node {
            number: i + 1,
            addr: *addr,
            data_dir: config.data_dir.join(format!("node-{}", i + 1)),
            config_file: options.config_file.clone(),
            public_url: public_url.clone(),
            shared_key: config
                .secret_key
                .is_none()
                .then(|| config.data_dir.join("secret.key")),
        })
        .collect();

    let mut first = nodes[0].spawn()?;
    if let Err(e) = wait_ready(nodes[0].addr, &mut first, &stop).await {
        let _ = first.kill().await;
        return Err(e);
    }
    let mut children = vec![first];
    for node in &nodes[1..] {
        children.push(node.spawn()?);
    }
    for (node, child) in nodes.iter().zip(children.iter_mut()).skip(1) {
        if let Err(e) = wait_ready(node.addr, child, &stop).await {
            for c in &mut children {
                let _ = c.kill().await;
            }
            return Err(e);
        }
    }
    let supervisors: Vec<_> = nodes
        .iter()
        .zip(children)
        .map(|(node, child)| tokio::spawn(node.clone().supervise(child, stop.clone())))
        .collect();
    // Every node is ready: the proxy starts handing out connections.
    say(&format!("proxy http://{proxy_addr}")).await;

    let next = Arc::new(AtomicUsize::new(0));
    loop {
        let (client, _) = tokio::select! {
            () = stop.cancelled() => break,
            accepted = proxy.accept() => match accepted {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "The proxy could not accept a connection.");
                    continue;
                }
            },
        };
        let start = next.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(forward(client, addrs.clone(), start));
    }
    for s in supervisors {
        let _ = s.await;
    }
    Ok(())
}

/// One node of the cluster.
#[derive(Debug, Clone)]
struct Node {
    number: usize,
    addr: SocketAddr,
    data_dir: PathBuf,
    config_file: Option<PathBuf>,
    public_url: String,
    /// The generated secret key, copied into the node's data folder.
    shared_key: Option<PathBuf>,
}

impl Node {
    fn spawn(&self) -> anyhow::Result<Child> {
        std::fs::create_dir_all(&self.data_dir)?;
        if let Some(key) = &self.shared_key {
            copy_key(key, &self.data_dir.join("secret.key"))?;
        }
        let mut cmd = Command::new(std::env::current_exe()?);
        if let Some(file) = &self.config_file {
            cmd.arg("--config").arg(file);
        }
        cmd.arg("serve")
            .env("KEFU_LISTEN", self.addr.to_string())
            .env("KEFU_DATA_DIR", &self.data_dir)
            .env("KEFU_PUBLIC_URL", &self.public_url)
            .kill_on_drop(true);
        let child = cmd.spawn()?;
        let pid = child.id().unwrap_or_default();
        let number = self.number;
        let addr = self.addr;
        tokio::spawn(async move { say(&format!("node {number} pid {pid} http://{addr}")).await });
        Ok(child)
    }

    /// Starts the node again whenever it exits, until `stop`; then stops it gracefully.
    async fn supervise(self, mut child: Child, stop: CancellationToken) {
        loop {
            tokio::select! {
                () = stop.cancelled() => {
                    terminate(&mut child).await;
                    return;
                }
                status = child.wait() => {
                    let status = status.map_or_else(|e| e.to_string(), |s| s.to_string());
                    say(&format!("node {} exited ({status})", self.number)).await;
                }
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
            match self.spawn() {
                Ok(c) => child = c,
                Err(e) => {
                    tracing::error!(node = self.number, error = %e, "Cannot start the node again.");
                    return;
                }
            }
        }
    }
}

/// Copies the shared secret key unless the node has the same one already.
fn copy_key(from: &Path, to: &Path) -> std::io::Result<()> {
    let key = std::fs::read_to_string(from)?;
    if std::fs::read_to_string(to).ok().as_deref() == Some(key.as_str()) {
        return Ok(());
    }
    std::fs::write(to, key)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

/// Asks a node to stop (SIGTERM: it drains and releases its leases), killing it after 15 s.
async fn terminate(child: &mut Child) {
    #[cfg(unix)]
    if let Some(pid) = child.id() {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status()
            .await;
        if tokio::time::timeout(Duration::from_secs(15), child.wait())
            .await
            .is_ok()
        {
            return;
        }
    }
    let _ = child.kill().await;
}

/// Waits until the node at `addr` answers `/readyz` with 200.
async fn wait_ready(
    addr: SocketAddr,
    child: &mut Child,
    stop: &CancellationToken,
) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let url = format!("http://{addr}/readyz");
    let deadline = tokio::time::Instant::now() + READY_WITHIN;
    let mut every = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            () = stop.cancelled() => anyhow::bail!("stopped before the node at {addr} was ready"),
            status = child.wait() => anyhow::bail!("the node at {addr} exited before it was ready ({})", status.map_or_else(|e| e.to_string(), |s| s.to_string())),
            _ = every.tick() => {}
        }
        if let Ok(r) = client.get(&url).send().await
            && r.status().is_success()
        {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            anyhow::bail!(
                "the node at {addr} was not ready within {} s",
                READY_WITHIN.as_secs()
            );
        }
    }
}

/// Connects `client` to the first node, from `start` on, that accepts, and relays both ways.
async fn forward(mut client: TcpStream, nodes: Vec<SocketAddr>, start: usize) {
    for k in 0..nodes.len() {
        let addr = nodes[(start + k) % nodes.len()];
        let Ok(Ok(mut upstream)) =
            tokio::time::timeout(CONNECT_WITHIN, TcpStream::connect(addr)).await
        else {
            continue;
        };
        let _ = client.set_nodelay(true);
        let _ = upstream.set_nodelay(true);
        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
        return;
    }
    let _ = client.shutdown().await;
}

/// Prints one line of the cluster's state on standard output.
async fn say(line: &str) {
    let mut out = tokio::io::stdout();
    let _ = out.write_all(format!("{line}\n").as_bytes()).await;
    let _ = out.flush().await;
}
