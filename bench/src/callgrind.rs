//! Instructions per answer, for a server run under
//! `valgrind --tool=callgrind --instr-atstart=no` (scripts/bench.sh with
//! `GATEHOUSE_BENCH_CALLGRIND=1`). Collection is switched on for the
//! measured window only (`callgrind_control`), the window's count is read
//! back and its profile dumped (`callgrind_annotate` reads the dump). A
//! count repeats from run to run where time on a shared machine does not.

use std::process::Command;

/// Runs `callgrind_control ARGS PID` (blocking: the caller uses a blocking
/// thread) and returns its output.
fn control(pid: u32, args: &[&str]) -> Option<String> {
    let out = Command::new("callgrind_control")
        .args(args)
        .arg(pid.to_string())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Zeroes the counters and switches collection on.
pub fn begin(pid: u32) {
    control(pid, &["-z"]);
    control(pid, &["-i", "on"]);
}

/// The instructions executed since [`begin`] (every thread's), then dumps
/// the window's profile and switches collection off.
pub fn end(pid: u32) -> Option<u64> {
    let events = control(pid, &["-e"]);
    control(pid, &["-d"]);
    control(pid, &["-i", "off"]);
    events.as_deref().and_then(thread_totals)
}

/// Sums `Th N  1,234,567` lines of `callgrind_control -e`.
fn thread_totals(text: &str) -> Option<u64> {
    let counts: Vec<u64> = text
        .lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            (words.next()? == "Th").then_some(())?;
            words.next()?; // the thread's number
            words.next()?.replace(',', "").parse().ok()
        })
        .collect();
    (!counts.is_empty()).then(|| counts.iter().sum())
}

#[cfg(test)]
mod tests {
    #[test]
    fn thread_lines_are_summed() {
        let text = "PID 7: gatehouse serve\n\n  Totals:         Ir \n   Th 1  168,453,594 \n   Th 2  1,000 \n";
        assert_eq!(super::thread_totals(text), Some(168_454_594));
        assert_eq!(super::thread_totals("PID 7: x\n  OK.\n"), None);
    }
}
