#!/usr/bin/env bash
# Fuzzes the core's service (fuzz/fuzz_targets/service.rs) with libFuzzer.
#   scripts/fuzz.sh [SECONDS]      default 120 (what CI runs); e.g. 3600 for a release check
# Needs a nightly toolchain (cargo fuzz); where there is none, says so and
# exits 0: fuzzing is skipped, not failed. New inputs that raise coverage are
# added to fuzz/corpus/service; commit the interesting ones.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"
SECS="${1:-120}"
if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  echo "fuzz: SKIPPED — no nightly toolchain on this machine (cargo fuzz needs one; rustup toolchain list)."
  exit 0
fi
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
# No sanitizer: the target has no unsafe code, and libSQL's C would need its
# own instrumented build; -s none keeps executions fast.
cargo +nightly fuzz build -s none --fuzz-dir fuzz service
work=$(mktemp -d)
trap 'rm -rf "$work" "$work.log"' EXIT
cp fuzz/corpus/service/* "$work/" 2>/dev/null || true
set +e
cargo +nightly fuzz run -s none --fuzz-dir fuzz service "$work" -- \
  -max_total_time="$SECS" -print_final_stats=1 -max_len=4096 >"$work.log" 2>&1
rc=$?
set -e
grep -E '^(#[0-9]+ *(DONE|INITED)|stat::|SUMMARY|thread|.*panicked)' "$work.log" || true
[ "$rc" -eq 0 ] || tail -40 "$work.log"
execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$work.log" | awk '{print $2}')
echo "fuzz: ${execs:-0} executions in ${SECS}s, exit $rc"
exit "$rc"
