//! Real mail servers on loopback for the email channel's tests.
//!
//! - [`Dovecot`]: a private Dovecot IMAP server (Debian package `dovecot-imapd`) from a config
//!   written into a temp dir: 127.0.0.1 on a free port, plaintext auth, one passwd-file user,
//!   maildir in the temp dir. Killed on drop.
//! - [`SmtpSink`]: a real SMTP server, `smtp_sink.py` on Debian's `python3-aiosmtpd`, that
//!   writes accepted mail into a directory and answers as scripted.
//!
//! Both are skipped (the constructor returns `None` and prints why) only when the software is
//! not installed and `CI` is unset; under CI a missing server fails the test.
//!
//! The same Dovecot by hand, for poking at the channel:
//!
//! ```sh
//! d=$(mktemp -d); chmod 755 "$d"; mkdir "$d/mail"; chown 65534:65534 "$d/mail"  # as root
//! echo 'support@kefu.test:{PLAIN}secret' > "$d/passwd"
//! # write the config that `dovecot_conf` below produces to "$d/dovecot.conf", then:
//! dovecot -F -c "$d/dovecot.conf"
//! ```

#![allow(dead_code)]

use std::io::{BufRead as _, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::net::TcpStream as AsyncTcpStream;

pub const USER: &str = "support@kefu.test";
pub const PASSWORD: &str = "kefu-test-secret";

fn find_binary(name: &str, extra_dirs: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(extra_dirs.iter().map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// `None` after printing why, when the software is missing outside CI; panics under CI.
fn missing<T>(what: &str, package: &str) -> Option<T> {
    if std::env::var_os("CI").is_some() {
        panic!("{what} is not installed; CI must install the Debian package {package}");
    }
    eprintln!(
        "SKIPPED: {what} is not installed (apt-get install -y {package}); set CI to make this a failure"
    );
    None
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// The effective uid, from /proc (no libc needed).
fn euid() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(str::to_owned))
        })
        .and_then(|u| u.parse().ok())
        .expect("effective uid from /proc/self/status")
}

fn user_name() -> String {
    let out = Command::new("id").arg("-un").output().expect("id -un runs");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// How to run Dovecot.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Also serve implicit TLS (on `tls_port`) and STARTTLS, with a certificate for 127.0.0.1
    /// from a fresh private CA (see [`Dovecot::ca_pem`]).
    pub tls: bool,
    /// Hide IDLE from CAPABILITY, as servers without it do.
    pub no_idle: bool,
}

/// A private Dovecot IMAP server.
pub struct Dovecot {
    child: Child,
    dir: tempfile::TempDir,
    pub port: u16,
    pub tls_port: u16,
}

/// A private CA (`dir/ca.pem`) and a server certificate it signed for 127.0.0.1 and localhost
/// (`dir/cert.pem`, `dir/key.pem`); `None` when openssl is missing outside CI.
pub fn private_ca_and_cert(dir: &Path) -> Option<()> {
    let Some(openssl) = find_binary("openssl", &[]) else {
        return missing("openssl", "openssl");
    };
    std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
         extendedKeyUsage=serverAuth\n",
    )
    .expect("leaf.ext");
    let steps: [&[&str]; 3] = [
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=Kefu Test CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
        ],
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            "key.pem",
            "-out",
            "leaf.csr",
        ],
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "leaf.ext",
            "-out",
            "cert.pem",
        ],
    ];
    for args in steps {
        let out = Command::new(&openssl)
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .output()
            .expect("openssl runs");
        assert!(
            out.status.success(),
            "openssl {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Some(())
}

fn dovecot_conf(dir: &Path, port: u16, tls_port: u16, opts: Options) -> String {
    let d = dir.display();
    let root = euid() == 0;
    // As root, Dovecot drops to an unprivileged uid for mail (uid 0 is refused); otherwise it
    // runs everything as the current user.
    let (uid, users) = if root {
        (65534, String::new())
    } else {
        let name = user_name();
        (
            euid(),
            format!("default_login_user = {name}\ndefault_internal_user = {name}\n"),
        )
    };
    let ssl = if opts.tls {
        format!("ssl = yes\nssl_cert = <{d}/cert.pem\nssl_key = <{d}/key.pem\n")
    } else {
        "ssl = no\n".to_owned()
    };
    let caps = if opts.no_idle {
        "imap_capability = IMAP4rev1 LITERAL+ UIDPLUS\n"
    } else {
        ""
    };
    format!(
        r#"base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = imap
listen = 127.0.0.1
{ssl}{caps}disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{d}/mail/%u
mailbox_idle_check_interval = 1 secs
first_valid_uid = 1
{users}passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={uid} home={d}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
}}
service submission-login {{
  inet_listener submission {{
    port = 0
  }}
}}
"#
    )
}

impl Dovecot {
    /// Starts Dovecot, or returns `None` (printing why) when it is not installed outside CI.
    pub fn start() -> Option<Self> {
        Self::start_with(Options::default())
    }

    /// Starts Dovecot with `opts`.
    pub fn start_with(opts: Options) -> Option<Self> {
        let Some(bin) = find_binary("dovecot", &["/usr/sbin", "/usr/local/sbin"]) else {
            return missing("dovecot", "dovecot-imapd");
        };
        let mut last_log = String::new();
        for _ in 0..3 {
            match Self::try_start(&bin, opts)? {
                Ok(d) => return Some(d),
                Err(log) => last_log = log,
            }
        }
        panic!("dovecot did not start:\n{last_log}");
    }

    fn try_start(bin: &Path, opts: Options) -> Option<Result<Self, String>> {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("temp dir");
        let mail = dir.path().join("mail");
        std::fs::create_dir(&mail).expect("mail dir");
        if euid() == 0 {
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
                .expect("chmod temp dir");
            std::os::unix::fs::chown(&mail, Some(65534), Some(65534)).expect("chown mail dir");
        }
        std::fs::write(
            dir.path().join("passwd"),
            format!("{USER}:{{PLAIN}}{PASSWORD}\n"),
        )
        .expect("passwd file");
        if opts.tls {
            private_ca_and_cert(dir.path())?;
        }
        let (port, tls_port) = (free_port(), if opts.tls { free_port() } else { 0 });
        let conf = dir.path().join("dovecot.conf");
        std::fs::write(&conf, dovecot_conf(dir.path(), port, tls_port, opts))
            .expect("dovecot.conf");
        let child = Command::new(bin)
            .arg("-F")
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn dovecot");
        let mut d = Self {
            child,
            dir,
            port,
            tls_port,
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            let up = |p: u16| p == 0 || TcpStream::connect(("127.0.0.1", p)).is_ok();
            if up(port) && up(tls_port) {
                return Some(Ok(d));
            }
            if let Ok(Some(status)) = d.child.try_wait() {
                return Some(Err(format!("dovecot exited with {status}:\n{}", d.log())));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(Err(format!(
            "dovecot did not listen within 15 s:\n{}",
            d.log()
        )))
    }

    /// The private root certificate (PEM) the server's certificate chains to, when started
    /// with `tls`.
    pub fn ca_pem(&self) -> Vec<u8> {
        std::fs::read(self.dir.path().join("ca.pem")).expect("ca.pem")
    }

    /// Where the certificate and key are, for other servers in the same test.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Dovecot's log, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dovecot.log")).unwrap_or_default()
    }

    /// Channel settings for this server.
    pub fn settings(&self, mailbox: &str, smtp_port: u16) -> serde_json::Value {
        serde_json::json!({
            "address": USER,
            "imap": {"host": "127.0.0.1", "port": self.port, "tls": "none",
                     "username": USER, "password": PASSWORD, "mailbox": mailbox},
            "smtp": {"host": "127.0.0.1", "port": smtp_port, "tls": "none"},
            "plus_addressing": true
        })
    }

    /// A logged-in client session, as another mail client would have.
    pub async fn client(&self) -> async_imap::Session<AsyncTcpStream> {
        self.login(PASSWORD)
            .await
            .unwrap_or_else(|e| panic!("test client login: {e}\n{}", self.log()))
    }

    /// Logs in with `password`.
    pub async fn login(
        &self,
        password: &str,
    ) -> Result<async_imap::Session<AsyncTcpStream>, async_imap::error::Error> {
        let tcp = AsyncTcpStream::connect(("127.0.0.1", self.port)).await?;
        let mut client = async_imap::Client::new(tcp);
        client.read_response().await?;
        client.login(USER, password).await.map_err(|(e, _)| e)
    }

    /// APPENDs `raw` to `mailbox` as a delivering mail server would; returns its UID.
    pub async fn append(&self, mailbox: &str, raw: &[u8]) -> u32 {
        let mut s = self.client().await;
        s.append(mailbox, None, None, raw).await.expect("APPEND");
        let m = s.select(mailbox).await.expect("SELECT");
        let uid = m.uid_next.expect("UIDNEXT") - 1;
        s.logout().await.ok();
        uid
    }

    /// Flags of every message in `mailbox`.
    pub async fn flags(&self, mailbox: &str) -> Vec<String> {
        use futures::TryStreamExt as _;
        let mut s = self.client().await;
        s.examine(mailbox).await.expect("EXAMINE");
        let fetched: Vec<_> = s
            .fetch("1:*", "FLAGS")
            .await
            .expect("FETCH")
            .try_collect()
            .await
            .expect("FETCH responses");
        let flags = fetched
            .iter()
            .flat_map(|f| f.flags().map(|fl| format!("{fl:?}")).collect::<Vec<_>>())
            .collect();
        s.logout().await.ok();
        flags
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        // The master's children notice its death and exit.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A real SMTP server that stores what it accepts.
pub struct SmtpSink {
    child: Child,
    dir: tempfile::TempDir,
    pub port: u16,
    _script_dir: tempfile::TempDir,
}

impl SmtpSink {
    /// Starts the sink, or returns `None` (printing why) when aiosmtpd is missing outside CI.
    pub fn start() -> Option<Self> {
        Self::start_with_cert(None)
    }

    /// Starts the sink offering STARTTLS with `dir/cert.pem` and `dir/key.pem`, when given.
    pub fn start_with_cert(cert_dir: Option<&Path>) -> Option<Self> {
        Self::spawn(cert_dir, false)
    }

    /// Starts a sink that offers `AUTH` and refuses every login (`535`).
    pub fn start_refusing_logins() -> Option<Self> {
        Self::spawn(None, true)
    }

    fn spawn(cert_dir: Option<&Path>, refuse_logins: bool) -> Option<Self> {
        // Written out rather than referenced by path, so other crates' tests can include this
        // module (`#[path]`) and still find the script.
        let script_dir = tempfile::tempdir().expect("temp dir");
        let script = script_dir.path().join("smtp_sink.py");
        std::fs::write(&script, include_str!("smtp_sink.py")).expect("write smtp_sink.py");
        // Debian's module lives with Debian's interpreter, which may not be first on PATH.
        let python = ["/usr/bin/python3", "python3"].into_iter().find(|py| {
            Command::new(py)
                .args(["-c", "import aiosmtpd"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        });
        let Some(python) = python else {
            return missing("aiosmtpd (a Python SMTP server)", "python3-aiosmtpd");
        };
        let dir = tempfile::tempdir().expect("temp dir");
        let mut cmd = Command::new(python);
        cmd.arg(&script).arg(dir.path());
        if let Some(c) = cert_dir {
            cmd.arg(c.join("cert.pem")).arg(c.join("key.pem"));
        }
        if refuse_logins {
            cmd.env("SMTP_SINK_AUTH", "refuse");
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn smtp_sink.py");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("smtp_sink.py prints its port");
        let port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("smtp_sink.py printed {line:?} instead of a port"));
        Some(Self {
            child,
            dir,
            port,
            _script_dir: script_dir,
        })
    }

    /// Answers the next transactions with `outcomes` (`accept`, `tempfail`, `ratelimit`,
    /// `reject`).
    pub fn script(&self, outcomes: &[&str]) {
        let path = self.dir.path().join("script");
        let mut current = std::fs::read_to_string(&path).unwrap_or_default();
        for o in outcomes {
            current.push_str(o);
            current.push('\n');
        }
        std::fs::write(path, current).expect("write script");
    }

    /// The raw messages accepted so far, in order.
    pub fn messages(&self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for n in 1.. {
            match std::fs::read(self.dir.path().join(format!("{n}.eml"))) {
                Ok(m) => out.push(m),
                Err(_) => break,
            }
        }
        out
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `check` until it returns `Some`, or panics with `what` after `timeout`.
pub async fn wait_for<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = check() {
            return v;
        }
        if tokio::time::Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
