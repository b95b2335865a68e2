//! login-storm: a storm of correct-password logins at the server's DEFAULT
//! Argon2 cost (19 MiB × 2), while one probe reads the profile. The
//! server's memory must stay bounded and flat, and the rest of the API
//! responsive (issue 11: 0.7–1 GB after storms before the hash pool).
//!
//! 1. Users are created with the CLI (`create-user`), so no registration
//!    throttle applies; each storm connection then logs one of them in, in a
//!    closed loop, for `--duration`. Successful logins count against no
//!    login throttle. A 503 `server_busy` (the hash queue is full) must carry
//!    `Retry-After`, which the connection honours.
//! 2. Meanwhile a probe on its own thread GETs the profile every
//!    `--profile-interval-ms`; its p99 is bounded.
//! 3. RSS (VmRSS) is sampled every second during the storm and for
//!    `--after` once it stops. Checks: peak ≤ `--rss-max-mib` during and
//!    after; flat: the peak of the last third of the storm ≤ the peak of
//!    the second third + `--flat-slack-mib`.
//! 4. Overload: the server restarted with `--hash-queue 2` gets
//!    `--overload-burst` logins at once: each answer is 200 or 503
//!    `server_busy` with `Retry-After`, at least one of each, and a login
//!    right after the burst succeeds.
//!
//! ```text
//! login-storm [--connections 64] [--duration 60s] [--users 8] [--after 5s]
//!      [--rss-max-mib 150] [--flat-slack-mib 8] [--profile-p99-max-ms 20]
//!      [--profile-interval-ms 20] [--overload-burst 32] [--work-dir DIR]
//!      [--gatehouse-bin PATH] [--server-arg=ARG]…
//! ```

use gatehouse_robustness::*;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const P: &str = "login-storm";

/// What one storm connection saw.
#[derive(Default)]
struct Tally {
    /// Latency (µs) of each 200.
    ok: Vec<u64>,
    status: BTreeMap<u16, u64>,
    /// 503s that were not a well-formed `server_busy` with `Retry-After`.
    bad_busy: Vec<String>,
    unexpected: Vec<String>,
    failures: u64,
}

fn main() {
    let args = Args::from_env();
    let connections: usize = args.parse("connections", 64);
    let duration = duration_arg(&args, "duration", Duration::from_secs(60));
    let after = duration_arg(&args, "after", Duration::from_secs(5));
    let users: usize = args.parse("users", 8).max(1);
    let rss_max_mib: f64 = args.parse("rss-max-mib", 150.0);
    let flat_slack_mib: f64 = args.parse("flat-slack-mib", 8.0);
    let p99_max_ms: f64 = args.parse("profile-p99-max-ms", 20.0);
    let interval = Duration::from_millis(args.parse("profile-interval-ms", 20));
    let burst: usize = args.parse("overload-burst", 32);
    let server_args: Vec<String> = args.server_args();
    let Workspace { bin, work, db, log } = args.workspace("storm");
    let mut checks = Checks::new(P);
    info(
        P,
        format!(
            "{connections} connections logging in for {duration:?} over {users} users; \
             binary {}; server args {server_args:?}; log {}",
            bin.display(),
            log.display()
        ),
    );

    // Setup: a client and the users, through the CLI.
    let t_setup = Instant::now();
    let setup = create_client(&bin, &db, "storm").and_then(|creds| {
        let users = create_users(&bin, &db, users)?;
        Ok((creds, users))
    });
    let (creds, users) = checks.setup(setup);
    let opts = ServerOpts {
        args: server_args.clone(),
        log_filter: None,
    };
    let server = checks.setup(Server::start(&bin, &db, &log, &opts));
    let target = server.target(creds);
    // The storm's client gets one thread; the probe has its own.
    let rt = client_runtime(1);
    let access = checks.setup(rt.block_on(login_once(&target, &users[0])));
    let rss_idle = server.rss_kib().unwrap_or(0);
    info(
        P,
        format!(
            "setup {:.1} s; server RSS idle {} MiB, threads {:?}",
            t_setup.elapsed().as_secs_f64(),
            mib(rss_idle),
            server.threads()
        ),
    );

    // The storm.
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let deadline = start + duration;
    let storm: Vec<_> = (0..connections)
        .map(|i| {
            let (t, u) = (target.clone(), users[i % users.len()].clone());
            rt.spawn(storm_connection(t, u, deadline))
        })
        .collect();
    let probe = {
        let (t, stop) = (target.clone(), stop.clone());
        std::thread::spawn(move || probe(t, access, interval, stop))
    };
    let mut samples: Vec<(f64, u64)> = Vec::new();
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_secs(1).min(deadline - Instant::now()));
        samples.push((start.elapsed().as_secs_f64(), server.rss_kib().unwrap_or(0)));
    }
    stop.store(true, Ordering::SeqCst);
    let mut tally = Tally::default();
    rt.block_on(async {
        for h in storm {
            if let Ok(t) = h.await {
                tally.ok.extend(t.ok);
                for (k, v) in t.status {
                    *tally.status.entry(k).or_default() += v;
                }
                tally.bad_busy.extend(t.bad_busy);
                tally.unexpected.extend(t.unexpected);
                tally.failures += t.failures;
            }
        }
    });
    let storm_secs = start.elapsed().as_secs_f64();
    let (profile_lat, profile_bad) = probe.join().expect("probe thread");
    // After: the server idles; memory must not stay up.
    let mut after_samples = Vec::new();
    let t_after = Instant::now();
    while t_after.elapsed() < after {
        std::thread::sleep(Duration::from_secs(1));
        after_samples.push(server.rss_kib().unwrap_or(0));
    }
    let mut server = server;
    let alive = server.alive();

    // Figures.
    let mut ok = tally.ok.clone();
    ok.sort_unstable();
    let logins = ok.len();
    info(
        P,
        format!(
            "{logins} logins in {storm_secs:.1} s = {:.1} logins/s; latency p50 {} p99 {} max {}; statuses {:?}",
            logins as f64 / storm_secs,
            ms(percentile(&ok, 50.0)),
            ms(percentile(&ok, 99.0)),
            ms(percentile(&ok, 100.0)),
            tally.status
        ),
    );
    let mut prof = profile_lat.clone();
    prof.sort_unstable();
    info(
        P,
        format!(
            "profile probe: {} GETs, p50 {} p90 {} p99 {} max {}",
            prof.len(),
            ms(percentile(&prof, 50.0)),
            ms(percentile(&prof, 90.0)),
            ms(percentile(&prof, 99.0)),
            ms(percentile(&prof, 100.0))
        ),
    );
    let peak = samples.iter().map(|s| s.1).max().unwrap_or(0);
    let third = |k: usize| {
        let n = samples.len();
        samples[n * k / 3..n * (k + 1) / 3]
            .iter()
            .map(|s| s.1)
            .max()
            .unwrap_or(0)
    };
    let (second, last) = (third(1), third(2));
    let after_peak = after_samples.iter().copied().max().unwrap_or(0);
    info(
        P,
        format!(
            "server RSS: idle {} MiB, peak {} MiB (second third {} MiB, last third {} MiB), after {} MiB; samples {}",
            mib(rss_idle),
            mib(peak),
            mib(second),
            mib(last),
            mib(after_peak),
            rss_samples(&samples)
        ),
    );

    // Checks.
    checks.check(
        alive,
        "server alive at the end",
        if alive { "yes" } else { "no: it died" },
    );
    let five: u64 = tally
        .status
        .iter()
        .filter(|(k, _)| **k >= 500 && **k != 503)
        .map(|(_, v)| v)
        .sum();
    checks.check(
        five == 0 && tally.bad_busy.is_empty() && tally.unexpected.is_empty(),
        "logins answered 200 or 503 server_busy with Retry-After",
        if five == 0 && tally.bad_busy.is_empty() && tally.unexpected.is_empty() {
            format!("{:?}", tally.status)
        } else {
            format!(
                "{five} other 5xx; bad 503s {:?}; unexpected {:?}",
                &tally.bad_busy[..tally.bad_busy.len().min(3)],
                &tally.unexpected[..tally.unexpected.len().min(3)]
            )
        },
    );
    checks.check(
        tally.failures == 0,
        "zero dropped connections",
        format!("{} I/O errors or 30 s timeouts", tally.failures),
    );
    checks.check(
        logins > 0,
        "logins succeed during the storm",
        format!("{logins} ({:.1}/s)", logins as f64 / storm_secs),
    );
    let max_kib = rss_max_mib * 1024.0;
    checks.check(
        peak as f64 <= max_kib,
        "RSS bounded during the storm",
        format!("peak {} MiB (bound {rss_max_mib} MiB)", mib(peak)),
    );
    checks.check(
        after_peak as f64 <= max_kib && after_peak > 0,
        "RSS bounded after the storm",
        format!("{} MiB (bound {rss_max_mib} MiB)", mib(after_peak)),
    );
    checks.check(
        last as f64 <= second as f64 + flat_slack_mib * 1024.0,
        "RSS flat (no growth from the second to the last third)",
        format!(
            "{} → {} MiB (allowed + {flat_slack_mib} MiB)",
            mib(second),
            mib(last)
        ),
    );
    let p99 = percentile(&prof, 99.0);
    checks.check(
        profile_bad.is_empty() && !prof.is_empty() && p99 as f64 <= p99_max_ms * 1000.0,
        "profile GET p99 during the storm",
        if profile_bad.is_empty() {
            format!("{} (bound {p99_max_ms} ms)", ms(p99))
        } else {
            format!("{} failed, e.g. {:?}", profile_bad.len(), &profile_bad[0])
        },
    );
    let status = server.terminate();
    info(P, format!("server stopped with SIGTERM ({status})"));

    // Overload: a small queue and a burst past it.
    if burst > 0 {
        overload(
            &bin,
            &db,
            &work,
            &server_args,
            &target,
            &users,
            burst,
            &rt,
            &mut checks,
        );
    }
    if checks.failed == 0 && args.value("work-dir").is_none() {
        let _ = std::fs::remove_dir_all(&work);
    }
    checks.finish();
}

/// `create-user` for each user, a few at a time (each hashes at the
/// default cost).
fn create_users(bin: &Path, db: &Path, n: usize) -> Result<Vec<(String, String)>, Error> {
    let users: Vec<(String, String)> = (0..n)
        .map(|i| {
            (
                format!("storm{i}@example.com"),
                format!("Storm-password-{i}-x7"),
            )
        })
        .collect();
    // One at a time: concurrent CLI runs would race the first migration.
    for (i, (email, pw)) in users.iter().enumerate() {
        let username = format!("storm{i}");
        let args = ["create-user", "--type", "creator", "--email", email];
        cli(
            bin,
            db,
            &[&args[..], &["--username", &username, "--password", pw]].concat(),
        )?;
    }
    Ok(users)
}

async fn login_once(target: &Target, user: &(String, String)) -> Result<String, Error> {
    let mut conn = Conn::new(target);
    let r = conn
        .login(&user.0, &user.1)
        .await
        .map_err(|e| e.to_string())?;
    r.field("access")
        .ok_or_else(|| format!("login: {} {}", r.status, r.text()).into())
}

async fn storm_connection(target: Target, user: (String, String), deadline: Instant) -> Tally {
    let mut t = Tally::default();
    let mut conn = Conn::new(&target);
    let body = json!({"email": user.0, "password": user.1});
    while Instant::now() < deadline {
        let t0 = Instant::now();
        match conn.post("/api/auth/token/", None, &body).await {
            Ok(r) => {
                let code = r.status.as_u16();
                *t.status.entry(code).or_default() += 1;
                if code == 200 {
                    t.ok.push(t0.elapsed().as_micros() as u64);
                } else if code == 503 {
                    match server_busy_retry_after(&r) {
                        Some(secs) => {
                            let wait = Duration::from_secs(secs.max(1));
                            tokio::time::sleep(
                                wait.min(deadline.saturating_duration_since(Instant::now())),
                            )
                            .await;
                        }
                        None if t.bad_busy.len() < 5 => {
                            t.bad_busy.push(format!("{:?} {}", r.headers, r.text()))
                        }
                        None => {}
                    }
                } else if t.unexpected.len() < 5 {
                    t.unexpected.push(format!("{code} {}", r.text()));
                }
            }
            Err(e) => {
                t.failures += 1;
                if t.unexpected.len() < 5 {
                    t.unexpected.push(e.to_string());
                }
            }
        }
    }
    t
}

/// The profile probe: one keep-alive connection on its own runtime thread,
/// one GET every `interval` until `stop`. Returns latencies (µs) of the 200s
/// and the other answers.
fn probe(
    target: Target,
    access: String,
    interval: Duration,
    stop: Arc<AtomicBool>,
) -> (Vec<u64>, Vec<String>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("probe runtime");
    rt.block_on(async move {
        let mut conn = Conn::new(&target);
        let (mut lat, mut bad) = (Vec::new(), Vec::new());
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while !stop.load(Ordering::SeqCst) {
            tick.tick().await;
            let t0 = Instant::now();
            match conn.get("/api/auth/profile/", Some(&access)).await {
                Ok(r) if r.status.as_u16() == 200 => lat.push(t0.elapsed().as_micros() as u64),
                Ok(r) => bad.push(format!("{} {}", r.status, r.text())),
                Err(e) => bad.push(e.to_string()),
            }
        }
        (lat, bad)
    })
}

/// A server with a 2-hash queue, `burst` logins at once on their own
/// connections: 200s and well-formed 503s only, then a login succeeds.
#[allow(clippy::too_many_arguments)]
fn overload(
    bin: &Path,
    db: &Path,
    work: &Path,
    server_args: &[String],
    target: &Target,
    users: &[(String, String)],
    burst: usize,
    rt: &tokio::runtime::Runtime,
    checks: &mut Checks,
) {
    let mut args = server_args.to_vec();
    args.extend(["--hash-queue".to_owned(), "2".to_owned()]);
    let opts = ServerOpts {
        args,
        log_filter: None,
    };
    let server = match Server::start(bin, db, &work.join("server-overload.log"), &opts) {
        Ok(s) => s,
        Err(e) => {
            checks.check(false, "overload: server start", e);
            return;
        }
    };
    let target = server.target(target.creds.clone());
    let results: Vec<Result<Resp, String>> = rt.block_on(async {
        // Connect all first, then send together.
        let mut conns = Vec::new();
        for _ in 0..burst {
            let mut c = Conn::new(&target);
            let _ = c.connect().await;
            conns.push(c);
        }
        let tasks: Vec<_> = conns
            .into_iter()
            .enumerate()
            .map(|(i, mut c)| {
                let u = users[i % users.len()].clone();
                tokio::spawn(async move { c.login(&u.0, &u.1).await.map_err(|e| e.to_string()) })
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap_or_else(|e| Err(e.to_string())));
        }
        out
    });
    let ok = results
        .iter()
        .filter(|r| matches!(r, Ok(r) if r.status.as_u16() == 200))
        .count();
    let busy = results
        .iter()
        .filter(|r| matches!(r, Ok(r) if server_busy_retry_after(r).is_some()))
        .count();
    let other: Vec<String> = results
        .iter()
        .filter_map(|r| match r {
            Ok(r) if r.status.as_u16() == 200 || server_busy_retry_after(r).is_some() => None,
            Ok(r) => Some(format!("{} {:?} {}", r.status, r.headers, r.text())),
            Err(e) => Some(e.clone()),
        })
        .collect();
    checks.check(
        other.is_empty() && ok > 0 && busy > 0,
        "overload: past the queue, 503 server_busy with Retry-After",
        format!(
            "{burst} logins at once with --hash-queue 2: {ok} × 200, {busy} × 503 server_busy{}",
            if other.is_empty() {
                String::new()
            } else {
                format!("; other: {:?}", &other[..other.len().min(3)])
            }
        ),
    );
    let after = rt.block_on(login_once(&target, &users[0]));
    checks.check(
        after.is_ok(),
        "overload: a login after the burst succeeds",
        match &after {
            Ok(_) => "200".to_owned(),
            Err(e) => e.to_string(),
        },
    );
    server.terminate();
}
