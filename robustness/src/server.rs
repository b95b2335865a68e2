//! The `gatehouse serve` child process and the CLI calls made beside it.

use crate::conn::{Creds, Target};
use crate::Error;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running `gatehouse serve` child on 127.0.0.1:0.
pub struct Server {
    child: Child,
    pub addr: String,
    pub pid: u32,
    pub log: PathBuf,
}

/// What to start the server with.
#[derive(Debug, Clone, Default)]
pub struct ServerOpts {
    /// Extra `serve` flags.
    pub args: Vec<String>,
    /// `GATEHOUSE_LOG` (the log filter); default `warn`.
    pub log_filter: Option<String>,
}

impl Server {
    /// Starts `bin --database-url db serve --addr 127.0.0.1:0 …` with stderr
    /// appended to `log`, and waits (≤ 120 s) for the listening line.
    pub fn start(bin: &Path, db: &Path, log: &Path, opts: &ServerOpts) -> Result<Server, Error> {
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)?;
        let mut child = Command::new(bin)
            .arg("--database-url")
            .arg(db)
            .arg("serve")
            .arg("--addr")
            .arg("127.0.0.1:0")
            .args(&opts.args)
            .env(
                "GATEHOUSE_LOG",
                opts.log_filter.clone().unwrap_or_else(|| "warn".into()),
            )
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr))
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let pid = child.id();
        let stdout = child.stdout.take().expect("piped");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = tx.send(line);
            // Keep draining so the server never blocks on a full pipe.
            let mut sink = Vec::new();
            let _ = std::io::Read::read_to_end(&mut reader, &mut sink);
        });
        let line = match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(l) => l,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(
                    format!("no listening line within 120 s (log: {})", log.display()).into(),
                );
            }
        };
        let addr = line
            .trim()
            .strip_prefix("gatehouse listening on http://")
            .ok_or_else(|| format!("unexpected first line {line:?} (log: {})", log.display()))?
            .to_owned();
        Ok(Server {
            child,
            addr,
            pid,
            log: log.to_owned(),
        })
    }

    /// SIGKILL, then reap.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM and wait (≤ 40 s, then SIGKILL). Returns the exit status text.
    pub fn terminate(mut self) -> String {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid.to_string())
            .status();
        let deadline = std::time::Instant::now() + Duration::from_secs(40);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.to_string();
            }
            if std::time::Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                return "killed after 40 s".into();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Resident set size in KiB (VmRSS from /proc).
    pub fn rss_kib(&self) -> Option<u64> {
        rss_kib(self.pid)
    }

    /// Open file descriptors of the server process.
    pub fn open_fds(&self) -> Option<usize> {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid))
            .ok()
            .map(|d| d.count())
    }

    /// Threads of the server process.
    pub fn threads(&self) -> Option<u64> {
        proc_status_field(self.pid, "Threads:")
    }
}

impl Server {
    /// Requests to this server with `creds`.
    pub fn target(&self, creds: Creds) -> Target {
        Target {
            addr: self.addr.clone(),
            creds,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub fn rss_kib(pid: u32) -> Option<u64> {
    proc_status_field(pid, "VmRSS:")
}

fn proc_status_field(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// `bin --database-url db ARGS…` with warnings only in its log; its
/// standard output, or its standard error as the error.
pub fn cli(bin: &Path, db: &Path, args: &[&str]) -> Result<Vec<u8>, Error> {
    let out = Command::new(bin)
        .arg("--database-url")
        .arg(db)
        .args(args)
        .env("GATEHOUSE_LOG", "warn")
        .output()?;
    if !out.status.success() {
        let what = args.first().copied().unwrap_or_default();
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(format!("{what} failed: {stderr}").into());
    }
    Ok(out.stdout)
}

/// `gatehouse create-api-client --rate-limit 100000000 --json` on `db`.
pub fn create_client(bin: &Path, db: &Path, name: &str) -> Result<Creds, Error> {
    let stdout = cli(
        bin,
        db,
        &[
            "create-api-client",
            "--name",
            name,
            "--type",
            "web",
            "--rate-limit",
            "100000000",
            "--json",
        ],
    )?;
    let v: serde_json::Value = serde_json::from_slice(&stdout)?;
    let field = |k: &str| {
        v[k].as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("create-api-client: no {k} in {v}"))
    };
    Ok(Creds {
        client_id: field("client_id")?,
        api_key: field("api_key")?,
    })
}
