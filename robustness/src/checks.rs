//! Figures (percentiles) and the pass/fail tally.

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

/// KiB as MiB with one decimal.
pub fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

/// RSS samples (seconds into the run, KiB) as `12s:63.7 …`.
pub fn rss_samples(samples: &[(f64, u64)]) -> String {
    let each: Vec<String> = samples
        .iter()
        .map(|(t, r)| format!("{t:.0}s:{}", mib(*r)))
        .collect();
    each.join(" ")
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

    /// A check that nothing was `found`: `none` as its detail when so, else
    /// how many and the first five.
    pub fn none_found<T: std::fmt::Debug>(&mut self, found: &[T], name: &str, none: &str) -> bool {
        let detail = if found.is_empty() {
            none.to_owned()
        } else {
            format!(
                "{} found, e.g. {:?}",
                found.len(),
                &found[..found.len().min(5)]
            )
        };
        self.check(found.is_empty(), name, detail)
    }

    /// The value of a setup step; if it failed, a failed `setup` check and
    /// the end of the run (nothing after it would mean anything).
    pub fn setup<T, E: std::fmt::Display>(&mut self, step: Result<T, E>) -> T {
        match step {
            Ok(v) => v,
            Err(e) => {
                self.check(false, "setup", e);
                self.finish()
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 99.0), 99);
        assert_eq!(percentile(&v, 50.0), 50);
        assert_eq!(percentile(&v, 100.0), 100);
        assert_eq!(percentile(&[], 99.0), 0);
    }
}
