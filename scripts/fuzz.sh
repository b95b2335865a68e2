#!/usr/bin/env bash
# Fuzzes the core's service (fuzz/fuzz_targets/service.rs) and the passkey
# parsers (fuzz/fuzz_targets/webauthn.rs) with libFuzzer.
#   scripts/fuzz.sh [SECONDS]      default 120 (what CI runs); e.g. 3600 for a release check
# Needs a nightly toolchain (cargo fuzz); where there is none, says so and
# exits 0: fuzzing is skipped, not failed. New inputs that raise coverage are
# added to fuzz/corpus/<target>; commit the interesting ones.
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
# Two targets: `service` (the whole core, SECONDS) and `webauthn` (the
# passkey parsers, core/src/webauthn; half as long: a far smaller space).
run_target() {
  local target="$1" secs="$2" maxlen="$3"
  cargo +nightly fuzz build -s none --fuzz-dir fuzz "$target"
  local work
  work=$(mktemp -d)
  cp "fuzz/corpus/$target"/* "$work/" 2>/dev/null || true
  set +e
  cargo +nightly fuzz run -s none --fuzz-dir fuzz "$target" "$work" -- \
    -max_total_time="$secs" -print_final_stats=1 -max_len="$maxlen" >"$work.log" 2>&1
  local rc=$?
  set -e
  grep -E '^(#[0-9]+ *(DONE|INITED)|stat::|SUMMARY|thread|.*panicked)' "$work.log" || true
  [ "$rc" -eq 0 ] || tail -40 "$work.log"
  local execs
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$work.log" | awk '{print $2}')
  echo "fuzz $target: ${execs:-0} executions in ${secs}s, exit $rc"
  rm -rf "$work" "$work.log"
  return "$rc"
}
rc=0
run_target service "$SECS" 4096 || rc=$?
run_target webauthn "$(( SECS / 2 > 10 ? SECS / 2 : 10 ))" 8192 || rc=$?
exit "$rc"
