//! The command line (tiny: `--name value` pairs and `--flag`s) and where
//! the `gatehouse` binary is.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// `--name value` and `--flag` arguments, looked up by name.
pub struct Args(Vec<String>);

impl Args {
    pub fn from_env() -> Args {
        Args(std::env::args().skip(1).collect())
    }

    /// The value after `--name`, if given.
    pub fn value(&self, name: &str) -> Option<String> {
        let flag = format!("--{name}");
        let mut it = self.0.iter();
        while let Some(a) = it.next() {
            if *a == flag {
                return it.next().cloned();
            }
            if let Some(v) = a.strip_prefix(&format!("{flag}=")) {
                return Some(v.to_owned());
            }
        }
        None
    }

    pub fn parse<T: std::str::FromStr>(&self, name: &str, default: T) -> T {
        match self.value(name) {
            Some(v) => v.parse().unwrap_or_else(|_| {
                eprintln!("--{name}: cannot parse {v:?}");
                std::process::exit(2)
            }),
            None => default,
        }
    }

    /// `--work-dir`, else a fresh `gatehouse-{name}-{pid}` under the temp
    /// directory; created.
    pub fn work_dir(&self, name: &str) -> PathBuf {
        let work = match self.value("work-dir") {
            Some(d) => PathBuf::from(d),
            None => std::env::temp_dir().join(format!("gatehouse-{name}-{}", std::process::id())),
        };
        std::fs::create_dir_all(&work).expect("work dir");
        work
    }

    /// The `--server-arg=--flag=value` pairs, as `serve` arguments
    /// (`--flag`, `value`).
    pub fn server_args(&self) -> Vec<String> {
        self.0
            .iter()
            .filter_map(|a| a.strip_prefix("--server-arg="))
            .flat_map(|a| a.splitn(2, '=').map(str::to_owned))
            .collect()
    }

    pub fn flag(&self, name: &str) -> bool {
        let flag = format!("--{name}");
        self.0.contains(&flag)
    }
}

/// The `gatehouse` binary: `--gatehouse-bin`, else `$GATEHOUSE_BIN`, else
/// `$CARGO_TARGET_DIR/release/gatehouse`, else `target/release/gatehouse`.
pub fn gatehouse_bin(args: &Args) -> PathBuf {
    if let Some(b) = args.value("gatehouse-bin") {
        return b.into();
    }
    if let Ok(b) = std::env::var("GATEHOUSE_BIN") {
        return b.into();
    }
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    Path::new(&target).join("release").join("gatehouse")
}

/// Where a check's run lives: the binary under test, the work dir, the
/// database file `{name}.db` in it and the server's log `server.log`.
pub struct Workspace {
    pub bin: PathBuf,
    pub work: PathBuf,
    pub db: PathBuf,
    pub log: PathBuf,
}

impl Args {
    /// The [`Workspace`] of the run called `name` (see [`Args::work_dir`]).
    pub fn workspace(&self, name: &str) -> Workspace {
        let work = self.work_dir(name);
        Workspace {
            bin: gatehouse_bin(self),
            db: work.join(format!("{name}.db")),
            log: work.join("server.log"),
            work,
        }
    }
}

/// Parses `30s`, `2m`, `500ms`, `1h` or plain seconds.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, "s"),
    };
    let n: f64 = num.parse().ok()?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        _ => return None,
    };
    Some(Duration::from_secs_f64(secs))
}

pub fn duration_arg(args: &Args, name: &str, default: Duration) -> Duration {
    match args.value(name) {
        Some(v) => parse_duration(&v).unwrap_or_else(|| {
            eprintln!("--{name}: cannot parse {v:?} (e.g. 60s, 30m)");
            std::process::exit(2)
        }),
        None => default,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("60s"), Some(Duration::from_secs(60)));
        assert_eq!(parse_duration("30m"), Some(Duration::from_secs(1800)));
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("5"), Some(Duration::from_secs(5)));
    }
}
