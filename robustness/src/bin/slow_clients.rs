//! slow-clients: 500 connections that never finish a request (slowloris)
//! are held open while normal requests must still be served quickly; the
//! server's header-read timeout, body-read timeout and connection cap must
//! act.
//!
//! The attack, split evenly over five kinds of connection:
//!   idle         connects and sends nothing
//!   slow-header  sends a request line, then header bytes one at a time
//!   slow-body    sends complete headers (Content-Length 10000), then the
//!                body one byte a second
//!   keepalive    sends one whole request, reads the answer, then idles
//!   h2-idle      sends the HTTP/2 preface and SETTINGS, then idles
//! Each records when the server closed it. Meanwhile `--requests` profile
//! GETs, each on a new connection, from 4 workers, must all get 200 with
//! p99 under `--p99-max-ms`.
//!
//! Then the cap: a second server with `--max-connections 50`, 50 idle
//! connections, and one more request: it must wait (not be served past the
//! cap) and be served once the header timeout frees a slot.
//!
//! ```text
//! slow-clients [--connections 500] [--hold 25s] [--requests 200]
//!              [--p99-max-ms 500] [--header-timeout-s 10]
//!              [--body-timeout-s 15] [--kinds idle,slow-header,…]
//!              [--skip-cap] [--work-dir DIR] [--gatehouse-bin PATH]
//! ```

use gatehouse_robustness::*;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const P: &str = "slow";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Idle,
    SlowHeader,
    SlowBody,
    KeepAlive,
    H2Idle,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Idle => "idle",
            Kind::SlowHeader => "slow-header",
            Kind::SlowBody => "slow-body",
            Kind::KeepAlive => "keepalive",
            Kind::H2Idle => "h2-idle",
        }
    }
}

#[derive(Debug)]
struct Held {
    kind: Kind,
    connected: bool,
    /// When the server closed the connection (None: still open at the end).
    closed_after: Option<Duration>,
    /// The first bytes the server sent (a 408, a 200 …).
    answer: String,
}

fn main() {
    let args = Args::from_env();
    let connections: usize = args.parse("connections", 500);
    let hold = duration_arg(&args, "hold", Duration::from_secs(25));
    let requests: usize = args.parse("requests", 200);
    let p99_max_ms: u64 = args.parse("p99-max-ms", 500);
    let header_timeout: f64 = args.parse("header-timeout-s", 10.0);
    let body_timeout: f64 = args.parse("body-timeout-s", 15.0);
    let slack = 3.0;
    let kinds: Vec<Kind> = args
        .value("kinds")
        .unwrap_or_else(|| "idle,slow-header,slow-body,keepalive,h2-idle".into())
        .split(',')
        .map(|k| match k.trim() {
            "idle" => Kind::Idle,
            "slow-header" => Kind::SlowHeader,
            "slow-body" => Kind::SlowBody,
            "keepalive" => Kind::KeepAlive,
            "h2-idle" => Kind::H2Idle,
            other => panic!("unknown kind {other}"),
        })
        .collect();
    let Workspace { bin, work, db, log } = args.workspace("slow");
    let mut checks = Checks::new(P);
    let rt = client_runtime(2);

    let creds = checks.setup(create_client(&bin, &db, "slow-clients"));
    let server = checks.setup(Server::start(&bin, &db, &log, &ServerOpts::default()));
    let target = server.target(creds.clone());
    info(P, format!("{connections} slow connections ({}) held up to {hold:?}; {requests} profile GETs meanwhile", kinds.iter().map(|k| k.name()).collect::<Vec<_>>().join(", ")));

    let access = checks.setup(rt.block_on(register(&target)));
    let rss_before = server.rss_kib().unwrap_or(0);
    let fds_before = server.open_fds().unwrap_or(0);

    // The attack.
    let attack_start = Instant::now();
    let mut holders = Vec::new();
    for i in 0..connections {
        // Paced, 25 every 50 ms: a burst past the server's listen backlog
        // (128) would make the kernel delay the handshake, and the
        // server's timers would start seconds after ours.
        if i > 0 && i % 25 == 0 {
            std::thread::sleep(Duration::from_millis(50));
        }
        let kind = kinds[i % kinds.len()];
        let (addr, c) = (target.addr.clone(), creds.clone());
        holders.push(rt.spawn(hold_one(addr, c, kind, hold, attack_start)));
    }
    // Let them all connect and start misbehaving.
    std::thread::sleep(Duration::from_millis(500));
    let fds_attack = server.open_fds().unwrap_or(0);
    let rss_attack = server.rss_kib().unwrap_or(0);

    // Normal requests meanwhile, each on a new connection, spread over the
    // ~8 s before the header timeout would free anything.
    let per_worker = requests.div_ceil(4);
    let pause = Duration::from_millis(
        ((header_timeout - 2.5).max(1.0) * 1000.0 / per_worker as f64) as u64,
    );
    let normal_start = attack_start.elapsed();
    let results: Vec<(u16, u64)> = rt.block_on(async {
        let mut workers = Vec::new();
        for w in 0..4 {
            let t = target.clone();
            let a = access.clone();
            let n = per_worker.min(requests.saturating_sub(w * per_worker));
            workers.push(tokio::spawn(async move {
                let mut out = Vec::new();
                for _ in 0..n {
                    let t0 = Instant::now();
                    let mut conn = Conn::new(&t);
                    conn.timeout = Duration::from_secs(20);
                    let status = match conn.get("/api/auth/profile/", Some(&a)).await {
                        Ok(r) => r.status.as_u16(),
                        Err(_) => 0,
                    };
                    out.push((status, t0.elapsed().as_micros() as u64));
                    tokio::time::sleep(pause).await;
                }
                out
            }));
        }
        let mut all = Vec::new();
        for w in workers {
            all.extend(w.await.unwrap_or_default());
        }
        all
    });
    let normal_end = attack_start.elapsed();
    let held: Vec<Held> = rt.block_on(async {
        let mut out = Vec::new();
        for h in holders {
            if let Ok(r) = h.await {
                out.push(r);
            }
        }
        out
    });
    let fds_after = server.open_fds().unwrap_or(0);

    let mut lat: Vec<u64> = results.iter().map(|r| r.1).collect();
    lat.sort_unstable();
    let ok = results.iter().filter(|r| r.0 == 200).count();
    let p99 = percentile(&lat, 99.0);
    info(
        P,
        format!(
            "normal GETs from {:.1} s to {:.1} s of the attack: {ok} of {} → 200; p50 {} p99 {} max {}",
            normal_start.as_secs_f64(),
            normal_end.as_secs_f64(),
            results.len(),
            ms(percentile(&lat, 50.0)),
            ms(p99),
            ms(percentile(&lat, 100.0))
        ),
    );
    info(
        P,
        format!(
            "server: fds {fds_before} before, {fds_attack} during, {fds_after} after the attack; RSS {:.1} → {:.1} MiB",
            rss_before as f64 / 1024.0,
            rss_attack as f64 / 1024.0
        ),
    );

    let connected = held.iter().filter(|h| h.connected).count();
    checks.check(
        connected == connections,
        "all slow connections established",
        format!("{connected} of {connections}"),
    );
    checks.check(
        ok == results.len() && results.len() == requests,
        "normal requests served during the attack",
        format!("{ok} of {requests} → 200"),
    );
    checks.check(
        p99 <= p99_max_ms * 1000,
        "normal requests fast during the attack",
        format!("p99 {} (bound {p99_max_ms} ms)", ms(p99)),
    );

    let mut by_kind: BTreeMap<Kind, Vec<&Held>> = BTreeMap::new();
    for h in &held {
        by_kind.entry(h.kind).or_default().push(h);
    }
    for (kind, hs) in &by_kind {
        let mut closed: Vec<f64> = hs
            .iter()
            .filter_map(|h| h.closed_after.map(|d| d.as_secs_f64()))
            .collect();
        closed.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let open = hs.len() - closed.len();
        let (lo, med, hi) = if closed.is_empty() {
            (f64::NAN, f64::NAN, f64::NAN)
        } else {
            (
                closed[0],
                closed[closed.len() / 2],
                closed[closed.len() - 1],
            )
        };
        let answers: BTreeMap<String, usize> = hs.iter().fold(BTreeMap::new(), |mut m, h| {
            *m.entry(h.answer.clone()).or_default() += 1;
            m
        });
        let summary = format!(
            "{} connections: {} closed by the server (after {lo:.1}/{med:.1}/{hi:.1} s min/median/max), {open} still open after {:.0} s; first answer line {answers:?}",
            hs.len(),
            closed.len(),
            hold.as_secs_f64()
        );
        let (bound, what) = match kind {
            Kind::SlowBody => (body_timeout + slack, "body read timeout"),
            _ => (header_timeout + slack, "header read timeout"),
        };
        let all_closed = open == 0 && hi <= bound;
        let extra = match kind {
            Kind::SlowBody => {
                let got_408 = hs.iter().filter(|h| h.answer.contains(" 408")).count();
                format!("; {got_408} got 408")
            }
            _ => String::new(),
        };
        checks.check(
            all_closed,
            &format!(
                "{} connections closed by the {what} (≤ {bound:.0} s)",
                kind.name()
            ),
            format!("{summary}{extra}"),
        );
    }
    let status = server.terminate();
    info(P, format!("server stopped with SIGTERM ({status})"));

    if !args.flag("skip-cap") {
        rt.block_on(cap_check(&bin, &work, header_timeout, slack, &mut checks));
    }
    if checks.failed == 0 && args.value("work-dir").is_none() {
        let _ = std::fs::remove_dir_all(&work);
    }
    checks.finish();
}

async fn register(target: &Target) -> Result<String, Error> {
    let mut conn = Conn::new(target);
    let name = format!("slow{}", Rng::new(Rng::fresh_seed()).token(8));
    let pw = "Slow-clients-pw-7391";
    let r = conn.register(&name, pw).await.map_err(|e| e.to_string())?;
    r.field("access")
        .ok_or_else(|| format!("register: {} {}", r.status, r.text()).into())
}

/// Holds one misbehaving connection until the server closes it or `hold`
/// has passed since `start`.
async fn hold_one(addr: String, creds: Creds, kind: Kind, hold: Duration, start: Instant) -> Held {
    let mut held = Held {
        kind,
        connected: false,
        closed_after: None,
        answer: String::new(),
    };
    let Ok(Ok(mut s)) =
        tokio::time::timeout(Duration::from_secs(10), TcpStream::connect(&addr)).await
    else {
        return held;
    };
    held.connected = true;
    let opened = Instant::now();
    let end = start + hold;
    // What to send up front, and what to trickle.
    let (head, trickle): (Vec<u8>, &[u8]) = match kind {
        Kind::Idle => (Vec::new(), b""),
        Kind::SlowHeader => (
            format!("GET /api/auth/profile/ HTTP/1.1\r\nHost: {addr}\r\n").into_bytes(),
            b"X-Slowloris-Padding: aaaaaaaaaaaaaaaaaaaaaaaa\r\n",
        ),
        Kind::SlowBody => (
            format!(
                "POST /api/auth/token/ HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: 10000\r\nX-API-Key: {}\r\nX-Client-ID: {}\r\n\r\n",
                creds.api_key, creds.client_id
            )
            .into_bytes(),
            b"{\"email\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        ),
        Kind::KeepAlive => (format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\n\r\n").into_bytes(), b""),
        Kind::H2Idle => {
            let mut v = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
            v.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0, 0]); // empty SETTINGS
            (v, b"")
        }
    };
    if s.write_all(&head).await.is_err() {
        held.closed_after = Some(opened.elapsed());
        return held;
    }
    let mut buf = vec![0u8; 4096];
    let mut got = Vec::new();
    let mut next_byte = 0usize;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.tick().await;
    loop {
        let remaining = end.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            break;
        }
        tokio::select! {
            r = s.read(&mut buf) => match r {
                Ok(0) | Err(_) => {
                    held.closed_after = Some(opened.elapsed());
                    break;
                }
                Ok(n) => {
                    if got.len() < 512 {
                        got.extend_from_slice(&buf[..n]);
                    }
                }
            },
            _ = tick.tick(), if !trickle.is_empty() => {
                let b = trickle[next_byte % trickle.len()];
                next_byte += 1;
                if s.write_all(&[b]).await.is_err() {
                    held.closed_after = Some(opened.elapsed());
                    break;
                }
            }
            () = tokio::time::sleep(remaining) => break,
        }
    }
    held.answer = if kind == Kind::H2Idle {
        if got.is_empty() {
            "-".into()
        } else {
            format!("{} bytes of HTTP/2 frames", got.len().min(512))
        }
    } else {
        String::from_utf8_lossy(&got)
            .lines()
            .next()
            .unwrap_or("-")
            .to_owned()
    };
    if kind == Kind::H2Idle && !got.is_empty() {
        held.answer = "HTTP/2 frames".into();
    }
    held
}

/// With `--max-connections 50` and 50 idle connections held, one more
/// request waits (is not served past the cap) and is served after the
/// header timeout frees a slot.
async fn cap_check(
    bin: &std::path::Path,
    work: &std::path::Path,
    header_timeout: f64,
    slack: f64,
    checks: &mut Checks,
) {
    const CAP: usize = 50;
    let db = work.join("cap.db");
    let creds = match create_client(bin, &db, "cap") {
        Ok(c) => c,
        Err(e) => {
            checks.check(false, "cap: setup", e);
            return;
        }
    };
    let opts = ServerOpts {
        args: vec!["--max-connections".into(), CAP.to_string()],
        log_filter: None,
    };
    let server = match Server::start(bin, &db, &work.join("cap.log"), &opts) {
        Ok(s) => s,
        Err(e) => {
            checks.check(false, "cap: setup", e);
            return;
        }
    };
    let fds_idle = server.open_fds().unwrap_or(0);
    let mut idle = Vec::new();
    for _ in 0..CAP + 10 {
        if let Ok(s) = TcpStream::connect(&server.addr).await {
            idle.push(s);
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let fds_full = server.open_fds().unwrap_or(0);
    let target = server.target(creds);
    let t0 = Instant::now();
    let mut conn = Conn::new(&target);
    conn.timeout = Duration::from_secs_f64(header_timeout * 2.0 + slack);
    let r = conn.get("/healthz", None).await;
    let waited = t0.elapsed().as_secs_f64();
    let served = matches!(&r, Ok(resp) if resp.status.as_u16() == 200);
    checks.check(
        fds_full.saturating_sub(fds_idle) <= CAP + 2,
        "cap: no more than --max-connections sockets accepted",
        format!(
            "{} connections opened, the server's fds went {fds_idle} → {fds_full} (cap {CAP})",
            CAP + 10
        ),
    );
    checks.check(
        served && waited >= 1.0 && waited <= header_timeout * 2.0 + slack,
        "cap: a request past the cap waits, then is served when the header timeout frees a slot",
        format!(
            "{} after {waited:.1} s",
            match &r {
                Ok(resp) => resp.status.to_string(),
                Err(e) => e.to_string(),
            }
        ),
    );
    drop(idle);
    server.terminate();
}
