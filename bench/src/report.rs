//! Merging the connections' figures, the targets, and the printed table.

use crate::scenario::Stats;
use gatehouse_core::password::Argon2Params;
use hdrhistogram::Histogram;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Duration;

/// One scenario's (or one side of the storm's) merged figures.
pub struct Outcome {
    pub name: String,
    pub hist: Histogram<u64>,
    pub requests: u64,
    pub errors: u64,
    pub failures: BTreeMap<String, u64>,
    pub first_failure: Option<String>,
    /// The measuring window (answers arriving inside it are the samples).
    pub elapsed: Duration,
    pub reconnects: u64,
}

impl Outcome {
    pub fn merge(stats: impl Iterator<Item = Stats>, duration: Duration) -> Outcome {
        let mut out = Outcome {
            name: String::new(),
            hist: Histogram::new_with_bounds(1, 120_000_000, 3).expect("valid bounds"),
            requests: 0,
            errors: 0,
            failures: BTreeMap::new(),
            first_failure: None,
            elapsed: duration,
            reconnects: 0,
        };
        for s in stats {
            out.hist.add(&s.hist).expect("same bounds");
            out.requests += s.requests;
            out.errors += s.errors;
            for (k, v) in s.failures {
                *out.failures.entry(k).or_default() += v;
            }
            if out.first_failure.is_none() {
                out.first_failure = s.first_failure;
            }
            out.reconnects += s.reconnects;
        }
        out
    }

    pub fn named(mut self, name: &str) -> Outcome {
        self.name = name.to_owned();
        self
    }

    pub fn rps(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    fn ms(&self, q: f64) -> f64 {
        if self.requests == 0 {
            return f64::NAN;
        }
        self.hist.value_at_quantile(q) as f64 / 1000.0
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
}

impl Row {
    pub fn new(name: &str, connections: usize, o: &Outcome, target: Target) -> Row {
        let rps = o.rps();
        let (p50, p99) = (o.p50_ms(), o.p99_ms());
        // Errors fail a row: a fast stream of 4xx proves nothing.
        let clean = o.requests > 0 && o.errors == 0;
        let (met, of_bound) = match target {
            Target::RpsAndP99 { rps: r, p99_ms } => (rps >= r && p99 <= p99_ms, None),
            Target::Rps(r) => (rps >= r, None),
            Target::P99(p) => (p99 <= p, None),
            Target::BoundShare { bound, share } => {
                let of = rps / bound;
                (of >= share, Some(of))
            }
        };
        Row {
            name: name.to_owned(),
            connections,
            requests: o.requests,
            rps,
            p50_ms: p50,
            p99_ms: p99,
            errors: o.errors,
            failures: o.failures.clone(),
            first_failure: o.first_failure.clone(),
            reconnects: o.reconnects,
            target,
            of_bound,
            met: met && clean,
        }
    }
}

pub struct Summary {
    pub base_url: String,
    pub connections: usize,
    pub duration: Duration,
    pub cores: usize,
    pub params: Argon2Params,
    pub hash_time: Duration,
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
            "Argon2 bound: {} cores / {:.1} ms per Argon2id hash (m={} KiB, t={}, p={}) = {:.1} hashes/s\n",
            self.cores,
            self.hash_time.as_secs_f64() * 1000.0,
            self.params.memory_kib,
            self.params.iterations,
            self.params.parallelism,
            self.bound
        );
        let header = [
            "scenario", "conns", "requests", "req/s", "p50", "p99", "errors", "target", "result",
        ];
        let mut lines: Vec<[String; 9]> = vec![header.map(str::to_owned)];
        for r in &self.rows {
            let verdict = if r.met { "ok" } else { "MISS" };
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
                r.target.describe(),
                result,
            ]);
        }
        let mut widths = [0usize; 9];
        for l in &lines {
            for (w, c) in widths.iter_mut().zip(l) {
                *w = (*w).max(c.chars().count());
            }
        }
        for (i, l) in lines.iter().enumerate() {
            let mut line = String::new();
            for (j, (c, w)) in l.iter().zip(widths).enumerate() {
                // Text columns left-aligned, figures right-aligned.
                if j == 0 || j >= 7 {
                    let _ = write!(line, "{c:<w$}  ");
                } else {
                    let _ = write!(line, "{c:>w$}  ");
                }
            }
            let _ = writeln!(s, "{}", line.trim_end());
            if i == 0 {
                let total: usize = widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
                let _ = writeln!(s, "{}", "-".repeat(total));
            }
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
        s
    }

    pub fn json(&self) -> Value {
        let finite = |x: f64| if x.is_finite() { json!(x) } else { Value::Null };
        json!({
            "base_url": self.base_url,
            "connections": self.connections,
            "duration_secs": self.duration.as_secs_f64(),
            "argon2": {
                "memory_kib": self.params.memory_kib,
                "iterations": self.params.iterations,
                "parallelism": self.params.parallelism,
                "hash_ms": self.hash_time.as_secs_f64() * 1000.0,
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
                "met": r.met,
            })).collect::<Vec<_>>(),
            "all_met": self.all_met(),
        })
    }
}
