//! CPU time of this process and of the server over a scenario's window,
//! from `/proc/PID/stat` (user + system, threads that ended included).
//! On a machine shared with other work, req/s and latency depend on what
//! else runs; CPU time per request does much less.

use std::time::{Duration, Instant};

/// CPU seconds used during one window (None where unknown).
#[derive(Debug, Clone, Copy, Default)]
pub struct WindowCpu {
    pub server: Option<Duration>,
    pub generator: Option<Duration>,
    /// The server's instructions in the window (under callgrind only), and
    /// the share of the window they cover: collection starts once the
    /// server took the command, which under load can be well into it.
    pub instructions: Option<(u64, f64)>,
}

/// The kernel's clock ticks per second for `/proc` times (`USER_HZ`): 100
/// on every Linux configuration in use.
const TICKS_PER_SEC: u64 = 100;

/// utime + stime of a process.
fn cpu_of(pid: &str) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may contain spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 of the stat line; `rest` starts at field 3.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis(
        (utime + stime) * 1000 / TICKS_PER_SEC,
    ))
}

fn both(server: Option<u32>) -> (Option<Duration>, Option<Duration>) {
    (server.and_then(|p| cpu_of(&p.to_string())), cpu_of("self"))
}

/// Waits for `start`, samples, waits for `end`, samples again. With
/// `callgrind`, also counts the server's instructions in between.
pub async fn sample_window(
    server: Option<u32>,
    start: Instant,
    end: Instant,
    callgrind: bool,
) -> WindowCpu {
    // callgrind_control waits for the server's answer: off this thread,
    // which drives the load.
    let counted = server.filter(|_| callgrind);
    tokio::time::sleep_until(start.into()).await;
    if let Some(pid) = counted {
        let _ = tokio::task::spawn_blocking(move || crate::callgrind::begin(pid)).await;
    }
    let counting_from = Instant::now().min(end);
    let (s0, g0) = both(server);
    tokio::time::sleep_until(end.into()).await;
    let (s1, g1) = both(server);
    let covered = (end - counting_from).as_secs_f64() / (end - start).as_secs_f64().max(1e-9);
    let instructions = match counted {
        Some(pid) => tokio::task::spawn_blocking(move || crate::callgrind::end(pid))
            .await
            .ok()
            .flatten()
            .map(|n| (n, covered)),
        None => None,
    };
    let diff = |a: Option<Duration>, b: Option<Duration>| Some(b?.saturating_sub(a?));
    WindowCpu {
        server: diff(s0, s1),
        generator: diff(g0, g1),
        instructions,
    }
}

/// CPU time of the calling thread, in nanoseconds' precision
/// (`/proc/thread-self/schedstat`).
pub fn this_thread() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = s.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}
