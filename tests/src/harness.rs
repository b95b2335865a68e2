//! Targets, server processes, CLI setup and a small typed HTTP wrapper.
//!
//! The target is chosen by environment variables (see `tests/README.md`):
//! - nothing set: `native-embedded`, the harness starts `$GATEHOUSE_BIN`
//!   (else `<workspace>/target/debug/gatehouse`) on a file database in a
//!   temporary directory;
//! - `GATEHOUSE_TEST_DATABASE_URL` alone: the same, on that libSQL URL
//!   (with `GATEHOUSE_TEST_REPLICA=1`, each server through an embedded
//!   replica of it: `--replica-path`);
//! - `GATEHOUSE_TEST_BASE_URL` (+ `GATEHOUSE_TEST_DATABASE_URL` for setup):
//!   an external host; the harness starts nothing.
//!
//! One server process is shared per [`ServerConfig`]; tests stay independent
//! by creating their own API clients and users with [`unique`] names.

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A password that passes every validator and is not similar to any name
/// [`unique`] makes.
pub const GOOD_PASSWORD: &str = "Correct-Horse-7-Battery";

/// How long a change made through the CLI (deactivate, rotate-key) may take
/// to reach a running server: the contract does not pin a cache lifetime, so
/// tests poll up to this deadline instead of expecting it at once.
pub const PROPAGATION_DEADLINE: Duration = Duration::from_secs(15);

// ---------------------------------------------------------------- targets

/// Which host the suite runs against.
#[derive(Debug, Clone)]
pub enum Target {
    /// The harness starts the binary on a file database of its own.
    NativeEmbedded { bin: PathBuf },
    /// The harness starts the binary on a running libSQL server (sqld).
    NativeRemote { bin: PathBuf, database_url: String },
    /// A host started by someone else (the Worker under `wrangler dev`).
    External {
        bin: PathBuf,
        base_url: String,
        database_url: Option<String>,
    },
}

impl Target {
    /// Reads the target from the environment once.
    pub fn get() -> &'static Target {
        static TARGET: OnceLock<Target> = OnceLock::new();
        TARGET.get_or_init(|| {
            let bin = std::env::var_os("GATEHOUSE_BIN")
                .map(PathBuf::from)
                .unwrap_or_else(|| {
                    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/debug/gatehouse")
                });
            let db = non_empty_env("GATEHOUSE_TEST_DATABASE_URL");
            match (non_empty_env("GATEHOUSE_TEST_BASE_URL"), db) {
                (Some(base_url), database_url) => Target::External {
                    bin,
                    base_url: base_url.trim_end_matches('/').to_owned(),
                    database_url,
                },
                (None, Some(database_url)) => Target::NativeRemote { bin, database_url },
                (None, None) => Target::NativeEmbedded { bin },
            }
        })
    }

    /// Short name, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Target::NativeEmbedded { .. } => "native-embedded",
            Target::NativeRemote { .. } => "native-remote",
            Target::External { .. } => "external",
        }
    }

    fn bin(&self) -> &PathBuf {
        match self {
            Target::NativeEmbedded { bin }
            | Target::NativeRemote { bin, .. }
            | Target::External { bin, .. } => bin,
        }
    }
}

fn non_empty_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

// ---------------------------------------------------------------- configs

/// A server configuration some test group needs. Only [`ServerConfig::Default`]
/// exists on an external target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServerConfig {
    /// The documented defaults, but for `--registrations-per-ip` (raised on
    /// every configuration except `LowRegisterLimit`: see `flags`).
    Default,
    /// `--access-ttl 2 --refresh-ttl 4`, for expiry on the wall clock.
    ShortLifetimes,
    /// HS256 with a secret the tests know, and a custom issuer/audience, so
    /// tests can forge tokens with chosen claims.
    Hs256,
    /// `--login-failures-per-ip 5`, for the per-IP failed-login throttle.
    LowIpLoginLimit,
    /// `--jwt-private-key <key>` with a key from `gatehouse keys generate`
    /// ([`fixed_private_key`]).
    FixedKey,
    /// `--session-max-age 4`: a login's absolute lifetime.
    ShortSession,
    /// `--trust-proxy --login-failures-per-ip 5`: the client IP comes from
    /// `X-Forwarded-For`. Tests sharing it must claim disjoint addresses
    /// (login.rs uses 203.0.113.77-78, attacks.rs 198.51.100.0/24,
    /// hardening.rs 203.0.113.90-99).
    TrustProxy,
    /// `--registrations-per-ip 3`: the registration throttle at its edge.
    LowRegisterLimit,
    /// `--django-signing-key` [`LEGACY_SIGNING_KEY`] with a deadline far
    /// ahead: the seed's tokens are honoured. On an external host, when
    /// `GATEHOUSE_TEST_LEGACY_TOKENS=1` says it was started so.
    Legacy,
    /// The same key with a deadline in the past: the cutover is over.
    LegacyAfterDeadline,
    /// `--refresh-reuse-grace 0`: no reuse grace, so a spent refresh token
    /// presented again at once is a replay (the Worker, which takes no
    /// flags, holds replay through a grandparent token instead).
    NoReuseGrace,
    /// `--refresh-reuse-grace 1` ([`SHORT_REUSE_GRACE`]): a replay after the
    /// window, on the wall clock (see [`short_grace_server`]).
    ShortReuseGrace,
    /// `--smtp-url` to an SMTP server that is not running yet, on
    /// [`mail_retry_port`], and `--mail-retry-secs 1`: the outbox retry test
    /// starts and stops that server itself. Always on a database file of its
    /// own (another server's sender would deliver its outbox).
    MailRetry,
    /// `--key-cache-secs 1`: a key retired in the database (by the CLI)
    /// stops verifying on the server within a second (key_rotation.rs). On
    /// an external host, when `GATEHOUSE_TEST_KEY_CACHE_SECS` says it was
    /// started with a short key cache.
    KeyRotation,
}

/// The HS256 secret of [`ServerConfig::Hs256`].
pub const HS256_SECRET: &str = "contract-suite-secret-0123456789-abcdefghij";
/// The issuer of [`ServerConfig::Hs256`].
pub const HS256_ISSUER: &str = "contract-issuer";
/// The audience of [`ServerConfig::Hs256`].
pub const HS256_AUDIENCE: &str = "contract-audience";
/// The seed's signing key of [`ServerConfig::Legacy`] (its Django `SECRET_KEY`).
pub const LEGACY_SIGNING_KEY: &str = "django-insecure-contract-suite-seed-key!";
/// The cutover deadline of [`ServerConfig::Legacy`].
pub const LEGACY_UNTIL: &str = "2099-01-01T00:00:00Z";
/// The deadline of [`ServerConfig::LegacyAfterDeadline`].
pub const LEGACY_UNTIL_PAST: &str = "2020-01-01T00:00:00Z";
/// How long the [`ServerConfig::KeyRotation`] server keeps its keys before
/// re-reading them (`GATEHOUSE_TEST_KEY_CACHE_SECS` for an external host).
pub fn key_cache_secs() -> i64 {
    match Target::get() {
        Target::External { .. } => env_i64("GATEHOUSE_TEST_KEY_CACHE_SECS").unwrap_or(30),
        _ => 1,
    }
}

/// The access lifetime of [`ServerConfig::ShortLifetimes`], seconds.
pub const SHORT_ACCESS_TTL: i64 = 2;
/// The refresh lifetime of [`ServerConfig::ShortLifetimes`], seconds.
pub const SHORT_REFRESH_TTL: i64 = 4;
/// The login lifetime of [`ServerConfig::ShortSession`], seconds.
pub const SHORT_SESSION_MAX_AGE: i64 = 4;
/// The refresh reuse grace of [`ServerConfig::ShortReuseGrace`], seconds.
pub const SHORT_REUSE_GRACE: i64 = 1;

impl ServerConfig {
    const ALL: [ServerConfig; 14] = [
        ServerConfig::Default,
        ServerConfig::ShortLifetimes,
        ServerConfig::Hs256,
        ServerConfig::LowIpLoginLimit,
        ServerConfig::FixedKey,
        ServerConfig::ShortSession,
        ServerConfig::TrustProxy,
        ServerConfig::LowRegisterLimit,
        ServerConfig::Legacy,
        ServerConfig::LegacyAfterDeadline,
        ServerConfig::NoReuseGrace,
        ServerConfig::ShortReuseGrace,
        ServerConfig::MailRetry,
        ServerConfig::KeyRotation,
    ];

    fn index(self) -> usize {
        Self::ALL.iter().position(|c| *c == self).unwrap_or(0)
    }

    fn flags(self) -> Result<Vec<String>, String> {
        let v: &[&str] = match self {
            ServerConfig::Default => &[],
            ServerConfig::ShortLifetimes => &["--access-ttl", "2", "--refresh-ttl", "4"],
            ServerConfig::Hs256 => &[
                "--jwt-algorithm",
                "hs256",
                "--jwt-secret",
                HS256_SECRET,
                "--issuer",
                HS256_ISSUER,
                "--audience",
                HS256_AUDIENCE,
            ],
            ServerConfig::LowIpLoginLimit => &["--login-failures-per-ip", "5"],
            ServerConfig::ShortSession => &["--session-max-age", "4"],
            ServerConfig::NoReuseGrace => &["--refresh-reuse-grace", "0"],
            ServerConfig::ShortReuseGrace => &["--refresh-reuse-grace", "1"],
            ServerConfig::TrustProxy => &["--trust-proxy", "--login-failures-per-ip", "5"],
            // Its low registration limit is set below, in place of the
            // suite's lifted one; mail and outbound HTTP as every server
            // (on a shared database its outbox sender serves every test's
            // webhooks, so it must be allowed to reach their receiver).
            ServerConfig::LowRegisterLimit => &[],
            ServerConfig::FixedKey | ServerConfig::MailRetry => &[],
            ServerConfig::KeyRotation => &["--key-cache-secs", "1"],
            ServerConfig::Legacy => &[
                "--django-signing-key",
                LEGACY_SIGNING_KEY,
                "--legacy-tokens-until",
                LEGACY_UNTIL,
            ],
            ServerConfig::LegacyAfterDeadline => &[
                "--django-signing-key",
                LEGACY_SIGNING_KEY,
                "--legacy-tokens-until",
                LEGACY_UNTIL_PAST,
            ],
        };
        let mut flags: Vec<String> = v.iter().map(|s| s.to_string()).collect();
        if self == ServerConfig::FixedKey {
            flags.extend(["--jwt-private-key".into(), fixed_private_key()?.clone()]);
        }
        // Mail: the run's SMTP server (scripts/with-smtp.sh), else printed
        // to the server's log (and the mailbox tests skip).
        flags.extend(["--mail-from".into(), TEST_MAIL_FROM.into()]);
        if self == ServerConfig::MailRetry {
            flags.extend([
                "--smtp-url".into(),
                format!("smtp://127.0.0.1:{}?tls=none", mail_retry_port()),
                "--mail-retry-secs".into(),
                "1".into(),
            ]);
        } else if let Some(url) = non_empty_env("GATEHOUSE_TEST_SMTP_URL") {
            flags.extend(["--smtp-url".into(), url]);
        } else {
            flags.push("--mail-dev".into());
        }
        // Webhooks' test receiver (webhooks.rs) and the social sign-in
        // tests' provider are on loopback, which the outbound policy refuses
        // unless allowed; retries come after about a second, not 30 s, so
        // the retry test waits seconds.
        flags.extend(["--outbound-allow".into(), "127.0.0.1".into()]);
        if self != ServerConfig::MailRetry {
            flags.extend(["--mail-retry-secs".into(), "1".into()]);
        }
        // The suite registers hundreds of users from 127.0.0.1; the default
        // registration throttle (30 an hour per IP) is held by
        // `LowRegisterLimit` and hardening.rs instead.
        let registrations = if self == ServerConfig::LowRegisterLimit {
            "3"
        } else {
            "1000000"
        };
        flags.extend(["--registrations-per-ip".into(), registrations.into()]);
        Ok(flags)
    }
}

/// The sender of every mail the harness's servers send.
pub const TEST_MAIL_FROM: &str = "Gatehouse Tests <gatehouse@tests.example>";

/// The port of [`ServerConfig::MailRetry`]'s SMTP server: free when chosen,
/// and nothing listens on it until the retry test starts its server.
pub fn mail_retry_port() -> u16 {
    static PORT: OnceLock<u16> = OnceLock::new();
    *PORT.get_or_init(|| {
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port")
    })
}

/// The access-token lifetime the default server is configured with
/// (`GATEHOUSE_TEST_ACCESS_TTL` for an external host, else 15 minutes).
pub fn default_access_ttl() -> i64 {
    env_i64("GATEHOUSE_TEST_ACCESS_TTL").unwrap_or(15 * 60)
}

/// The refresh-token lifetime of the default server
/// (`GATEHOUSE_TEST_REFRESH_TTL`, else 7 days).
pub fn default_refresh_ttl() -> i64 {
    env_i64("GATEHOUSE_TEST_REFRESH_TTL").unwrap_or(7 * 24 * 3600)
}

/// The refresh reuse grace of the default server, seconds
/// (`GATEHOUSE_TEST_REFRESH_REUSE_GRACE` for an external host, else 30).
pub fn default_reuse_grace() -> i64 {
    match Target::get() {
        Target::External { .. } => env_i64("GATEHOUSE_TEST_REFRESH_REUSE_GRACE").unwrap_or(30),
        _ => 30,
    }
}

/// A server whose reuse grace is short enough (at most 2 s) to wait out on
/// the wall clock, with that grace: the default server when it is (the
/// Worker's test run sets it so), else [`ServerConfig::ShortReuseGrace`];
/// `None` after printing why the test is skipped.
pub fn short_grace_server(test: &str) -> Option<(&'static Server, Duration)> {
    let grace = default_reuse_grace();
    if (1..=2).contains(&grace) {
        return Some((default_server(), Duration::from_secs(grace as u64)));
    }
    let s = server_or_skip(ServerConfig::ShortReuseGrace, test)?;
    Some((s, Duration::from_secs(SHORT_REUSE_GRACE as u64)))
}

fn env_i64(name: &str) -> Option<i64> {
    non_empty_env(name).and_then(|v| v.trim().parse().ok())
}

/// An Ed25519 private key printed by `gatehouse keys generate` (base64 of
/// the 64-byte secret key), made once per run.
pub fn fixed_private_key() -> Result<&'static String, String> {
    static KEY: OnceLock<Result<String, String>> = OnceLock::new();
    KEY.get_or_init(|| {
        let bin = Target::get().bin();
        let dir = std::env::temp_dir();
        let out = gatehouse_command(bin)
            .current_dir(&dir)
            .args(["keys", "generate"])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("running {} keys generate: {e}", bin.display()))?;
        if !out.status.success() {
            return Err(format!(
                "`gatehouse keys generate` failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    })
    .as_ref()
    .map_err(Clone::clone)
}

// ---------------------------------------------------------------- servers

/// A running host and how to administer its database.
#[derive(Debug)]
pub struct Server {
    /// `http://IP:PORT`, no trailing slash.
    pub base_url: String,
    /// What the CLI gets as `--database-url` (None: external host without
    /// `GATEHOUSE_TEST_DATABASE_URL`, so no CLI setup is possible).
    pub database_url: Option<String>,
    /// The server's stderr, for diagnosis (harness-started servers only).
    pub log: Option<PathBuf>,
    pub config: ServerConfig,
    child: Option<Mutex<Child>>,
    dir: Option<PathBuf>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = &self.child {
            let mut child = child.lock().unwrap_or_else(|e| e.into_inner());
            // SIGTERM first, as an operator stops a host: a server killed
            // mid-transaction would leave locks or outbox claims on a
            // database other test servers share (sqld), and delay them.
            // SIGKILL only if it has not stopped within 3 s.
            if let Ok(pid) = i32::try_from(child.id()) {
                // SAFETY: a plain signal to our own child process.
                unsafe { libc::kill(pid, libc::SIGTERM) };
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
                while std::time::Instant::now() < deadline {
                    if matches!(child.try_wait(), Ok(Some(_))) {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(dir) = &self.dir {
            if std::env::var_os("GATEHOUSE_TEST_KEEP_LOGS").is_none() {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }
}

/// Why a test cannot run on this target.
#[derive(Debug, Clone)]
pub struct Skip(pub String);

/// The shared server for `config`, started on first use. Panics (failing
/// the test) if it cannot start; `Err(Skip)` if the target cannot provide
/// that configuration.
pub fn server(config: ServerConfig) -> Result<&'static Server, Skip> {
    static SERVERS: [OnceLock<Result<Server, String>>; ServerConfig::ALL.len()] =
        [const { OnceLock::new() }; ServerConfig::ALL.len()];
    let target = Target::get();
    if let Target::External {
        base_url,
        database_url,
        ..
    } = target
    {
        // The Worker's script can start it with the seed's key and a
        // future deadline ([`ServerConfig::Legacy`]'s settings).
        let legacy = config == ServerConfig::Legacy
            && non_empty_env("GATEHOUSE_TEST_LEGACY_TOKENS").as_deref() == Some("1");
        // ...and with a short key cache ([`ServerConfig::KeyRotation`]).
        let keys = config == ServerConfig::KeyRotation
            && non_empty_env("GATEHOUSE_TEST_KEY_CACHE_SECS").is_some();
        if config != ServerConfig::Default && !legacy && !keys {
            return Err(Skip(format!(
                "needs a server started with the {config:?} flags; the external target at {base_url} is not ours to configure"
            )));
        }
        let cell = &SERVERS[config.index()];
        let s = cell.get_or_init(|| {
            Ok(Server {
                base_url: base_url.clone(),
                database_url: database_url.clone(),
                log: None,
                config,
                child: None,
                dir: None,
            })
        });
        return Ok(s.as_ref().expect("external server"));
    }
    let cell = &SERVERS[config.index()];
    let s = cell.get_or_init(|| {
        let _guard = STARTING.lock().unwrap_or_else(|e| e.into_inner());
        start_server(target, config, None)
    });
    match s {
        Ok(s) => Ok(s),
        Err(e) => panic!("the {config:?} server did not start: {e}"),
    }
}

/// The default server; every target has it.
pub fn default_server() -> &'static Server {
    match server(ServerConfig::Default) {
        Ok(s) => s,
        Err(Skip(r)) => panic!("default server unavailable: {r}"),
    }
}

/// The server for `config`, or `None` after printing `SKIP <test>: <reason>`.
pub fn server_or_skip(config: ServerConfig, test: &str) -> Option<&'static Server> {
    match server(config) {
        Ok(s) => Some(s),
        Err(Skip(reason)) => {
            eprintln!("SKIP {test}: {reason}");
            None
        }
    }
}

/// Children to kill and directories to remove when the test binary exits:
/// the shared servers live in statics, which Rust never drops.
static CLEANUP: Mutex<Vec<(u32, PathBuf)>> = Mutex::new(Vec::new());

extern "C" fn cleanup_at_exit() {
    let list = match CLEANUP.lock() {
        Ok(l) => l.clone(),
        Err(e) => e.into_inner().clone(),
    };
    for (pid, dir) in list {
        // SAFETY: kill(2) on a pid this process spawned and has not reaped.
        unsafe {
            libc::kill(pid as libc::pid_t, libc::SIGKILL);
        }
        if std::env::var_os("GATEHOUSE_TEST_KEEP_LOGS").is_none() {
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}

fn register_cleanup(pid: u32, dir: PathBuf) {
    static HOOK: OnceLock<()> = OnceLock::new();
    HOOK.get_or_init(|| {
        // SAFETY: registering a plain `extern "C" fn` with atexit(3).
        unsafe {
            libc::atexit(cleanup_at_exit);
        }
    });
    CLEANUP
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((pid, dir));
}

/// A command for the gatehouse binary with no inherited `GATEHOUSE_*`
/// settings (but the database auth token and the data key, which a server on
/// a remote database needs for TOTP), so a developer's shell does not change
/// what the tests see.
fn gatehouse_command(bin: &PathBuf) -> Command {
    let mut cmd = Command::new(bin);
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        let kept = ["GATEHOUSE_DATABASE_AUTH_TOKEN", "GATEHOUSE_DATA_KEY"];
        if k.starts_with("GATEHOUSE_") && !kept.contains(&k.as_str()) {
            cmd.env_remove(&k);
        }
    }
    cmd
}

const LISTENING: &str = "gatehouse listening on ";

impl Server {
    /// Another gatehouse process with this one's flags on this one's
    /// database, for behaviour that must hold across processes; stopped
    /// when dropped. `Err(Skip)` on an external target (one host only).
    pub fn second_process(&self) -> Result<Server, Skip> {
        let target = Target::get();
        let db = match (target, &self.database_url, &self.child) {
            (Target::External { .. }, _, _) | (_, None, _) | (_, _, None) => {
                return Err(Skip(format!(
                    "needs a second process on the database of the {:?} server; {} is not ours to start",
                    self.config,
                    target.name()
                )))
            }
            (_, Some(db), Some(_)) => db.clone(),
        };
        let _guard = STARTING.lock().unwrap_or_else(|e| e.into_inner());
        start_server(target, self.config, Some(db))
            .map_err(|e| panic!("a second {:?} process did not start: {e}", self.config))
    }
}

/// Server starts, one at a time: parallel migrations on one sqld database
/// are not what this suite tests, and the machine is small.
static STARTING: Mutex<()> = Mutex::new(());

/// Starts the binary with `config`'s flags on `database` (None: the
/// target's, or a new file).
fn start_server(
    target: &Target,
    config: ServerConfig,
    database: Option<String>,
) -> Result<Server, String> {
    let bin = target.bin();
    if !bin.exists() {
        return Err(format!(
            "no gatehouse binary at {} (build it with `cargo build -p gatehouse` or set GATEHOUSE_BIN)",
            bin.display()
        ));
    }
    let dir = tempfile::Builder::new()
        .prefix("gatehouse-contract-")
        .tempdir()
        .map_err(|e| format!("tempdir: {e}"))?
        .keep();
    let second = database.is_some();
    let database_url = match (database, target) {
        (Some(db), _) => db,
        // The retry test's server keeps its own outbox: on the shared
        // database, the other servers' senders would deliver its mail.
        (None, Target::NativeRemote { database_url, .. }) if config != ServerConfig::MailRetry => {
            database_url.clone()
        }
        (None, _) => dir.join("gh.db").to_string_lossy().into_owned(),
    };
    let log = dir.join("server.log");
    let log_file = std::fs::File::create(&log).map_err(|e| format!("log file: {e}"))?;
    let mut cmd = gatehouse_command(bin);
    cmd.arg("--database-url").arg(&database_url);
    // `GATEHOUSE_TEST_REPLICA=1`: every server on a remote database keeps
    // an embedded replica of its own (the `replica` stage).
    if non_empty_env("GATEHOUSE_TEST_REPLICA").is_some_and(|v| v == "1")
        && database_url.starts_with("http")
    {
        cmd.arg("--replica-path").arg(dir.join("replica.db"));
    }
    cmd.arg("serve")
        .args(["--addr", "127.0.0.1:0"])
        .args(config.flags()?)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log_file));
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("spawn {}: {e}", bin.display()))?;
    // The shared servers live in statics, never dropped; a second process
    // is a test's local, stopped by its Drop (even on a panic), and must
    // not be killed at exit by a pid that may have been reused by then.
    if !second {
        register_cleanup(child.id(), dir.clone());
    }
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let first = reader.read_line(&mut line).map(|_| line.clone());
        let _ = tx.send(first);
        // Keep draining so the server never blocks on a full pipe.
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
    });
    let fail = |child: &mut Child, why: String| {
        let _ = child.kill();
        let _ = child.wait();
        let mut tail = String::new();
        if let Ok(mut f) = std::fs::File::open(&log) {
            let _ = f.read_to_string(&mut tail);
        }
        let tail: String = tail
            .chars()
            .rev()
            .take(3000)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!("{why}; server stderr ({}):\n{tail}", log.display())
    };
    let line = match rx.recv_timeout(Duration::from_secs(90)) {
        Ok(Ok(line)) => line,
        Ok(Err(e)) => return Err(fail(&mut child, format!("reading stdout: {e}"))),
        Err(_) => {
            return Err(fail(
                &mut child,
                "no `gatehouse listening on` line within 90 s".into(),
            ))
        }
    };
    let line = line.trim_end_matches(['\r', '\n']);
    let Some(url) = line.strip_prefix(LISTENING) else {
        return Err(fail(
            &mut child,
            format!("first stdout line was {line:?}, not `{LISTENING}http://IP:PORT`"),
        ));
    };
    if !url.starts_with("http://") || url.ends_with(":0") || url.ends_with('/') {
        return Err(fail(
            &mut child,
            format!("first stdout line {line:?} does not name the real address"),
        ));
    }
    eprintln!(
        "[harness] {config:?} server ({}) at {url}, log {}",
        target.name(),
        log.display()
    );
    Ok(Server {
        base_url: url.to_owned(),
        database_url: Some(database_url),
        log: Some(log),
        config,
        child: Some(Mutex::new(child)),
        dir: Some(dir),
    })
}

// ---------------------------------------------------------------- names

/// A name no other test (in this run or an earlier one against the same
/// database) uses: `prefix` + a run id + a counter. Lowercase letters and
/// digits only, so it is valid as a username and an email local part.
pub fn unique(prefix: &str) -> String {
    static RUN: OnceLock<String> = OnceLock::new();
    static N: AtomicU64 = AtomicU64::new(0);
    let run = RUN.get_or_init(|| {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let mixed = (nanos as u64) ^ (u64::from(std::process::id()) << 40);
        base36(mixed % 36u64.pow(8))
    });
    let n = N.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}{run}x{n}")
}

fn base36(mut v: u64) -> String {
    let digits = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(digits[(v % 36) as usize]);
        v /= 36;
        if v == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).expect("ascii")
}

/// A fresh email address.
pub fn unique_email() -> String {
    format!("{}@example.com", unique("mail"))
}

// ---------------------------------------------------------------- CLI

/// What a CLI run printed.
#[derive(Debug)]
pub struct CliOutput {
    pub success: bool,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl CliOutput {
    /// stdout as JSON; panics with the whole output otherwise.
    pub fn json(&self) -> Value {
        let t = self.stdout.trim();
        serde_json::from_str(t)
            .or_else(|_| {
                // Tolerate text before the JSON document.
                let i = t.find(['{', '[']).unwrap_or(0);
                serde_json::from_str(&t[i..])
            })
            .unwrap_or_else(|e| panic!("CLI stdout is not JSON ({e}): {self:?}"))
    }
}

/// Options of `create-api-client`.
#[derive(Debug, Clone)]
pub struct ClientSpec {
    pub name: String,
    pub client_type: String,
    pub rate_limit: u32,
    pub serves: Option<String>,
    pub origins: Option<String>,
    pub inactive: bool,
    /// More `create-api-client` flags (`--signin-codes`, …).
    pub flags: Vec<&'static str>,
}

impl ClientSpec {
    /// A web client with a budget no test reaches.
    pub fn web() -> ClientSpec {
        ClientSpec {
            name: unique("client"),
            client_type: "web".into(),
            rate_limit: 100_000,
            serves: None,
            origins: None,
            inactive: false,
            flags: Vec::new(),
        }
    }
    /// A web client made with more `create-api-client` flags.
    pub fn web_with(flags: &[&'static str]) -> ClientSpec {
        ClientSpec {
            flags: flags.to_vec(),
            ..ClientSpec::web()
        }
    }
    /// An `admin`-type client (the admin dashboard).
    pub fn admin() -> ClientSpec {
        ClientSpec {
            client_type: "admin".into(),
            ..ClientSpec::web()
        }
    }
    pub fn rate_limit(mut self, n: u32) -> Self {
        self.rate_limit = n;
        self
    }
    pub fn serves(mut self, s: &str) -> Self {
        self.serves = Some(s.into());
        self
    }
    pub fn origins(mut self, s: &str) -> Self {
        self.origins = Some(s.into());
        self
    }
    pub fn inactive(mut self) -> Self {
        self.inactive = true;
        self
    }
}

/// An API client's credentials, and everything `create-api-client --json`
/// printed.
#[derive(Debug, Clone)]
pub struct ClientCreds {
    pub client_id: String,
    pub api_key: String,
    pub created: Value,
}

impl Server {
    fn database_url_for_cli(&self) -> &str {
        self.database_url.as_deref().unwrap_or_else(|| {
            panic!(
                "CLI setup needs GATEHOUSE_TEST_DATABASE_URL (the database the external host uses)"
            )
        })
    }

    /// Runs `gatehouse --database-url <db> ARGS...`.
    pub fn cli(&self, args: &[&str]) -> CliOutput {
        let bin = Target::get().bin();
        let out = gatehouse_command(bin)
            .arg("--database-url")
            .arg(self.database_url_for_cli())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("running {} {args:?}: {e}", bin.display()));
        CliOutput {
            success: out.status.success(),
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs the CLI and panics unless it exits 0.
    pub fn cli_ok(&self, args: &[&str]) -> CliOutput {
        let out = self.cli(args);
        assert!(out.success, "gatehouse {args:?} failed: {out:?}");
        out
    }

    /// `create-api-client ... --json`.
    pub fn create_client(&self, spec: &ClientSpec) -> ClientCreds {
        let rate = spec.rate_limit.to_string();
        let mut args = vec![
            "create-api-client",
            "--name",
            &spec.name,
            "--type",
            &spec.client_type,
            "--rate-limit",
            &rate,
        ];
        if let Some(s) = &spec.serves {
            args.extend(["--serves", s]);
        }
        if let Some(o) = &spec.origins {
            args.extend(["--origins", o]);
        }
        if spec.inactive {
            args.push("--inactive");
        }
        args.extend(&spec.flags);
        args.push("--json");
        let v = self.cli_ok(&args).json();
        let client_id = v["client_id"]
            .as_str()
            .unwrap_or_else(|| panic!("create-api-client printed no client_id: {v}"))
            .to_owned();
        let api_key = v["api_key"]
            .as_str()
            .unwrap_or_else(|| panic!("create-api-client printed no api_key: {v}"))
            .to_owned();
        ClientCreds {
            client_id,
            api_key,
            created: v,
        }
    }

    /// `create-user --type T --email E --username U --password P --json`.
    pub fn create_user(&self, user_type: &str) -> TestUser {
        let email = unique_email();
        let username = unique("user");
        self.cli_ok(&[
            "create-user",
            "--type",
            user_type,
            "--email",
            &email,
            "--username",
            &username,
            "--password",
            GOOD_PASSWORD,
            "--json",
        ]);
        TestUser {
            email,
            username,
            password: GOOD_PASSWORD.into(),
            id: None,
        }
    }

    /// `clients deactivate ID`.
    pub fn deactivate_client(&self, id: &str) {
        self.cli_ok(&["clients", "deactivate", id]);
    }

    /// `clients activate ID`.
    pub fn activate_client(&self, id: &str) {
        self.cli_ok(&["clients", "activate", id]);
    }

    /// `clients rotate-key ID --json`; returns the new key.
    pub fn rotate_key(&self, id: &str) -> Value {
        self.cli_ok(&["clients", "rotate-key", id, "--json"]).json()
    }
}

// ---------------------------------------------------------------- HTTP

/// An HTTP client bound to one server and (by default) one API client.
#[derive(Clone)]
pub struct Api {
    http: HyperClient<HttpConnector, Full<Bytes>>,
    pub base_url: String,
    pub creds: Option<ClientCreds>,
    /// The server's log, quoted when a request gets no response.
    log: Option<PathBuf>,
}

/// A response, fully read.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// What was asked, for messages.
    pub request: String,
}

/// A request being built; see [`Api::req`].
pub struct Req<'a> {
    api: &'a Api,
    method: Method,
    path: String,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
    with_key: bool,
}

/// A keep-alive client pool over `connector` (idle connections close
/// after 5 s).
fn pooled(connector: HttpConnector) -> HyperClient<HttpConnector, Full<Bytes>> {
    HyperClient::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(5))
        .build(connector)
}

impl Api {
    /// A client for `server` without API credentials.
    pub fn anonymous(server: &Server) -> Api {
        Api {
            log: server.log.clone(),
            ..Api::at(&server.base_url)
        }
    }

    /// A plain client for another HTTP service (the webhook receiver).
    pub fn at(base_url: &str) -> Api {
        // TCP keep-alive as hyper's `build_http` sets it.
        let mut connector = HttpConnector::new();
        connector.set_keepalive(Some(Duration::from_secs(5)));
        Api {
            http: pooled(connector),
            base_url: base_url.to_owned(),
            creds: None,
            log: None,
        }
    }

    /// A client for `server` that sends `creds` on every request.
    pub fn new(server: &Server, creds: &ClientCreds) -> Api {
        Api {
            creds: Some(creds.clone()),
            ..Api::anonymous(server)
        }
    }

    /// The same server and credentials, connecting from another loopback
    /// source address (on Linux all of 127.0.0.0/8 reaches a server on
    /// 127.0.0.1), so per-IP counters see another caller. The Worker under
    /// `wrangler dev` sees it too: it sets `CF-Connecting-IP` from the peer.
    pub fn from_address(&self, ip: std::net::IpAddr) -> Api {
        let mut connector = HttpConnector::new();
        connector.set_local_address(Some(ip));
        Api {
            http: pooled(connector),
            ..self.clone()
        }
    }

    /// The same connection pool with other credentials.
    pub fn with_creds(&self, creds: &ClientCreds) -> Api {
        Api {
            creds: Some(creds.clone()),
            ..self.clone()
        }
    }

    /// A request to `path` (starting with `/`).
    pub fn req(&self, method: Method, path: &str) -> Req<'_> {
        Req {
            api: self,
            method,
            path: path.to_owned(),
            headers: Vec::new(),
            body: Bytes::new(),
            with_key: true,
        }
    }
    pub fn get(&self, path: &str) -> Req<'_> {
        self.req(Method::GET, path)
    }
    pub fn post(&self, path: &str) -> Req<'_> {
        self.req(Method::POST, path)
    }

    /// POSTs `{"token": token}` to `path` (the email flows' confirmations).
    pub async fn post_token(&self, path: &str, token: &str) -> Resp {
        self.post(path)
            .json(&json!({ "token": token }))
            .send()
            .await
    }

    // Typed calls. `prefix` is `/api` (or `/api/v1` for the aliases).

    /// POSTs `body` as JSON to `path`.
    pub async fn post_json(&self, path: &str, body: &Value) -> Resp {
        self.post(path).json(body).send().await
    }
    /// `method` on `path` with `access` as bearer and `body` as JSON.
    pub async fn send_as(&self, method: Method, path: &str, access: &str, body: &Value) -> Resp {
        self.req(method, path)
            .bearer(access)
            .json(body)
            .send()
            .await
    }
    /// POSTs `body` as JSON to `path` with `access` as bearer.
    pub async fn post_as(&self, path: &str, access: &str, body: &Value) -> Resp {
        self.send_as(Method::POST, path, access, body).await
    }
    /// POSTs to `path` with `access` as bearer and no body.
    pub async fn post_empty_as(&self, path: &str, access: &str) -> Resp {
        self.call_as(Method::POST, path, access).await
    }
    /// GETs `path` with `access` as bearer.
    pub async fn get_as(&self, path: &str, access: &str) -> Resp {
        self.call_as(Method::GET, path, access).await
    }
    /// `method` on `path` with `access` as bearer and no body.
    pub async fn call_as(&self, method: Method, path: &str, access: &str) -> Resp {
        self.req(method, path).bearer(access).send().await
    }
    pub async fn register(&self, body: &Value) -> Resp {
        self.post_json("/api/auth/register/", body).await
    }
    pub async fn login(&self, email: &str, password: &str) -> Resp {
        let body = json!({"email": email, "password": password});
        self.post_json("/api/auth/token/", &body).await
    }
    pub async fn refresh(&self, refresh: &str) -> Resp {
        let body = json!({ "refresh": refresh });
        self.post_json("/api/auth/token/refresh/", &body).await
    }
    pub async fn logout(&self, access: &str, refresh: &str) -> Resp {
        let body = json!({ "refresh": refresh });
        self.send_as(Method::POST, "/api/auth/logout/", access, &body)
            .await
    }
    pub async fn profile(&self, access: &str) -> Resp {
        self.get("/api/auth/profile/").bearer(access).send().await
    }
    pub async fn patch_profile(&self, access: &str, body: &Value) -> Resp {
        self.send_as(Method::PATCH, "/api/auth/profile/", access, body)
            .await
    }
    pub async fn put_profile(&self, access: &str, body: &Value) -> Resp {
        self.send_as(Method::PUT, "/api/auth/profile/", access, body)
            .await
    }
    pub async fn change_password(&self, access: &str, body: &Value) -> Resp {
        self.send_as(Method::POST, "/api/auth/change-password/", access, body)
            .await
    }

    /// Registers a fresh creator and returns it with its tokens.
    pub async fn new_creator(&self) -> (TestUser, Tokens) {
        let user = TestUser::fresh();
        let r = self.register(&user.register_body()).await;
        r.expect(201);
        let v = r.json();
        let tokens = Tokens::from_json(&v);
        let user = TestUser {
            id: v["user"]["id"].as_i64(),
            ..user
        };
        (user, tokens)
    }

    /// Logs `user` in; panics unless 200.
    pub async fn login_ok(&self, user: &TestUser) -> Tokens {
        let r = self.login(&user.email, &user.password).await;
        r.expect(200);
        Tokens::from_json(&r.json())
    }

    /// Refreshes with `refresh`, which must succeed: the new pair.
    pub async fn refresh_ok(&self, refresh: &str) -> Tokens {
        let r = self.refresh(refresh).await;
        r.expect(200);
        Tokens::from_json(&r.json())
    }
}

impl<'a> Req<'a> {
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((
            HeaderName::from_bytes(name.as_bytes()).expect("header name"),
            HeaderValue::from_str(value).expect("header value"),
        ));
        self
    }
    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }
    /// Sends `value` as `application/json`.
    pub fn json(self, value: &Value) -> Self {
        self.header("content-type", "application/json")
            .body(serde_json::to_vec(value).expect("json"))
    }
    /// A raw body; no content type is added.
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }
    /// Leaves out `X-API-Key` and `X-Client-ID`.
    pub fn no_key(mut self) -> Self {
        self.with_key = false;
        self
    }

    pub async fn send(self) -> Resp {
        let uri = format!("{}{}", self.api.base_url, self.path);
        let mut b = Request::builder().method(self.method.clone()).uri(&uri);
        if self.with_key {
            if let Some(c) = &self.api.creds {
                b = b
                    .header("x-api-key", &c.api_key)
                    .header("x-client-id", &c.client_id);
            }
        }
        for (k, v) in &self.headers {
            b = b.header(k, v);
        }
        let request = if self.body.is_empty() {
            format!("{} {}", self.method, self.path)
        } else {
            format!(
                "{} {} ({}-byte body)",
                self.method,
                self.path,
                self.body.len()
            )
        };
        let req = b.body(Full::new(self.body)).expect("request");
        let res = tokio::time::timeout(Duration::from_secs(60), self.api.http.request(req))
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "{request}: no response within 60 s{}",
                    log_tail(self.api.log.as_ref())
                )
            })
            .unwrap_or_else(|e| panic!("{request}: {e:?}{}", log_tail(self.api.log.as_ref())));
        let (parts, body) = res.into_parts();
        let body = body
            .collect()
            .await
            .unwrap_or_else(|e| panic!("{request}: reading body: {e}"))
            .to_bytes();
        Resp {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
            request,
        }
    }
}

impl Resp {
    /// The body as text (lossy), for messages.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; panics with the text otherwise.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{} → {}: body is not JSON ({e}): {:?}",
                self.request,
                self.status,
                self.text()
            )
        })
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// A header that must be a non-negative integer.
    pub fn header_u64(&self, name: &str) -> u64 {
        let v = self
            .header(name)
            .unwrap_or_else(|| panic!("{}: no {name} header: {:?}", self.request, self.headers));
        v.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{}: {name}: {v:?} is not an integer", self.request))
    }

    /// Asserts the status.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(
            self.status,
            status,
            "{} → {} (expected {status}): {}",
            self.request,
            self.status,
            self.text()
        );
        self
    }

    /// Asserts the status and a body of exactly `{"detail": <string>, "code": code}`.
    #[track_caller]
    pub fn expect_error(&self, status: u16, code: &str) -> &Self {
        self.expect(status);
        let v = self.json();
        assert_eq!(
            v["code"], code,
            "{} → {status}: expected code {code:?}: {v}",
            self.request
        );
        assert!(
            v["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{}: `detail` is not a non-empty string: {v}",
            self.request
        );
        assert_eq!(
            keys(&v),
            ["code", "detail"],
            "{}: error body has other keys: {v}",
            self.request
        );
        self
    }

    /// Asserts the status and a body exactly equal to `expected`.
    #[track_caller]
    pub fn expect_body(&self, status: u16, expected: &Value) -> &Self {
        self.expect(status);
        assert_eq!(&self.json(), expected, "{} → {status}: body", self.request);
        self
    }

    /// Asserts a 400 whose body is exactly the given fields, each a list of
    /// strings; `Some(msg)` additionally requires that message in the list.
    #[track_caller]
    pub fn expect_fields(&self, fields: &[(&str, Option<&str>)]) -> &Self {
        self.expect(400);
        let v = self.json();
        let mut want: Vec<&str> = fields.iter().map(|(f, _)| *f).collect();
        want.sort_unstable();
        assert_eq!(
            keys(&v),
            want,
            "{}: 400 body has other fields than expected: {v}",
            self.request
        );
        for (field, msg) in fields {
            let list = field_messages(&v, field);
            assert!(
                !list.is_empty(),
                "{}: `{field}` has no messages: {v}",
                self.request
            );
            if let Some(msg) = msg {
                assert!(
                    list.iter().any(|m| m == msg),
                    "{}: `{field}` lacks {msg:?}: {v}",
                    self.request
                );
            }
        }
        self
    }

    /// Asserts a 400 in which `field` (among possibly others) has `msg`.
    #[track_caller]
    pub fn expect_field_has(&self, field: &str, msg: &str) -> &Self {
        self.expect(400);
        let v = self.json();
        let list = field_messages(&v, field);
        assert!(
            list.iter().any(|m| m == msg),
            "{}: `{field}` lacks {msg:?}: {v}",
            self.request
        );
        self
    }
}

/// The last lines of a server log, for a failure message ("" if none).
fn log_tail(log: Option<&PathBuf>) -> String {
    let Some(path) = log else {
        return String::new();
    };
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(15)..].join("\n");
    format!(
        "\nlast lines of the server log ({}):\n{tail}",
        path.display()
    )
}

/// The sorted keys of a JSON object (empty if not an object).
pub fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    k.sort_unstable();
    k
}

/// The messages of a field error (`{"field": ["…", …]}`); panics if the
/// field is there but not a list of strings.
pub fn field_messages(v: &Value, field: &str) -> Vec<String> {
    match &v[field] {
        Value::Null => Vec::new(),
        Value::Array(a) => a
            .iter()
            .map(|m| {
                m.as_str()
                    .unwrap_or_else(|| panic!("`{field}` holds a non-string: {v}"))
                    .to_owned()
            })
            .collect(),
        other => panic!("`{field}` is not a list of messages: {other} in {v}"),
    }
}

// ---------------------------------------------------------------- users

/// A user the test knows the password of.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub email: String,
    pub username: String,
    pub password: String,
    pub id: Option<i64>,
}

impl TestUser {
    /// A user not registered yet.
    pub fn fresh() -> TestUser {
        TestUser {
            email: unique_email(),
            username: unique("user"),
            password: GOOD_PASSWORD.into(),
            id: None,
        }
    }

    /// A complete registration body.
    pub fn register_body(&self) -> Value {
        json!({
            "email": self.email,
            "username": self.username,
            "password": self.password,
            "password2": self.password,
            "first_name": "Ada",
            "last_name": "Lovelace",
        })
    }
}

/// An access + refresh pair.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access: String,
    pub refresh: String,
}

impl Tokens {
    /// Reads `access` and `refresh` from a response body.
    pub fn from_json(v: &Value) -> Tokens {
        let get = |k: &str| {
            v[k].as_str()
                .unwrap_or_else(|| panic!("no string `{k}` in {v}"))
                .to_owned()
        };
        Tokens {
            access: get("access"),
            refresh: get("refresh"),
        }
    }
}

// ---------------------------------------------------------------- fixture

/// A test's own view of a server: a fresh web client and an HTTP client.
pub struct Ctx {
    pub server: &'static Server,
    pub creds: ClientCreds,
    pub api: Api,
}

impl Ctx {
    /// The default server with a fresh web client (serves creators).
    pub fn new() -> Ctx {
        Ctx::on(default_server())
    }

    /// The most common start of a test: the default server, a fresh web
    /// client, and a creator registered and logged in through it.
    pub async fn creator() -> (Ctx, TestUser, Tokens) {
        let ctx = Ctx::new();
        let (user, tokens) = ctx.api.new_creator().await;
        (ctx, user, tokens)
    }

    /// The default server, a fresh web client, and a user not registered
    /// yet (for the tests of registration itself).
    pub fn with_fresh_user() -> (Ctx, TestUser) {
        (Ctx::new(), TestUser::fresh())
    }

    /// [`Ctx::creator`] on the server for `config`, or `None` when the test
    /// is skipped (see [`Ctx::with`]).
    pub async fn creator_with(config: ServerConfig) -> Option<(Ctx, TestUser, Tokens)> {
        let ctx = Ctx::with(config)?;
        let (user, tokens) = ctx.api.new_creator().await;
        Some((ctx, user, tokens))
    }

    /// `server` with a fresh web client.
    pub fn on(server: &'static Server) -> Ctx {
        let creds = server.create_client(&ClientSpec::web());
        let api = Api::new(server, &creds);
        Ctx { server, creds, api }
    }

    /// The server for `config` with a fresh web client, or `None` after
    /// printing why the test is skipped (named by its thread, which the test
    /// runner names after the test).
    pub fn with(config: ServerConfig) -> Option<Ctx> {
        let thread = std::thread::current();
        server_or_skip(config, thread.name().unwrap_or("this test")).map(Ctx::on)
    }

    /// Creates another client and an [`Api`] for it.
    pub fn client(&self, spec: &ClientSpec) -> (ClientCreds, Api) {
        let creds = self.server.create_client(spec);
        let api = self.api.with_creds(&creds);
        (creds, api)
    }

    /// An [`Api`] without credentials.
    pub fn anonymous(&self) -> Api {
        Api {
            creds: None,
            ..self.api.clone()
        }
    }
}

/// An admin (superuser) logged in through a fresh admin client of
/// `server`: the client and the access token.
pub async fn admin_on(server: &'static Server) -> (Api, String) {
    let ctx = Ctx::on(server);
    let (_, api) = ctx.client(&ClientSpec::admin());
    let user = server.create_user("admin");
    let tokens = api.login_ok(&user).await;
    (api, tokens.access)
}

/// Asserts that `path` does not tell which emails have accounts: posted
/// with `body(email)` for 50 unknown addresses and 50 of 10 known ones
/// (30 creators registered here, each round its own ten: under the
/// per-account quotas), interleaved so machine
/// load hits both alike, every answer is `status` with one and the same
/// body, and the medians are within 20%. Up to three rounds: a real
/// difference fails every round, a burst of load from the tests beside this
/// one fails one. Each request comes from its own `X-Forwarded-For`
/// address: `api`'s server must trust the proxy (so the per-IP quotas of
/// other tests are untouched).
pub async fn assert_no_enumeration(
    api: &Api,
    path: &str,
    body: impl Fn(String) -> Value,
    status: u16,
) {
    let mut known = Vec::new();
    for _ in 0..30 {
        known.push(api.new_creator().await.0);
    }
    let attempt = |email: String, n: usize| {
        let r = api
            .req(Method::POST, path)
            .header("x-forwarded-for", &format!("198.51.100.{}", n % 250 + 1))
            .json(&body(email));
        async move {
            let started = Instant::now();
            let r = r.send().await;
            (started.elapsed(), r)
        }
    };
    let mut ratios = Vec::new();
    let mut bodies = std::collections::BTreeSet::new();
    for round in 0..3 {
        let (mut unknown, mut wrong) = (Vec::new(), Vec::new());
        for n in 0..50 {
            let (d, r) = attempt(unique_email(), 100 * round + 2 * n).await;
            assert_eq!(r.status, status, "{}", r.text());
            bodies.insert(r.text());
            unknown.push(d);
            let email = known[10 * round + n % 10].email.clone();
            let (d, r) = attempt(email, 100 * round + 2 * n + 1).await;
            assert_eq!(r.status, status, "{}", r.text());
            bodies.insert(r.text());
            wrong.push(d);
        }
        assert_eq!(bodies.len(), 1, "different bodies: {bodies:?}");
        unknown.sort();
        wrong.sort();
        let ratio = unknown[25].as_secs_f64() / wrong[25].as_secs_f64();
        ratios.push(ratio);
        eprintln!("MEASURE {path} enumeration: median(unknown) / median(known) = {ratio:.3}");
        if (0.8..=1.25).contains(&ratio) {
            return;
        }
    }
    panic!("{path}: median(unknown) / median(known) out of 0.8..1.25 in every round: {ratios:?}");
}

impl Default for Ctx {
    fn default() -> Self {
        Ctx::new()
    }
}

/// Polls `probe` until it returns `Some`, or panics after `deadline` with
/// `what`. For effects whose delay the contract leaves open (a CLI change
/// reaching a running server's cache, a token's expiry on the wall clock).
pub async fn eventually<T, F, Fut>(deadline: Duration, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let start = Instant::now();
    loop {
        match probe().await {
            Ok(v) => return v,
            Err(last) => {
                if start.elapsed() > deadline {
                    panic!("{what}: not within {deadline:?}; last: {last}");
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Short forms of the suite's most repeated refusals.
impl Api {
    /// Refreshing with `refresh` is refused: 401 `token_not_valid`.
    pub async fn refresh_refused(&self, refresh: &str) {
        self.refresh(refresh)
            .await
            .expect_error(401, "token_not_valid");
    }

    /// `user`'s login through this client is refused: 403
    /// `user_type_not_allowed` (the client does not serve its type).
    pub async fn login_not_served(&self, user: &TestUser) {
        self.login(&user.email, &user.password)
            .await
            .expect_error(403, "user_type_not_allowed");
    }

    /// The profile with `access` as bearer is refused: 401 `token_not_valid`.
    pub async fn profile_refused(&self, access: &str) {
        self.profile(access)
            .await
            .expect_error(401, "token_not_valid");
    }
}
