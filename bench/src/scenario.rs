//! What each connection does, the setup (users), and the closed-loop run.

use crate::client::{Call, Conn, Target};
use crate::Error;
use bytes::Bytes;
use hdrhistogram::Histogram;
use http::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const PROFILE: &str = "/api/auth/profile/";
const TOKEN: &str = "/api/auth/token/";
const REFRESH: &str = "/api/auth/token/refresh/";
const REGISTER: &str = "/api/auth/register/";

/// A registered user and a live access token of theirs.
#[derive(Debug, Clone)]
pub struct User {
    pub email: String,
    pub password: String,
    pub access: String,
}

/// One connection's loop body.
pub enum Job {
    Profile {
        access: String,
    },
    Login {
        email: String,
        password: String,
    },
    /// Chains its refresh token: each answer's `refresh` is the next body.
    /// After a failure the chain is dead; it logs in again (the re-login is
    /// not a sample, but its time is inside the window).
    Refresh {
        refresh: String,
        email: String,
        password: String,
    },
    /// Registers `{prefix}n{next}`, next = 0, 1, …
    Register {
        prefix: String,
        next: u64,
    },
}

fn json_body(v: &Value) -> Option<Bytes> {
    Some(Bytes::from(
        serde_json::to_vec(v).expect("JSON value serializes"),
    ))
}

fn login_body(email: &str, password: &str) -> Option<Bytes> {
    json_body(&json!({ "email": email, "password": password }))
}

/// Registration fields for user `name` (a unique `[a-z0-9]+`), with a
/// password that passes the validators.
fn register_body(name: &str, n: u64) -> (String, String, Option<Bytes>) {
    let email = format!("{name}@bench.example.com");
    let password = format!("Bench-pass-{n}-xyz");
    let body = json_body(&json!({
        "email": email,
        "username": name,
        "password": password,
        "password2": password,
    }));
    (email, password, body)
}

/// The string field `key` of a JSON object body.
fn field(body: &[u8], key: &str) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    v.get(key)?.as_str().map(str::to_owned)
}

fn snippet(body: &[u8]) -> String {
    let s = String::from_utf8_lossy(body);
    s.chars().take(300).collect()
}

impl Job {
    fn call(&mut self) -> Call<'_> {
        match self {
            Job::Profile { access } => Call {
                method: Method::GET,
                path: PROFILE,
                bearer: Some(access),
                body: None,
            },
            Job::Login { email, password } => Call {
                method: Method::POST,
                path: TOKEN,
                bearer: None,
                body: login_body(email, password),
            },
            Job::Refresh { refresh, .. } => Call {
                method: Method::POST,
                path: REFRESH,
                bearer: None,
                body: json_body(&json!({ "refresh": refresh })),
            },
            Job::Register { prefix, next } => {
                let n = *next;
                *next += 1;
                let (_, _, body) = register_body(&format!("{prefix}n{n}"), n);
                Call {
                    method: Method::POST,
                    path: REGISTER,
                    bearer: None,
                    body,
                }
            }
        }
    }

    /// Keeps the refresh chain alive: on success takes the new token, on
    /// failure logs in again. Other jobs have no state to carry.
    async fn after(&mut self, conn: &mut Conn, ok: bool, body: &[u8]) {
        let Job::Refresh {
            refresh,
            email,
            password,
        } = self
        else {
            return;
        };
        if ok {
            if let Some(next) = field(body, "refresh") {
                *refresh = next;
                return;
            }
        }
        let call = Call {
            method: Method::POST,
            path: TOKEN,
            bearer: None,
            body: login_body(email, password),
        };
        if let Ok((s, b)) = conn.send(&call).await {
            if s.is_success() {
                if let Some(next) = field(&b, "refresh") {
                    *refresh = next;
                }
            }
        }
    }
}

/// What one connection measured.
pub struct Stats {
    pub hist: Histogram<u64>,
    pub requests: u64,
    pub errors: u64,
    /// Non-2xx statuses and I/O errors, counted ("401", "io").
    pub failures: BTreeMap<String, u64>,
    /// First failing answer, for the report.
    pub first_failure: Option<String>,
    pub reconnects: u64,
}

impl Stats {
    /// Adds `other`'s figures to these (the first failure stays the first).
    pub fn add(&mut self, other: Stats) {
        self.hist.add(&other.hist).expect("same bounds");
        self.requests += other.requests;
        self.errors += other.errors;
        for (k, v) in other.failures {
            *self.failures.entry(k).or_default() += v;
        }
        if self.first_failure.is_none() {
            self.first_failure = other.first_failure;
        }
        self.reconnects += other.reconnects;
    }

    pub fn empty() -> Stats {
        Stats {
            // 1 µs .. 120 s, 3 significant digits.
            hist: Histogram::new_with_bounds(1, 120_000_000, 3).expect("valid bounds"),
            requests: 0,
            errors: 0,
            failures: BTreeMap::new(),
            first_failure: None,
            reconnects: 0,
        }
    }
}

/// Checks the server answers and the API key is accepted.
pub async fn preflight(target: &Target) -> Result<(), Error> {
    let mut conn = Conn::new(target);
    let health = Call {
        method: Method::GET,
        path: "/healthz",
        bearer: None,
        body: None,
    };
    let (s, b) = conn
        .send(&health)
        .await
        .map_err(|e| format!("cannot reach {}: {e}", target.authority))?;
    if !s.is_success() {
        return Err(format!("GET /healthz -> {s}: {}", snippet(&b)).into());
    }
    // No bearer: 401 not_authenticated means the key passed the gate.
    let probe = Call {
        method: Method::GET,
        path: PROFILE,
        bearer: None,
        body: None,
    };
    let (s, b) = conn.send(&probe).await?;
    let code = field(&b, "code").unwrap_or_default();
    if s == StatusCode::UNAUTHORIZED && code == "not_authenticated" {
        Ok(())
    } else {
        Err(format!(
            "the API key was not accepted: GET {PROFILE} -> {s}: {}",
            snippet(&b)
        )
        .into())
    }
}

/// The setup workers' `(index, item)` lists joined, as `n` items in index
/// order.
async fn in_order<T: 'static>(
    mut set: tokio::task::JoinSet<Result<Vec<(usize, T)>, Error>>,
    n: usize,
) -> Result<Vec<T>, Error> {
    let mut all = Vec::with_capacity(n);
    while let Some(r) = set.join_next().await {
        all.extend(r.map_err(|e| format!("setup task: {e}"))??);
    }
    all.sort_by_key(|(i, _)| *i);
    Ok(all.into_iter().map(|(_, item)| item).collect())
}

/// Registers `n` users over `conns` connections.
pub async fn register_users(
    target: &Target,
    run_id: &str,
    n: usize,
    conns: usize,
) -> Result<Vec<User>, Error> {
    let workers = conns.clamp(1, n.max(1));
    let mut set = tokio::task::JoinSet::new();
    for w in 0..workers {
        let target = target.clone();
        let run_id = run_id.to_owned();
        set.spawn(async move {
            let mut conn = Conn::new(&target);
            let mut out = Vec::new();
            for i in (w..n).step_by(workers) {
                let (email, password, body) = register_body(&format!("u{run_id}x{i}"), i as u64);
                let call = Call {
                    method: Method::POST,
                    path: REGISTER,
                    bearer: None,
                    body,
                };
                let (s, b) = conn.send(&call).await?;
                if s != StatusCode::CREATED {
                    return Err::<_, Error>(
                        format!("setup: register {email} -> {s}: {}", snippet(&b)).into(),
                    );
                }
                let (Some(access), Some(_refresh)) = (field(&b, "access"), field(&b, "refresh"))
                else {
                    return Err(
                        format!("setup: register answer without tokens: {}", snippet(&b)).into(),
                    );
                };
                out.push((
                    i,
                    User {
                        email,
                        password,
                        access,
                    },
                ));
            }
            Ok(out)
        });
    }
    in_order(set, n).await
}

/// Logs every user in again over `conns` connections; returns the new
/// (access, refresh) pairs in order (new sessions, unrelated to earlier ones).
pub async fn login_all(
    target: &Target,
    users: &[User],
    conns: usize,
) -> Result<Vec<(String, String)>, Error> {
    let n = users.len();
    let workers = conns.clamp(1, n.max(1));
    let mut set = tokio::task::JoinSet::new();
    for w in 0..workers {
        let target = target.clone();
        let mine: Vec<(usize, User)> = (w..n)
            .step_by(workers)
            .map(|i| (i, users[i].clone()))
            .collect();
        set.spawn(async move {
            let mut conn = Conn::new(&target);
            let mut out = Vec::new();
            for (i, u) in mine {
                let call = Call {
                    method: Method::POST,
                    path: TOKEN,
                    bearer: None,
                    body: login_body(&u.email, &u.password),
                };
                let (s, b) = conn.send(&call).await?;
                let pair = (field(&b, "access"), field(&b, "refresh"));
                let (true, (Some(access), Some(refresh))) = (s.is_success(), pair) else {
                    return Err::<_, Error>(
                        format!("setup: login {} -> {s}: {}", u.email, snippet(&b)).into(),
                    );
                };
                out.push((i, (access, refresh)));
            }
            Ok(out)
        });
    }
    in_order(set, n).await
}

/// Runs each job on its own connection: `warmup` unmeasured, then
/// `duration` measured. Returns the jobs' stats in order.
pub async fn run(
    target: &Target,
    jobs: Vec<Job>,
    warmup: Duration,
    duration: Duration,
) -> Vec<Stats> {
    let start = Instant::now();
    let window_start = start + warmup;
    let end = window_start + duration;
    let mut set = tokio::task::JoinSet::new();
    for (i, job) in jobs.into_iter().enumerate() {
        let target = target.clone();
        set.spawn(async move { (i, worker(target, job, window_start, end).await) });
    }
    let mut out: Vec<(usize, Stats)> = Vec::new();
    while let Some(r) = set.join_next().await {
        match r {
            Ok(x) => out.push(x),
            Err(e) => eprintln!("gatehouse-bench: a connection task failed: {e}"),
        }
    }
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, s)| s).collect()
}

/// Closed loop: send, read the answer, send the next. A sample is an answer
/// that arrives inside the window (as wrk counts); the request still in
/// flight when the window closes is abandoned with its connection.
async fn worker(target: Target, mut job: Job, window_start: Instant, end: Instant) -> Stats {
    let mut conn = Conn::new(&target);
    let mut stats = Stats::empty();
    let deadline = tokio::time::Instant::from_std(end);
    loop {
        let started = Instant::now();
        if started >= end {
            break;
        }
        let call = job.call();
        let Ok(result) = tokio::time::timeout_at(deadline, conn.send(&call)).await else {
            break;
        };
        let done = Instant::now();
        let (ok, label, body) = match result {
            Ok((s, b)) if s.is_success() => (true, None, b),
            Ok((s, b)) => (false, Some((s.as_u16().to_string(), snippet(&b))), b),
            Err(e) => (false, Some(("io".to_owned(), e.to_string())), Bytes::new()),
        };
        if done >= window_start && done <= end {
            let us = done.duration_since(started).as_micros().max(1) as u64;
            stats.hist.saturating_record(us);
            stats.requests += 1;
            if let Some((code, detail)) = &label {
                stats.errors += 1;
                *stats.failures.entry(code.clone()).or_default() += 1;
                stats
                    .first_failure
                    .get_or_insert_with(|| format!("{code} {detail}"));
            }
        }
        if label.as_ref().is_some_and(|(c, _)| c == "io") {
            // Don't spin on a dead server.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // Re-login after a broken refresh chain, within the window's time.
        if tokio::time::timeout_at(deadline, job.after(&mut conn, ok, &body))
            .await
            .is_err()
        {
            break;
        }
    }
    stats.reconnects = conn.opened.saturating_sub(1);
    stats
}
