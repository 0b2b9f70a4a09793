//! An SMTP server that requires a login, for testing "test connection" with right and wrong
//! passwords: `smtp_auth.py` on Debian's `python3-aiosmtpd`.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};

/// A running server; killed on drop.
pub struct SmtpAuth {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
    _script_dir: tempfile::TempDir,
}

impl Drop for SmtpAuth {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SmtpAuth {
    /// Starts a server accepting `user` with `password`, or returns `None` (printing why) when
    /// aiosmtpd is missing outside CI.
    pub fn start(user: &str, password: &str) -> Option<Self> {
        let script_dir = tempfile::tempdir().expect("temp dir");
        let script = script_dir.path().join("smtp_auth.py");
        std::fs::write(&script, include_str!("smtp_auth.py")).expect("write smtp_auth.py");
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
            assert!(
                std::env::var_os("CI").is_none(),
                "aiosmtpd is not installed; CI must install python3-aiosmtpd"
            );
            eprintln!("SKIPPED: aiosmtpd is not installed (apt-get install -y python3-aiosmtpd)");
            return None;
        };
        let mut child = Command::new(python)
            .arg(&script)
            .arg(user)
            .arg(password)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn smtp_auth.py");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("smtp_auth.py prints its port");
        let port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("smtp_auth.py printed {line:?} instead of a port"));
        Some(Self {
            child,
            port,
            _script_dir: script_dir,
        })
    }
}
