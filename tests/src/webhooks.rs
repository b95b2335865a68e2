//! The webhook receiver the suite's servers deliver to:
//! `tests/webhook-receiver/receiver.mjs`, which verifies every delivery with
//! the Standard Webhooks reference library (npm `standardwebhooks`,
//! installed by `scripts/install-webhook-receiver.sh`). One receiver per
//! test process, started on first use on a free loopback port; each test
//! uses hooks of its own name.
//!
//! The servers must be allowed to send to loopback (native: the harness's
//! `--outbound-allow 127.0.0.1`; the Worker: `GATEHOUSE_OUTBOUND_ALLOW` in
//! scripts/test-worker.sh).

use crate::harness::{unique, Api, Skip};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long a test waits for deliveries (retries included).
/// How long a delivery may take. Every server on a shared database runs the
/// outbox, so a test server stopped while it held a claim delays that
/// message until the claim's lease (90 s) ends — at least once, later: the
/// wait covers the lease and a retry.
pub const WAIT: Duration = Duration::from_secs(120);

/// The running receiver.
pub struct Receiver {
    pub base_url: String,
    _child: Mutex<Child>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let mut c = self._child.lock().unwrap_or_else(|e| e.into_inner());
        let _ = c.kill();
        let _ = c.wait();
    }
}

/// The process's receiver, or `Err(Skip)` if Node or the library is missing.
pub fn receiver() -> Result<&'static Receiver, Skip> {
    static R: OnceLock<Result<Receiver, String>> = OnceLock::new();
    R.get_or_init(start).as_ref().map_err(|e| Skip(e.clone()))
}

fn start() -> Result<Receiver, String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let install = Command::new(root.join("scripts/install-webhook-receiver.sh"))
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("installing the webhook receiver: {e}"))?;
    if !install.status.success() {
        return Err("scripts/install-webhook-receiver.sh failed".into());
    }
    let script = String::from_utf8_lossy(&install.stdout).trim().to_owned();
    // Its stdin is ours: it exits when this process does.
    let mut child = Command::new("node")
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("starting node {script}: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| format!("reading the receiver's port: {e}"))?;
    let port = line
        .trim()
        .strip_prefix("listening ")
        .ok_or_else(|| format!("unexpected receiver output: {line:?}"))?
        .to_owned();
    Ok(Receiver {
        base_url: format!("http://127.0.0.1:{port}"),
        _child: Mutex::new(child),
    })
}

/// One named hook on the receiver.
pub struct Hook {
    pub name: String,
    pub url: String,
    api: Api,
}

/// One delivery as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: String,
    /// Receiver's wall clock, ms.
    pub at: u64,
    pub event_type: String,
    pub payload: Value,
    /// The raw body.
    pub body: String,
}

impl Hook {
    /// A new hook (its URL to give an endpoint).
    pub fn new(r: &Receiver, prefix: &str) -> Hook {
        let name = unique(prefix);
        Hook {
            url: format!("{}/hook/{name}", r.base_url),
            api: Api::at(&r.base_url),
            name,
        }
    }

    /// The secret to verify with, and how many deliveries to refuse first.
    pub async fn configure(&self, secret: &str, fail_first: u32) {
        let r = self
            .api
            .post(&format!("/config/{}", self.name))
            .json(&json!({ "secret": secret, "fail_first": fail_first }))
            .send()
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
    }

    /// `(attempts, accepted)`: every attempt `{id, at, verified, error}`,
    /// and the accepted deliveries.
    pub async fn received(&self) -> (Vec<Value>, Vec<Delivery>) {
        let v = self
            .api
            .get(&format!("/received/{}", self.name))
            .send()
            .await
            .json();
        let attempts = v["attempts"].as_array().cloned().unwrap_or_default();
        let accepted = v["accepted"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|d| Delivery {
                id: d["id"].as_str().unwrap_or_default().to_owned(),
                at: d["at"].as_u64().unwrap_or_default(),
                event_type: d["type"].as_str().unwrap_or_default().to_owned(),
                payload: d["payload"].clone(),
                body: d["body"].as_str().unwrap_or_default().to_owned(),
            })
            .collect();
        (attempts, accepted)
    }

    /// Waits until `done(accepted)` holds; the accepted deliveries. Each
    /// round asks `server` for `/healthz`: the Worker delivers (and
    /// retries) after responses, and the Cron Trigger does not run under
    /// `wrangler dev`.
    pub async fn wait_until(
        &self,
        server: &Api,
        what: &str,
        done: impl Fn(&[Delivery]) -> bool,
    ) -> Vec<Delivery> {
        let start = Instant::now();
        loop {
            server.get("/healthz").send().await;
            let (attempts, accepted) = self.received().await;
            if done(&accepted) {
                return accepted;
            }
            if start.elapsed() > WAIT {
                panic!(
                    "{what}: not within {WAIT:?}; attempts {attempts:?}, accepted {:?}",
                    accepted
                        .iter()
                        .map(|d| (&d.event_type, &d.payload["data"]))
                        .collect::<Vec<_>>()
                );
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

/// Now on the wall clock, ms (the receiver's clock: one machine).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}
