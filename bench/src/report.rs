//! Merging the connections' figures, the targets, and the printed table.

use crate::scenario::Stats;
use gatehouse_core::password::Argon2Params;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Duration;

/// One scenario's (or one side of the storm's) merged figures.
pub struct Outcome {
    pub name: String,
    /// Every connection's figures added up.
    pub stats: Stats,
    /// The measuring window (answers arriving inside it are the samples).
    pub elapsed: Duration,
    /// CPU time spent in the window (for the whole scenario, both sides of
    /// the storm together).
    pub cpu: crate::cpu::WindowCpu,
}

impl Outcome {
    pub fn merge(
        stats: impl Iterator<Item = Stats>,
        duration: Duration,
        cpu: crate::cpu::WindowCpu,
    ) -> Outcome {
        let mut all = Stats::empty();
        for s in stats {
            all.add(s);
        }
        Outcome {
            name: String::new(),
            stats: all,
            elapsed: duration,
            cpu,
        }
    }

    pub fn named(mut self, name: &str) -> Outcome {
        self.name = name.to_owned();
        self
    }

    pub fn rps(&self) -> f64 {
        self.stats.requests as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    fn ms(&self, q: f64) -> f64 {
        if self.stats.requests == 0 {
            return f64::NAN;
        }
        self.stats.hist.value_at_quantile(q) as f64 / 1000.0
    }

    pub fn p50_ms(&self) -> f64 {
        self.ms(0.50)
    }

    pub fn p99_ms(&self) -> f64 {
        self.ms(0.99)
    }
}

/// What a row is held to.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    RpsAndP99 {
        rps: f64,
        p99_ms: f64,
    },
    Rps(f64),
    P99(f64),
    /// No target: shown for information, against the Argon2 bound.
    InfoBound(f64),
    /// At least `share` of `bound` requests/s.
    BoundShare {
        bound: f64,
        share: f64,
    },
}

impl Target {
    fn describe(&self) -> String {
        match *self {
            Target::RpsAndP99 { rps, p99_ms } => format!(">= {rps:.0}/s, p99 <= {p99_ms:.0} ms"),
            Target::Rps(rps) => format!(">= {rps:.0}/s"),
            Target::P99(p99_ms) => format!("p99 <= {p99_ms:.0} ms"),
            Target::InfoBound(_) => "(none; for information)".to_owned(),
            Target::BoundShare { bound, share } => {
                format!(
                    ">= {:.0}% of bound (>= {:.1}/s)",
                    share * 100.0,
                    bound * share
                )
            }
        }
    }
}

pub struct Row {
    pub name: String,
    pub connections: usize,
    pub requests: u64,
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub errors: u64,
    pub failures: BTreeMap<String, u64>,
    pub first_failure: Option<String>,
    pub reconnects: u64,
    pub target: Target,
    /// requests/s as a share of the Argon2 bound, for the hashing rows.
    pub of_bound: Option<f64>,
    pub met: bool,
    /// Server CPU time per answer in the window, microseconds.
    pub server_us: Option<f64>,
    /// The load generator's CPU time per answer, microseconds.
    pub generator_us: Option<f64>,
    /// cores / (server + generator CPU per answer): the rate with the
    /// cores to themselves, if CPU is what bounds it.
    pub cpu_bound_rps: Option<f64>,
    /// The server's instructions per answer (under callgrind).
    pub instructions: Option<f64>,
}

impl Row {
    pub fn new(cores: usize, name: &str, connections: usize, o: &Outcome, target: Target) -> Row {
        let rps = o.rps();
        let per_req = |d: Option<Duration>| {
            d.filter(|_| o.stats.requests > 0)
                .map(|d| d.as_secs_f64() * 1e6 / o.stats.requests as f64)
        };
        let (server_us, generator_us) = (per_req(o.cpu.server), per_req(o.cpu.generator));
        let cpu_bound_rps = match (server_us, generator_us) {
            (Some(s), Some(g)) if s + g > 0.0 => Some(cores as f64 * 1e6 / (s + g)),
            _ => None,
        };
        // Answers in the part of the window that was counted, at the
        // window's average rate.
        let instructions = o
            .cpu
            .instructions
            .filter(|&(_, covered)| o.stats.requests > 0 && covered > 0.0)
            .map(|(n, covered)| n as f64 / (o.stats.requests as f64 * covered));
        let (p50, p99) = (o.p50_ms(), o.p99_ms());
        // Errors fail a row: a fast stream of 4xx proves nothing.
        let clean = o.stats.requests > 0 && o.stats.errors == 0;
        let (met, of_bound) = match target {
            Target::RpsAndP99 { rps: r, p99_ms } => (rps >= r && p99 <= p99_ms, None),
            Target::Rps(r) => (rps >= r, None),
            Target::P99(p) => (p99 <= p, None),
            Target::InfoBound(bound) => (true, Some(rps / bound)),
            Target::BoundShare { bound, share } => {
                let of = rps / bound;
                (of >= share, Some(of))
            }
        };
        Row {
            name: name.to_owned(),
            connections,
            requests: o.stats.requests,
            rps,
            p50_ms: p50,
            p99_ms: p99,
            errors: o.stats.errors,
            failures: o.stats.failures.clone(),
            first_failure: o.stats.first_failure.clone(),
            reconnects: o.stats.reconnects,
            target,
            of_bound,
            met: met && clean,
            server_us,
            generator_us,
            cpu_bound_rps,
            instructions,
        }
    }
}

/// The row of the bare hyper baseline (`--baseline-url`).
pub const BASELINE: &str = "bare hyper baseline";

pub struct Summary {
    pub base_url: String,
    pub connections: usize,
    pub duration: Duration,
    pub cores: usize,
    pub params: Argon2Params,
    pub hash_time: Duration,
    pub hash_cpu: Option<Duration>,
    pub bound: f64,
    pub rows: Vec<Row>,
}

fn fmt_ms(ms: f64) -> String {
    if ms.is_nan() {
        "-".to_owned()
    } else if ms < 10.0 {
        format!("{ms:.2} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

impl Summary {
    pub fn all_met(&self) -> bool {
        self.rows.iter().all(|r| r.met)
    }

    pub fn table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "\nGatehouse benchmark: {} | {} connections | {:?} per scenario",
            self.base_url, self.connections, self.duration
        );
        let _ = writeln!(
            s,
            "Argon2 bound: {} cores / {:.1} ms per Argon2id hash (m={} KiB, t={}, p={}) = {:.1} hashes/s",
            self.cores,
            self.hash_time.as_secs_f64() * 1000.0,
            self.params.memory_kib,
            self.params.iterations,
            self.params.parallelism,
            self.bound
        );
        if let Some(cpu) = self.hash_cpu {
            let _ = writeln!(
                s,
                "  (one hash took {:.1} ms of CPU: with the cores to itself the bound is {:.1}/s)",
                cpu.as_secs_f64() * 1000.0,
                self.cores as f64 / cpu.as_secs_f64()
            );
        }
        s.push('\n');
        let header = [
            "scenario",
            "conns",
            "requests",
            "req/s",
            "p50",
            "p99",
            "errors",
            "srv CPU/req",
            "gen CPU/req",
            "CPU-bound req/s",
            "target",
            "result",
        ];
        const N: usize = 12;
        // Columns from this one on are text, left-aligned.
        const TEXT_FROM: usize = 10;
        let us = |x: Option<f64>| x.map_or("-".to_owned(), |v| format!("{v:.0} us"));
        let mut lines: Vec<[String; N]> = vec![header.map(str::to_owned)];
        for r in &self.rows {
            let verdict = match (r.target, r.met) {
                (Target::InfoBound(_), _) => "info",
                (_, true) => "ok",
                (_, false) => "MISS",
            };
            let result = match r.of_bound {
                Some(of) => format!("{verdict} ({:.0}% of bound)", of * 100.0),
                None => verdict.to_owned(),
            };
            lines.push([
                r.name.clone(),
                r.connections.to_string(),
                r.requests.to_string(),
                format!("{:.1}", r.rps),
                fmt_ms(r.p50_ms),
                fmt_ms(r.p99_ms),
                r.errors.to_string(),
                us(r.server_us),
                us(r.generator_us),
                match (r.cpu_bound_rps, r.of_bound, self.hash_cpu) {
                    (Some(v), Some(_), Some(h)) => {
                        let cpu_bound = self.cores as f64 / h.as_secs_f64();
                        format!("{v:.0} ({:.0}% of CPU bound)", v / cpu_bound * 100.0)
                    }
                    (Some(v), _, _) => format!("{v:.0}"),
                    _ => "-".to_owned(),
                },
                r.target.describe(),
                result,
            ]);
        }
        let mut widths = [0usize; N];
        for l in &lines {
            for (w, c) in widths.iter_mut().zip(l) {
                *w = (*w).max(c.chars().count());
            }
        }
        for (i, l) in lines.iter().enumerate() {
            let mut line = String::new();
            for (j, (c, w)) in l.iter().zip(widths).enumerate() {
                if j == 0 || j >= TEXT_FROM {
                    let _ = write!(line, "{c:<w$}  ");
                } else {
                    let _ = write!(line, "{c:>w$}  ");
                }
            }
            let _ = writeln!(s, "{}", line.trim_end());
            if i == 0 {
                let total: usize = widths.iter().sum::<usize>() + 2 * (N - 1);
                let _ = writeln!(s, "{}", "-".repeat(total));
            }
        }
        if self.rows.iter().any(|r| r.server_us.is_some()) {
            let _ = writeln!(
                s,
                "CPU/req: CPU time (user+sys) of the server / this generator per answer in the window;\n\
                 CPU-bound req/s = {} cores / (server + generator CPU per answer): the rate if both had\n\
                 the cores to themselves (other processes on a shared machine skew req/s and latency, far less this).",
                self.cores
            );
        }
        for r in &self.rows {
            if r.errors > 0 {
                let kinds: Vec<String> = r
                    .failures
                    .iter()
                    .map(|(k, v)| format!("{k} x{v}"))
                    .collect();
                let _ = writeln!(
                    s,
                    "  {}: errors {}; first: {}",
                    r.name,
                    kinds.join(", "),
                    r.first_failure.as_deref().unwrap_or("?")
                );
            }
            if r.reconnects > 0 {
                let _ = writeln!(s, "  {}: {} reconnects", r.name, r.reconnects);
            }
        }
        if self.rows.iter().any(|r| r.instructions.is_some()) {
            let _ = writeln!(
                s,
                "\nServer instructions per answer (callgrind, the window only):"
            );
            for r in &self.rows {
                if let Some(n) = r.instructions {
                    let _ = writeln!(s, "  {:<34} {n:>12.0}", r.name);
                }
            }
        }
        if let Some(shares) = self.shares() {
            let _ = writeln!(s, "\nAs a share of the {BASELINE} (same run, same load):");
            for (name, share) in shares {
                let _ = writeln!(s, "  {name:<34} {:5.1}%", share * 100.0);
            }
        }
        s
    }

    /// Each scenario's throughput as a share of the baseline's, measured in
    /// the same run (None without a baseline row).
    pub fn shares(&self) -> Option<Vec<(String, f64)>> {
        let base = self.rows.iter().find(|r| r.name == BASELINE)?.rps;
        (base > 0.0).then(|| {
            self.rows
                .iter()
                .filter(|r| r.name != BASELINE)
                .map(|r| (r.name.clone(), r.rps / base))
                .collect()
        })
    }

    pub fn json(&self) -> Value {
        let finite = |x: f64| if x.is_finite() { json!(x) } else { Value::Null };
        let shares: serde_json::Map<String, Value> = self
            .shares()
            .unwrap_or_default()
            .into_iter()
            .map(|(n, v)| (n, finite(v)))
            .collect();
        json!({
            "shares_of_baseline": shares,
            "base_url": self.base_url,
            "connections": self.connections,
            "duration_secs": self.duration.as_secs_f64(),
            "argon2": {
                "memory_kib": self.params.memory_kib,
                "iterations": self.params.iterations,
                "parallelism": self.params.parallelism,
                "hash_ms": self.hash_time.as_secs_f64() * 1000.0,
                "hash_cpu_ms": self.hash_cpu.map(|c| c.as_secs_f64() * 1000.0),
                "cores": self.cores,
                "bound_per_sec": self.bound,
            },
            "rows": self.rows.iter().map(|r| json!({
                "scenario": r.name,
                "connections": r.connections,
                "requests": r.requests,
                "rps": finite(r.rps),
                "p50_ms": finite(r.p50_ms),
                "p99_ms": finite(r.p99_ms),
                "errors": r.errors,
                "failures": r.failures,
                "target": r.target.describe(),
                "of_bound": r.of_bound.map(finite),
                "server_cpu_us_per_req": r.server_us.map(finite),
                "generator_cpu_us_per_req": r.generator_us.map(finite),
                "cpu_bound_rps": r.cpu_bound_rps.map(finite),
                "server_instructions_per_req": r.instructions.map(finite),
                "met": r.met,
            })).collect::<Vec<_>>(),
            "all_met": self.all_met(),
        })
    }
}
