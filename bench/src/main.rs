//! `gatehouse-bench`: a closed-loop HTTP/1.1 load generator for Gatehouse.
//!
//! Each connection is one task with one keep-alive hyper connection that
//! sends its next request as soon as the previous answer is read. Latencies
//! go into an HDR histogram per task; the tasks' histograms are merged per
//! scenario. `scripts/bench.sh` starts a release server on a temp database
//! and runs this against it; `--base-url`, `--api-key`, `--client-id` point
//! it at any other host (the Worker under `wrangler dev`, say).

mod callgrind;
mod client;
mod cpu;
mod report;
mod scenario;

use clap::Parser;
use client::Target;
use gatehouse_core::password::Argon2Params;
use report::{Outcome, Row, Target as Goal};
use scenario::{Job, User};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Load generator for Gatehouse's auth endpoints.
#[derive(Debug, Parser)]
#[command(name = "gatehouse-bench", version)]
struct Args {
    /// Base URL of the server (http only), e.g. http://127.0.0.1:8000
    #[arg(long, env = "GATEHOUSE_BENCH_URL")]
    base_url: String,
    /// X-API-Key of a client with a rate limit large enough for the run.
    #[arg(long, env = "GATEHOUSE_BENCH_API_KEY")]
    api_key: String,
    /// X-Client-ID of that client.
    #[arg(long, env = "GATEHOUSE_BENCH_CLIENT_ID")]
    client_id: String,
    /// Concurrent keep-alive connections (one task each).
    #[arg(long, default_value_t = 50)]
    connections: usize,
    /// How long each scenario runs: 10s, 500ms, 2m, or plain seconds.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// Unmeasured warm-up before each scenario (same load, figures dropped).
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    warmup: Duration,
    /// Scenarios to run, comma-separated, in this order.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "profile,login,refresh,register,storm"
    )]
    scenarios: Vec<Scenario>,
    /// Connections doing logins during `storm` (the rest GET the profile);
    /// default: half.
    #[arg(long)]
    storm_logins: Option<usize>,
    /// Users registered before the run (default: one per connection).
    #[arg(long)]
    users: Option<usize>,
    /// Worker threads of the load generator's runtime. One leaves the most
    /// CPU to a server on the same machine.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Cores for the Argon2 bound (default: this machine's).
    #[arg(long)]
    cores: Option<usize>,
    /// Argon2 hashes timed for the bound (after one warm-up hash).
    #[arg(long, default_value_t = 8)]
    argon2_runs: u32,
    /// Argon2 memory (KiB) the server uses.
    #[arg(long, env = "GATEHOUSE_ARGON2_MEMORY_KIB")]
    argon2_memory_kib: Option<u32>,
    /// Argon2 iterations the server uses.
    #[arg(long, env = "GATEHOUSE_ARGON2_ITERATIONS")]
    argon2_iterations: Option<u32>,
    /// Argon2 parallelism the server uses.
    #[arg(long, env = "GATEHOUSE_ARGON2_PARALLELISM")]
    argon2_parallelism: Option<u32>,
    /// Pid of the server when it runs on this machine: its CPU time per
    /// request is reported (a figure that other load on a shared machine
    /// does not distort).
    #[arg(long)]
    server_pid: Option<u32>,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
    /// Exit with status 2 when a figure misses its target.
    #[arg(long)]
    check: bool,
    /// A bare hyper server answering a profile-sized JSON body
    /// (`gatehouse-bare-baseline`): measured first, with the same load, and
    /// every scenario printed as a share of it.
    #[arg(long, env = "GATEHOUSE_BENCH_BASELINE_URL")]
    baseline_url: Option<String>,
    /// Pid of the baseline server, for its CPU time per request.
    #[arg(long)]
    baseline_pid: Option<u32>,
    /// The servers run under `valgrind --tool=callgrind --instr-atstart=no`:
    /// count their instructions per answer in each window (and dump each
    /// window's profile). Use few connections: a request in flight at a
    /// window's edge is counted but not answered inside it.
    #[arg(long)]
    callgrind: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Scenario {
    Profile,
    Login,
    Refresh,
    Register,
    Storm,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => (&s[..i], s[i..].trim()),
        None => (s, "s"),
    };
    let n: f64 = num
        .parse()
        .map_err(|_| format!("not a duration: {s:?} (try 10s, 500ms, 2m)"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" | "sec" | "secs" => n,
        "m" | "min" => n * 60.0,
        _ => return Err(format!("unknown unit in {s:?} (ms, s, m)")),
    };
    if !(secs.is_finite() && secs >= 0.0) {
        return Err(format!("not a duration: {s:?}"));
    }
    Ok(Duration::from_secs_f64(secs))
}

fn main() -> ExitCode {
    let args = Args::parse();
    let rt = if args.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.threads)
            .enable_all()
            .build()
    };
    let rt = match rt {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("gatehouse-bench: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(args)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("gatehouse-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

type Error = Box<dyn std::error::Error + Send + Sync>;

async fn run(args: Args) -> Result<ExitCode, Error> {
    if args.connections == 0 {
        return Err("--connections must be at least 1".into());
    }
    let target = Target::parse(&args.base_url, &args.api_key, &args.client_id)?;
    let params = argon2_params(&args);
    let cores = args
        .cores
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let run_id = run_id();

    eprintln!(
        "gatehouse-bench: {} connections, {:?} per scenario (+{:?} warm-up), target {}",
        args.connections, args.duration, args.warmup, args.base_url
    );
    if let Some(load) = loadavg() {
        eprintln!("gatehouse-bench: load average before the run: {load}");
    }

    // The Argon2 bound first, on an idle server, in this process.
    eprintln!(
        "gatehouse-bench: timing Argon2id (m={} KiB, t={}, p={}) x{} ...",
        params.memory_kib, params.iterations, params.parallelism, args.argon2_runs
    );
    let (hash_time, hash_cpu) =
        tokio::task::spawn_blocking(move || time_argon2(params, args.argon2_runs))
            .await
            .map_err(|e| format!("argon2 timing task: {e}"))??;
    let bound = cores as f64 / hash_time.as_secs_f64();
    eprintln!(
        "gatehouse-bench: one hash {:.1} ms ({} ms CPU), {cores} cores -> bound {bound:.1} hashes/s",
        hash_time.as_secs_f64() * 1000.0,
        hash_cpu.map_or("?".to_owned(), |c| format!("{:.1}", c.as_secs_f64() * 1000.0)),
    );

    // Preflight: the server answers and the key works.
    scenario::preflight(&target).await?;

    let n_users = args.users.unwrap_or(args.connections).max(1);
    eprintln!("gatehouse-bench: registering {n_users} users ...");
    let t = Instant::now();
    let mut users = scenario::register_users(&target, &run_id, n_users, args.connections).await?;
    eprintln!(
        "gatehouse-bench: registered {n_users} users in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let conns = args.connections;
    let mut tokens_at = Instant::now();
    let mut rows: Vec<Row> = Vec::new();
    // Login and registration are bound by Argon2: most of its rate is the goal.
    let hashing = Goal::BoundShare { bound, share: 0.8 };
    let row = |label: &str, conns: usize, out: &Outcome, goal: Goal| {
        Row::new(cores, label, conns, out, goal)
    };
    if let Some(url) = &args.baseline_url {
        let bare = Target::parse(url, &args.api_key, &args.client_id)?;
        let jobs = per_conn(conns, &users, |u| Job::Profile {
            access: u.access.clone(),
        });
        let out = run_split_pid(&bare, jobs, conns, &args, args.baseline_pid)
            .await
            .0
            .named(report::BASELINE);
        rows.push(row(report::BASELINE, conns, &out, Goal::Rps(0.0)));
    }
    for sc in &args.scenarios {
        match sc {
            Scenario::Profile => {
                fresh_access(&target, &mut users, &mut tokens_at, conns).await?;
                let jobs = per_conn(conns, &users, |u| Job::Profile {
                    access: u.access.clone(),
                });
                let out = run_scenario(&target, "profile GET", jobs, &args).await;
                rows.push(row(
                    "profile GET",
                    conns,
                    &out,
                    Goal::RpsAndP99 {
                        rps: 20_000.0,
                        p99_ms: 10.0,
                    },
                ));
            }
            Scenario::Login => {
                let jobs = per_conn(conns, &users, |u| Job::Login {
                    email: u.email.clone(),
                    password: u.password.clone(),
                });
                let out = run_scenario(&target, "login", jobs, &args).await;
                rows.push(row("login", conns, &out, hashing));
            }
            Scenario::Refresh => {
                // Each connection chains its own refresh token, from a login
                // of its own (a session apart from the profile tokens'): one
                // user per connection so no two chains share a family.
                if users.len() < conns {
                    let more = scenario::register_users(
                        &target,
                        &format!("{run_id}r"),
                        conns - users.len(),
                        conns,
                    )
                    .await?;
                    users.extend(more);
                }
                let pairs = scenario::login_all(&target, &users[..conns], conns).await?;
                let jobs: Vec<Job> = users[..conns]
                    .iter()
                    .zip(pairs)
                    .map(|(u, (_, refresh))| Job::Refresh {
                        refresh,
                        email: u.email.clone(),
                        password: u.password.clone(),
                    })
                    .collect();
                let out = run_scenario(&target, "refresh", jobs, &args).await;
                rows.push(row("refresh (chained)", conns, &out, Goal::Rps(5_000.0)));
            }
            Scenario::Register => {
                let jobs = (0..conns)
                    .map(|c| Job::Register {
                        prefix: format!("g{run_id}c{c}"),
                        next: 0,
                    })
                    .collect();
                let out = run_scenario(&target, "register", jobs, &args).await;
                rows.push(row("register", conns, &out, hashing));
            }
            Scenario::Storm => {
                let logins = args.storm_logins.unwrap_or(conns / 2).min(conns);
                let readers = conns - logins;
                if readers == 0 {
                    return Err("storm needs at least one profile connection".into());
                }
                fresh_access(&target, &mut users, &mut tokens_at, conns).await?;
                let mut jobs = per_conn(logins, &users, |u| Job::Login {
                    email: u.email.clone(),
                    password: u.password.clone(),
                });
                let mut readers_jobs = per_conn(readers, &users, |u| Job::Profile {
                    access: u.access.clone(),
                });
                jobs.append(&mut readers_jobs);
                let out = run_split(&target, jobs, logins, &args).await;
                rows.push(row(
                    "profile GET during login storm",
                    readers,
                    &out.1,
                    Goal::P99(20.0),
                ));
                rows.push(row(
                    "login (the storm)",
                    logins,
                    &out.0,
                    Goal::InfoBound(bound),
                ));
            }
        }
    }

    let summary = report::Summary {
        base_url: args.base_url.clone(),
        connections: conns,
        duration: args.duration,
        cores,
        params,
        hash_time,
        hash_cpu,
        bound,
        rows,
    };
    print!("{}", summary.table());
    if let Some(path) = &args.json {
        std::fs::write(path, summary.json().to_string() + "\n")
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    if args.check && !summary.all_met() {
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

/// Access tokens live 15 minutes by default: past half of that, log the
/// users in again before a scenario that presents them.
async fn fresh_access(
    target: &Target,
    users: &mut [User],
    tokens_at: &mut Instant,
    conns: usize,
) -> Result<(), Error> {
    if tokens_at.elapsed() < Duration::from_secs(7 * 60) {
        return Ok(());
    }
    eprintln!("gatehouse-bench: renewing access tokens ...");
    let pairs = scenario::login_all(target, users, conns).await?;
    for (u, (access, _)) in users.iter_mut().zip(pairs) {
        u.access = access;
    }
    *tokens_at = Instant::now();
    Ok(())
}

/// One job per connection, cycling through the users.
fn per_conn(n: usize, users: &[User], f: impl Fn(&User) -> Job) -> Vec<Job> {
    (0..n).map(|i| f(&users[i % users.len()])).collect()
}

async fn run_scenario(target: &Target, name: &str, jobs: Vec<Job>, args: &Args) -> Outcome {
    let n = jobs.len();
    run_split(target, jobs, n, args).await.0.named(name)
}

/// Runs every job on its own connection; the first `split` jobs' figures go
/// into the first outcome, the rest into the second.
async fn run_split(
    target: &Target,
    jobs: Vec<Job>,
    split: usize,
    args: &Args,
) -> (Outcome, Outcome) {
    run_split_pid(target, jobs, split, args, args.server_pid).await
}

/// [`run_split`] with the CPU time of process `pid`.
async fn run_split_pid(
    target: &Target,
    jobs: Vec<Job>,
    split: usize,
    args: &Args,
    pid: Option<u32>,
) -> (Outcome, Outcome) {
    let n_jobs = jobs.len();
    let start = std::time::Instant::now();
    let sampler = tokio::spawn(cpu::sample_window(
        pid,
        start + args.warmup,
        start + args.warmup + args.duration,
        args.callgrind,
    ));
    let results = scenario::run(target, jobs, args.warmup, args.duration).await;
    // CPU time is per scenario; with two kinds of request in one window it
    // would mean nothing per request.
    let cpu = sampler.await.unwrap_or_default();
    let cpu = if split == n_jobs {
        cpu
    } else {
        cpu::WindowCpu::default()
    };
    let (a, b): (Vec<_>, Vec<_>) = results
        .into_iter()
        .enumerate()
        .partition(|(i, _)| *i < split);
    (
        Outcome::merge(a.into_iter().map(|x| x.1), args.duration, cpu),
        Outcome::merge(b.into_iter().map(|x| x.1), args.duration, cpu),
    )
}

fn argon2_params(args: &Args) -> Argon2Params {
    let d = Argon2Params::default();
    Argon2Params {
        memory_kib: args.argon2_memory_kib.unwrap_or(d.memory_kib),
        iterations: args.argon2_iterations.unwrap_or(d.iterations),
        parallelism: args.argon2_parallelism.unwrap_or(d.parallelism),
    }
}

/// Average wall time of one Argon2id hash with `params` (one warm-up first),
/// and its CPU time (which other load on the machine does not inflate).
fn time_argon2(params: Argon2Params, runs: u32) -> Result<(Duration, Option<Duration>), Error> {
    let runs = runs.max(1);
    let hash = |i: u32| {
        let mut salt = [0x5a_u8; 16];
        salt[..4].copy_from_slice(&i.to_le_bytes());
        gatehouse_core::password::hash_password(params, &format!("Bench-pass-{i}-xyz"), salt)
    };
    hash(u32::MAX)?;
    let cpu0 = cpu::this_thread();
    let t = Instant::now();
    for i in 0..runs {
        std::hint::black_box(hash(i)?);
    }
    let wall = t.elapsed() / runs;
    let cpu = match (cpu0, cpu::this_thread()) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a) / runs),
        _ => None,
    };
    Ok((wall, cpu))
}

/// A short id that keeps this run's emails apart from earlier runs'.
fn run_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mixed = (nanos as u64) ^ (u64::from(std::process::id()) << 40);
    format!("{:x}", mixed & 0xffff_ffff_ffff)
}

fn loadavg() -> Option<String> {
    let s = std::fs::read_to_string("/proc/loadavg").ok()?;
    Some(s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
}
