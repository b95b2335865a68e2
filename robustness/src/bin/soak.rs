//! soak: N concurrent keep-alive connections of mixed traffic against the
//! native host for a bounded time; zero 5xx (a 503 `server_busy` from a full
//! hashing queue is counted and waited out, not a failure), zero dropped
//! connections, p99 reported, resident memory flat.
//!
//! Traffic (closed loop, per connection): 90% profile GET with an access
//! token, 8% refresh (a family taken from a shared pool and put back
//! rotated, so each family is chained and never refreshed twice at once),
//! 2% login (adds a family). RSS (VmRSS of the server) is sampled every
//! 5 s; "start" is taken after the warm-up, "end" when the load stops.
//!
//! ```text
//! soak [--connections 1000] [--duration 60s] [--warmup 20s] [--users 20]
//!      [--mix 90,8,2] [--rss-tolerance-pct 25] [--rss-slack-mib 16]
//!      [--p99-max-ms N] [--seed N] [--work-dir DIR] [--gatehouse-bin PATH]
//!      [--server-arg=ARG]…  (e.g. --server-arg=--argon2-memory-kib=4096)
//! ```

use gatehouse_robustness::*;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const P: &str = "soak";

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Op {
    Profile,
    Refresh,
    Login,
}

#[derive(Default)]
struct TaskStats {
    lat: BTreeMap<Op, Vec<u64>>,
    status: BTreeMap<u16, u64>,
    unexpected: Vec<String>,
    /// 503 `server_busy` answers (a full hashing queue), waited out.
    busy: u64,
    io_errors: u64,
    timeouts: u64,
    reconnects: u64,
    connect_failed: bool,
}

struct Shared {
    users: Vec<(String, String)>,
    access: Mutex<Vec<String>>,
    families: Mutex<Vec<String>>,
}

fn main() {
    let args = Args::from_env();
    let connections: usize = args.parse("connections", 1000);
    let duration = duration_arg(&args, "duration", Duration::from_secs(60));
    let warmup = duration_arg(&args, "warmup", Duration::from_secs(20).min(duration / 3));
    let users: usize = args.parse("users", 20);
    let mix: Vec<u64> = args
        .value("mix")
        .unwrap_or_else(|| "90,8,2".into())
        .split(',')
        .map(|s| s.trim().parse().expect("--mix a,b,c"))
        .collect();
    assert!(
        mix.len() == 3 && mix.iter().sum::<u64>() > 0,
        "--mix profile,refresh,login"
    );
    let tol_pct: f64 = args.parse("rss-tolerance-pct", 25.0);
    let slack_mib: f64 = args.parse("rss-slack-mib", 16.0);
    let p99_max_ms: Option<u64> = args
        .value("p99-max-ms")
        .map(|v| v.parse().expect("--p99-max-ms"));
    let seed: u64 = args.parse("seed", Rng::fresh_seed());
    let server_args: Vec<String> = args.server_args();
    let Workspace { bin, work, db, log } = args.workspace("soak");
    let mut checks = Checks::new(P);
    info(P, format!("{connections} connections for {duration:?} (warm-up {warmup:?}), mix profile/refresh/login = {mix:?}, seed {seed}"));
    info(
        P,
        format!(
            "binary {}; server args {server_args:?}; log {}",
            bin.display(),
            log.display()
        ),
    );

    let creds = checks.setup(create_client(&bin, &db, "soak"));
    let server = checks.setup(Server::start(
        &bin,
        &db,
        &log,
        &ServerOpts {
            args: server_args,
            log_filter: None,
        },
    ));
    let target = server.target(creds);
    // The client gets one thread: the server needs the cores more.
    let rt = client_runtime(1);

    let shared = Arc::new(checks.setup(rt.block_on(setup(&target, users, seed))));
    let rss_idle = server.rss_kib().unwrap_or(0);
    info(
        P,
        format!(
            "setup done: {users} users registered; server RSS idle {} MiB",
            mib(rss_idle)
        ),
    );

    // Connect everything first, then start together.
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let deadline = Arc::new(Mutex::new(None::<Instant>));
    let connected = Arc::new(AtomicU64::new(0));
    let mut handles = Vec::with_capacity(connections);
    for i in 0..connections {
        let (t, s, g, d, c) = (
            target.clone(),
            shared.clone(),
            gate.clone(),
            deadline.clone(),
            connected.clone(),
        );
        let mix = [mix[0], mix[1], mix[2]];
        let rng = Rng::new(seed ^ (i as u64).wrapping_mul(0x9E37_79B9));
        handles.push(rt.spawn(connection(t, s, g, d, c, mix, rng)));
    }
    let t_connect = Instant::now();
    rt.block_on(async {
        while connected.load(Ordering::SeqCst) < connections as u64
            && t_connect.elapsed() < Duration::from_secs(60)
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    let n_connected = connected.load(Ordering::SeqCst);
    info(
        P,
        format!(
            "{n_connected} of {connections} connected in {:.2} s; server fds {:?}, threads {:?}",
            t_connect.elapsed().as_secs_f64(),
            server.open_fds(),
            server.threads()
        ),
    );
    let load_start = Instant::now();
    *deadline.lock().unwrap() = Some(load_start + duration);
    gate.add_permits(connections);

    // Sample RSS every 5 s while the load runs.
    let mut samples: Vec<(f64, u64)> = Vec::new();
    let mut rss_start = None;
    let mut max_fds = 0;
    while load_start.elapsed() < duration {
        let step = Duration::from_secs(5).min(duration.saturating_sub(load_start.elapsed()));
        std::thread::sleep(step);
        let rss = server.rss_kib().unwrap_or(0);
        max_fds = max_fds.max(server.open_fds().unwrap_or(0));
        let t = load_start.elapsed().as_secs_f64();
        samples.push((t, rss));
        if rss_start.is_none() && load_start.elapsed() >= warmup {
            rss_start = Some(rss);
        }
    }
    let rss_end = server.rss_kib().unwrap_or(0);
    let rss_start = rss_start.unwrap_or(rss_end);
    let mut all: Vec<TaskStats> = Vec::new();
    rt.block_on(async {
        for h in handles {
            if let Ok(s) = h.await {
                all.push(s);
            }
        }
    });
    let elapsed = load_start.elapsed().as_secs_f64();
    let rss_after = server.rss_kib().unwrap_or(0);
    let mut server = server;
    let alive = server.alive();

    // Merge.
    let mut lat: BTreeMap<Op, Vec<u64>> = BTreeMap::new();
    let mut status: BTreeMap<u16, u64> = BTreeMap::new();
    let (mut io, mut timeouts, mut reconnects, mut connect_failed) = (0, 0, 0, 0);
    let mut busy = 0;
    let mut unexpected = Vec::new();
    for s in all {
        for (op, v) in s.lat {
            lat.entry(op).or_default().extend(v);
        }
        for (k, v) in s.status {
            *status.entry(k).or_default() += v;
        }
        io += s.io_errors;
        timeouts += s.timeouts;
        reconnects += s.reconnects;
        connect_failed += u64::from(s.connect_failed);
        busy += s.busy;
        unexpected.extend(s.unexpected);
    }
    let mut every: Vec<u64> = lat.values().flatten().copied().collect();
    every.sort_unstable();
    let total = every.len() as u64;
    info(
        P,
        format!(
            "{total} requests in {elapsed:.1} s = {:.0} req/s",
            total as f64 / elapsed
        ),
    );
    info(
        P,
        format!(
            "latency all: p50 {} p90 {} p99 {} max {}",
            ms(percentile(&every, 50.0)),
            ms(percentile(&every, 90.0)),
            ms(percentile(&every, 99.0)),
            ms(percentile(&every, 100.0))
        ),
    );
    for (op, v) in lat.iter_mut() {
        v.sort_unstable();
        info(
            P,
            format!(
                "  {op:?}: {} requests, p50 {} p99 {} max {}",
                v.len(),
                ms(percentile(v, 50.0)),
                ms(percentile(v, 99.0)),
                ms(percentile(v, 100.0))
            ),
        );
    }
    info(P, format!("statuses: {status:?}"));
    info(
        P,
        format!(
            "server RSS: idle {} MiB, start (after {warmup:?} warm-up) {} MiB, end {} MiB, after the load {} MiB; samples {}",
            mib(rss_idle),
            mib(rss_start),
            mib(rss_end),
            mib(rss_after),
            rss_samples(&samples)
        ),
    );
    info(
        P,
        format!(
            "server fds at most {max_fds}; families in the pool {}",
            shared.families.lock().unwrap().len()
        ),
    );

    // A full hashing queue sheds logins with 503 `server_busy`: counted,
    // not a failure. Any other 5xx is.
    let five = status
        .iter()
        .filter(|(k, _)| **k >= 500)
        .map(|(_, v)| v)
        .sum::<u64>()
        - busy;
    checks.check(
        alive,
        "server alive at the end",
        if alive { "yes" } else { "no: it died" },
    );
    checks.check(
        n_connected == connections as u64 && connect_failed == 0,
        "all connections established",
        format!("{n_connected} of {connections}, {connect_failed} failed"),
    );
    checks.check(
        five == 0,
        "zero 5xx (but 503 server_busy)",
        format!("{five} of {total}; {busy} × 503 server_busy with Retry-After"),
    );
    checks.check(
        io == 0 && timeouts == 0 && reconnects == 0,
        "zero dropped connections",
        format!("{io} I/O errors, {timeouts} timeouts (30 s), {reconnects} reconnects"),
    );
    checks.none_found(
        &unexpected,
        "every answer as expected (200, or 503 server_busy)",
        "yes",
    );
    let limit = rss_start as f64 * (1.0 + tol_pct / 100.0) + slack_mib * 1024.0;
    checks.check(
        (rss_end as f64) <= limit,
        "resident memory flat",
        format!(
            "start {} MiB, end {} MiB; allowed ≤ start + {tol_pct}% + {slack_mib} MiB = {} MiB",
            mib(rss_start),
            mib(rss_end),
            mib(limit as u64)
        ),
    );
    if let Some(max) = p99_max_ms {
        let p99 = percentile(&every, 99.0);
        checks.check(
            p99 <= max * 1000,
            "p99 bound",
            format!("{} (bound {max} ms)", ms(p99)),
        );
    }
    let status = server.terminate();
    info(P, format!("server stopped with SIGTERM ({status})"));
    if checks.failed == 0 && args.value("work-dir").is_none() {
        let _ = std::fs::remove_dir_all(&work);
    }
    checks.finish();
}

async fn setup(target: &Target, users: usize, seed: u64) -> Result<Shared, Error> {
    let mut rng = Rng::new(seed);
    let run = rng.token(6);
    let mut tasks = Vec::new();
    for chunk in 0..4 {
        let t = target.clone();
        let mine: Vec<(String, String)> = (0..users)
            .filter(|i| i % 4 == chunk)
            .map(|i| (format!("soak{run}u{i}"), rng.password()))
            .collect();
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::new(&t);
            let mut out = Vec::new();
            for (username, pw) in mine {
                let email = format!("{username}@example.com");
                let r = conn
                    .register(&username, &pw)
                    .await
                    .map_err(|e| e.to_string())?;
                if r.status.as_u16() != 201 {
                    return Err(format!("register: {} {}", r.status, r.text()));
                }
                out.push((
                    email,
                    pw,
                    r.field("access").unwrap_or_default(),
                    r.field("refresh").unwrap_or_default(),
                ));
            }
            Ok::<_, String>(out)
        }));
    }
    let mut shared = Shared {
        users: Vec::new(),
        access: Mutex::new(Vec::new()),
        families: Mutex::new(Vec::new()),
    };
    for t in tasks {
        for (email, pw, access, refresh) in t.await?? {
            shared.users.push((email, pw));
            shared.access.get_mut().unwrap().push(access);
            shared.families.get_mut().unwrap().push(refresh);
        }
    }
    Ok(shared)
}

async fn connection(
    target: Target,
    shared: Arc<Shared>,
    gate: Arc<tokio::sync::Semaphore>,
    deadline: Arc<Mutex<Option<Instant>>>,
    connected: Arc<AtomicU64>,
    mix: [u64; 3],
    mut rng: Rng,
) -> TaskStats {
    let mut stats = TaskStats::default();
    let mut conn = Conn::new(&target);
    if conn.connect().await.is_err() {
        stats.connect_failed = true;
        connected.fetch_add(1, Ordering::SeqCst);
        return stats;
    }
    connected.fetch_add(1, Ordering::SeqCst);
    let Ok(permit) = gate.acquire().await else {
        return stats;
    };
    permit.forget();
    let deadline = deadline.lock().unwrap().expect("set before the gate opens");
    let total: u64 = mix.iter().sum();
    while Instant::now() < deadline {
        let roll = rng.below(total);
        let op = if roll < mix[0] {
            Op::Profile
        } else if roll < mix[0] + mix[1] {
            Op::Refresh
        } else {
            Op::Login
        };
        let t0 = Instant::now();
        let (op, result) = match op {
            Op::Profile => {
                let token = {
                    let a = shared.access.lock().unwrap();
                    a[rng.below(a.len() as u64) as usize].clone()
                };
                (op, conn.get("/api/auth/profile/", Some(&token)).await)
            }
            Op::Refresh => {
                let family = shared.families.lock().unwrap().pop();
                match family {
                    Some(f) => {
                        let r = conn.refresh(&f).await;
                        if let Ok(resp) = &r {
                            if let Some(new) = resp.field("refresh") {
                                shared.families.lock().unwrap().push(new);
                            }
                        }
                        (op, r)
                    }
                    None => login(&mut conn, &shared, &mut rng).await,
                }
            }
            Op::Login => login(&mut conn, &shared, &mut rng).await,
        };
        let us = t0.elapsed().as_micros() as u64;
        match result {
            Ok(r) => {
                let code = r.status.as_u16();
                *stats.status.entry(code).or_default() += 1;
                stats.lat.entry(op).or_default().push(us);
                if let Some(secs) = server_busy_retry_after(&r) {
                    // Load shedding, not a failure: honour Retry-After.
                    stats.busy += 1;
                    let wait = Duration::from_secs(secs.max(1));
                    tokio::time::sleep(
                        wait.min(deadline.saturating_duration_since(Instant::now())),
                    )
                    .await;
                } else if code != 200 && stats.unexpected.len() < 10 {
                    stats
                        .unexpected
                        .push(format!("{op:?}: {code} {}", r.text()));
                }
            }
            Err(Failure::Timeout) => stats.timeouts += 1,
            Err(Failure::Io(e)) => {
                stats.io_errors += 1;
                if stats.unexpected.len() < 10 {
                    stats.unexpected.push(format!("{op:?}: {e}"));
                }
            }
        }
    }
    stats.reconnects = conn.opened.saturating_sub(1);
    stats
}

async fn login(conn: &mut Conn, shared: &Shared, rng: &mut Rng) -> (Op, Result<Resp, Failure>) {
    let (email, pw) = &shared.users[rng.below(shared.users.len() as u64) as usize];
    let r = conn.login(email, pw).await;
    if let Ok(resp) = &r {
        if let (Some(a), Some(f)) = (resp.field("access"), resp.field("refresh")) {
            shared.families.lock().unwrap().push(f);
            let mut access = shared.access.lock().unwrap();
            if access.len() < 1000 {
                access.push(a);
            } else {
                let i = rng.below(access.len() as u64) as usize;
                access[i] = a;
            }
        }
    }
    (Op::Login, r)
}
