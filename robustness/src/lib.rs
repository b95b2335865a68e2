//! Shared pieces of the robustness checks: starting and killing the
//! `gatehouse` binary, a keep-alive HTTP/1.1 connection (hyper 1's
//! low-level client), a seeded RNG, percentiles, and a pass/fail tally.
//!
//! Every binary in this crate talks only to 127.0.0.1 and bounds its
//! traffic in count and time.

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::net::TcpStream;

pub type Error = Box<dyn std::error::Error + Send + Sync>;

// ---------------------------------------------------------------------------
// Command line (tiny: `--name value` pairs and `--flag`s).

/// `--name value` and `--flag` arguments, looked up by name.
pub struct Args(Vec<String>);

impl Args {
    pub fn from_env() -> Args {
        Args(std::env::args().skip(1).collect())
    }

    /// The value after `--name`, if given.
    pub fn value(&self, name: &str) -> Option<String> {
        let flag = format!("--{name}");
        let mut it = self.0.iter();
        while let Some(a) = it.next() {
            if *a == flag {
                return it.next().cloned();
            }
            if let Some(v) = a.strip_prefix(&format!("{flag}=")) {
                return Some(v.to_owned());
            }
        }
        None
    }

    pub fn parse<T: std::str::FromStr>(&self, name: &str, default: T) -> T {
        match self.value(name) {
            Some(v) => v.parse().unwrap_or_else(|_| {
                eprintln!("--{name}: cannot parse {v:?}");
                std::process::exit(2)
            }),
            None => default,
        }
    }

    pub fn flag(&self, name: &str) -> bool {
        let flag = format!("--{name}");
        self.0.contains(&flag)
    }
}

/// The `gatehouse` binary: `--gatehouse-bin`, else `$GATEHOUSE_BIN`, else
/// `$CARGO_TARGET_DIR/release/gatehouse`, else `target/release/gatehouse`.
pub fn gatehouse_bin(args: &Args) -> PathBuf {
    if let Some(b) = args.value("gatehouse-bin") {
        return b.into();
    }
    if let Ok(b) = std::env::var("GATEHOUSE_BIN") {
        return b.into();
    }
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    Path::new(&target).join("release").join("gatehouse")
}

/// Parses `30s`, `2m`, `500ms`, `1h` or plain seconds.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, "s"),
    };
    let n: f64 = num.parse().ok()?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        _ => return None,
    };
    Some(Duration::from_secs_f64(secs))
}

pub fn duration_arg(args: &Args, name: &str, default: Duration) -> Duration {
    match args.value(name) {
        Some(v) => parse_duration(&v).unwrap_or_else(|| {
            eprintln!("--{name}: cannot parse {v:?} (e.g. 60s, 30m)");
            std::process::exit(2)
        }),
        None => default,
    }
}

// ---------------------------------------------------------------------------
// Seeded RNG (SplitMix64): reproducible runs without a dependency.

#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// A seed from the clock and the pid, for when none is given.
    pub fn fresh_seed() -> u64 {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let mut r = Rng(t ^ (u64::from(std::process::id()) << 32));
        r.next_u64()
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// `len` characters of [a-z0-9].
    pub fn token(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        (0..len)
            .map(|_| ALPHABET[self.below(ALPHABET.len() as u64) as usize] as char)
            .collect()
    }
}

// ---------------------------------------------------------------------------
// The server process.

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

/// An API client's credentials.
#[derive(Debug, Clone)]
pub struct Creds {
    pub client_id: String,
    pub api_key: String,
}

/// `gatehouse create-api-client --rate-limit 100000000 --json` on `db`.
pub fn create_client(bin: &Path, db: &Path, name: &str) -> Result<Creds, Error> {
    let out = Command::new(bin)
        .arg("--database-url")
        .arg(db)
        .args(["create-api-client", "--name", name, "--type", "web"])
        .args(["--rate-limit", "100000000", "--json"])
        .env("GATEHOUSE_LOG", "warn")
        .output()?;
    if !out.status.success() {
        return Err(format!(
            "create-api-client failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
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

// ---------------------------------------------------------------------------
// HTTP.

/// Where requests go and with which API client.
#[derive(Debug, Clone)]
pub struct Target {
    pub addr: String,
    pub creds: Creds,
}

/// One answer.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Resp {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// A string field of the JSON body.
    pub fn field(&self, k: &str) -> Option<String> {
        self.json()[k].as_str().map(str::to_owned)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// The wait (seconds) of a well-formed refusal by a full hashing queue: 503,
/// code `server_busy`, a `Retry-After` in whole seconds. `None` otherwise.
pub fn server_busy_retry_after(r: &Resp) -> Option<u64> {
    if r.status.as_u16() != 503 || r.json()["code"] != "server_busy" {
        return None;
    }
    r.headers
        .get(header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// Why a request got no answer.
#[derive(Debug)]
pub enum Failure {
    /// Connect refused or reset, broken mid-exchange: the connection dropped.
    Io(String),
    /// No answer within the per-request timeout.
    Timeout,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Io(e) => write!(f, "connection error: {e}"),
            Failure::Timeout => write!(f, "timeout"),
        }
    }
}

/// One keep-alive HTTP/1.1 connection; reconnects on the next call after an
/// error (counted in `reconnects`).
pub struct Conn {
    target: Target,
    sender: Option<SendRequest<Full<Bytes>>>,
    pub opened: u64,
    pub timeout: Duration,
    /// Extra headers for every request (e.g. User-Agent).
    pub extra: Vec<(String, String)>,
    /// Set to send no API key / client id headers.
    pub no_api_key: bool,
}

/// Connections opened by every `Conn` of this process.
pub static CONNECTIONS_OPENED: AtomicU64 = AtomicU64::new(0);

impl Conn {
    pub fn new(target: &Target) -> Conn {
        Conn {
            target: target.clone(),
            sender: None,
            opened: 0,
            timeout: Duration::from_secs(30),
            extra: Vec::new(),
            no_api_key: false,
        }
    }

    /// Opens the connection now (if not open).
    pub async fn connect(&mut self) -> Result<(), Failure> {
        match tokio::time::timeout(self.timeout, self.open()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(Failure::Io(e.to_string())),
            Err(_) => Err(Failure::Timeout),
        }
    }

    async fn open(&mut self) -> Result<(), Error> {
        if self.sender.as_ref().is_some_and(|s| !s.is_closed()) {
            return Ok(());
        }
        self.sender = None;
        let stream = TcpStream::connect(&self.target.addr).await?;
        stream.set_nodelay(true)?;
        let (sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        self.opened += 1;
        CONNECTIONS_OPENED.fetch_add(1, Ordering::Relaxed);
        self.sender = Some(sender);
        Ok(())
    }

    /// Whether the connection is open (not known closed).
    pub fn is_open(&self) -> bool {
        self.sender.as_ref().is_some_and(|s| !s.is_closed())
    }

    /// `method path` with an optional bearer token and JSON body.
    pub async fn call(
        &mut self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<&serde_json::Value>,
    ) -> Result<Resp, Failure> {
        let body = body.map(|b| Bytes::from(b.to_string()));
        self.raw(method, path, bearer, body, "application/json")
            .await
    }

    pub async fn get(&mut self, path: &str, bearer: Option<&str>) -> Result<Resp, Failure> {
        self.call(Method::GET, path, bearer, None).await
    }

    pub async fn post(
        &mut self,
        path: &str,
        bearer: Option<&str>,
        body: &serde_json::Value,
    ) -> Result<Resp, Failure> {
        self.call(Method::POST, path, bearer, Some(body)).await
    }

    /// Any request; `body` is sent as is with `content_type`.
    pub async fn raw(
        &mut self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<Bytes>,
        content_type: &str,
    ) -> Result<Resp, Failure> {
        let result = tokio::time::timeout(
            self.timeout,
            self.try_send(method, path, bearer, body, content_type),
        )
        .await;
        let result = match result {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(e)) => Err(Failure::Io(e.to_string())),
            Err(_) => Err(Failure::Timeout),
        };
        if result.is_err() {
            self.sender = None;
        }
        result
    }

    async fn try_send(
        &mut self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<Bytes>,
        content_type: &str,
    ) -> Result<Resp, Error> {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, HeaderValue::from_str(&self.target.addr)?);
        if !self.no_api_key {
            req = req
                .header("x-api-key", self.target.creds.api_key.as_str())
                .header("x-client-id", self.target.creds.client_id.as_str());
        }
        for (k, v) in &self.extra {
            req = req.header(k.as_str(), v.as_str());
        }
        if let Some(token) = bearer {
            req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = match body {
            Some(b) => {
                req = req.header(header::CONTENT_TYPE, content_type);
                b
            }
            None => Bytes::new(),
        };
        let req = req.body(Full::new(body))?;
        self.open().await?;
        let sender = self.sender.as_mut().expect("opened");
        sender.ready().await?;
        let resp = sender.send_request(req).await?;
        let (parts, body) = resp.into_parts();
        let body = body.collect().await?.to_bytes();
        Ok(Resp {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }
}

// ---------------------------------------------------------------------------
// Figures and the tally.

/// The `p`-th percentile (0–100) of sorted samples (nearest rank).
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Microseconds as milliseconds with one decimal.
pub fn ms(us: u64) -> String {
    format!("{:.1} ms", us as f64 / 1000.0)
}

/// Pass/fail checks, printed as they happen; `finish` prints the closing
/// `RESULT passed=N failed=M` line the script adds up, and exits.
#[derive(Debug, Default)]
pub struct Checks {
    pub passed: u32,
    pub failed: u32,
    prefix: String,
}

impl Checks {
    pub fn new(prefix: &str) -> Checks {
        Checks {
            prefix: prefix.to_owned(),
            ..Checks::default()
        }
    }

    /// Records one check.
    pub fn check(&mut self, ok: bool, name: &str, detail: impl std::fmt::Display) -> bool {
        if ok {
            self.passed += 1;
            println!("[{}] PASS {name}: {detail}", self.prefix);
        } else {
            self.failed += 1;
            println!("[{}] FAIL {name}: {detail}", self.prefix);
        }
        ok
    }

    pub fn finish(&self) -> ! {
        println!(
            "[{}] RESULT passed={} failed={}",
            self.prefix, self.passed, self.failed
        );
        std::process::exit(if self.failed == 0 { 0 } else { 1 })
    }
}

pub fn info(prefix: &str, msg: impl std::fmt::Display) {
    println!("[{prefix}] {msg}");
}

// ---------------------------------------------------------------------------
// Tokens and encodings.

/// The claims of a JWT, unverified.
pub fn jwt_claims(token: &str) -> Option<serde_json::Value> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64_decode(payload)?;
    serde_json::from_slice(&bytes).ok()
}

/// A string claim of a JWT.
pub fn jwt_claim(token: &str, claim: &str) -> Option<String> {
    jwt_claims(token)?[claim].as_str().map(str::to_owned)
}

/// Decodes base64 in either alphabet, with or without padding.
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => continue,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Base64 of `bytes` in the standard (`url = false`) or URL-safe alphabet,
/// padded or not.
pub fn base64_encode(bytes: &[u8], url: bool, pad: bool) -> String {
    let alphabet: &[u8; 64] = if url {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    } else {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    };
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(alphabet[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
        if pad {
            for _ in chunk.len()..3 {
                out.push('=');
            }
        }
    }
    out
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Opens a database file read-only (no write, no checkpoint) with libSQL.
pub async fn open_read_only(path: &Path) -> Result<libsql::Connection, Error> {
    let db = libsql::Builder::new_local(path)
        .flags(libsql::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .build()
        .await?;
    Ok(db.connect()?)
}

/// All rows of `sql` as JSON-ish values (integers, text, blobs as bytes).
pub async fn query(conn: &libsql::Connection, sql: &str) -> Result<Vec<Vec<libsql::Value>>, Error> {
    let mut rows = conn.query(sql, ()).await?;
    let width = rows.column_count().max(0);
    let mut out = Vec::new();
    while let Some(row) = rows.next().await? {
        let mut values = Vec::new();
        for i in 0..width {
            values.push(row.get_value(i)?);
        }
        out.push(values);
    }
    Ok(out)
}

/// The text of a value (integers printed), or "" for NULL.
pub fn value_text(v: &libsql::Value) -> String {
    match v {
        libsql::Value::Null => String::new(),
        libsql::Value::Integer(i) => i.to_string(),
        libsql::Value::Real(r) => r.to_string(),
        libsql::Value::Text(s) => s.clone(),
        libsql::Value::Blob(b) => hex(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips() {
        for len in 0..10 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 250) as u8).collect();
            for url in [false, true] {
                for pad in [false, true] {
                    let e = base64_encode(&bytes, url, pad);
                    assert_eq!(base64_decode(&e).unwrap(), bytes, "{e}");
                }
            }
        }
        assert_eq!(base64_encode(b"hello", false, true), "aGVsbG8=");
    }

    #[test]
    fn percentiles() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 99.0), 99);
        assert_eq!(percentile(&v, 50.0), 50);
        assert_eq!(percentile(&v, 100.0), 100);
        assert_eq!(percentile(&[], 99.0), 0);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("60s"), Some(Duration::from_secs(60)));
        assert_eq!(parse_duration("30m"), Some(Duration::from_secs(1800)));
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("5"), Some(Duration::from_secs(5)));
    }
}
