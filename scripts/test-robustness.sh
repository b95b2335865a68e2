#!/usr/bin/env bash
# The robustness suite (docs/ROBUSTNESS.md): crash safety, a soak under
# 1,000 connections, a login storm at the default Argon2 cost (memory
# bound), slow clients (slowloris), and secrets hygiene, each against the
# release `gatehouse` binary on 127.0.0.1 with its own temp database.
#
#   scripts/test-robustness.sh            # CI bounds (≈ 5 min + the build)
#   scripts/test-robustness.sh --long     # release-check bounds (≈ 40 min)
#   scripts/test-robustness.sh --only soak,storm
#
# Stages: crash, soak, storm, slow, secrets. Each prints PASS/FAIL lines; the
# script ends with `N passed, N failed` and exits non-zero on any failure.
# Environment:
#   GATEHOUSE_BIN      use this server binary instead of building it
#   CARGO_TARGET_DIR   where cargo builds (default: target)
#   CRASH_SEED         seed for the crash test's kill moments
#   SOAK_DURATION / SOAK_CONNECTIONS   override the soak's bounds
#   STORM_DURATION     override the login storm's length (default 60s)
#   STORM_PROFILE_P99_MS  the storm's profile p99 bound (default 20; a
#                       runner shared with other builds may need more)
#   SECRETS_EXTRA_LOGS  more log files (space-separated) for secrets-scan's
#                       pattern scan, e.g. the server logs of a contract run
#                       kept with GATEHOUSE_TEST_KEEP_LOGS=1 GATEHOUSE_LOG=trace
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
long=0
only="crash,soak,storm,slow,secrets"
while [ $# -gt 0 ]; do
    case "$1" in
        --long) long=1 ;;
        --only) only="$2"; shift ;;
        --only=*) only="${1#--only=}" ;;
        *) echo "usage: $0 [--long] [--only crash,soak,storm,slow,secrets]" >&2; exit 2 ;;
    esac
    shift
done

# Both runs use the server's default Argon2 cost (19 MiB × 2): the hash
# pool bounds its memory, and sheds the logins it cannot hash in time with
# 503 server_busy, which the soak counts and waits out (docs/ROBUSTNESS.md).
soak_args=()
if [ "$long" = 1 ]; then
    crash_args=(--rounds 20)
    soak_duration="${SOAK_DURATION:-30m}"
    slow_args=(--connections 2000 --requests 400)
else
    crash_args=(--rounds 5)
    soak_duration="${SOAK_DURATION:-60s}"
    slow_args=()
fi
storm_duration="${STORM_DURATION:-60s}"
soak_connections="${SOAK_CONNECTIONS:-1000}"
[ -n "${CRASH_SEED:-}" ] && crash_args+=(--seed "$CRASH_SEED")

# The crash test and the soak register many users from 127.0.0.1: lift the
# per-IP registration throttle (its own test is in the contract suite).
export GATEHOUSE_REGISTRATIONS_PER_IP="${GATEHOUSE_REGISTRATIONS_PER_IP:-1000000}"

t0=$(date +%s)
echo "== robustness: building (release)" >&2
if [ -n "${GATEHOUSE_BIN:-}" ]; then
    cargo build --release -p gatehouse-robustness >&2 || exit 1
else
    cargo build --release -p gatehouse -p gatehouse-robustness >&2 || exit 1
    export GATEHOUSE_BIN="$target_dir/release/gatehouse"
fi
bin="$target_dir/release"
echo "== robustness: build took $(( $(date +%s) - t0 )) s; server $GATEHOUSE_BIN" >&2

# 1,000 client sockets + 1,000 server sockets + the server's own files, in
# one process tree: raise the soft limit to the hard one if it is short.
need=$(( 2 * soak_connections + 512 ))
soft=$(ulimit -n)
if [ "$soft" != unlimited ] && [ "$soft" -lt "$need" ]; then
    hard=$(ulimit -Hn)
    if [ "$hard" = unlimited ] || [ "$hard" -ge "$need" ]; then
        ulimit -n "$need"
    else
        ulimit -n "$hard"
    fi
    echo "== robustness: ulimit -n raised from $soft to $(ulimit -n) (need $need)" >&2
fi
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$need" ]; then
    echo "== robustness: ulimit -n is $(ulimit -n) (hard limit), below $need: the soak may fail to connect" >&2
fi

passed=0
failed=0
summary=()
stage() {
    local name="$1"; shift
    case ",$only," in *",$name,"*) ;; *) return 0 ;; esac
    local start out rc p f
    start=$(date +%s)
    echo "== robustness: $name: $*" >&2
    out="$(mktemp)"
    "$@" | tee "$out"
    rc=${PIPESTATUS[0]}
    p=$(sed -n 's/.*RESULT passed=\([0-9]*\) failed=\([0-9]*\).*/\1/p' "$out" | tail -n 1)
    f=$(sed -n 's/.*RESULT passed=\([0-9]*\) failed=\([0-9]*\).*/\2/p' "$out" | tail -n 1)
    rm -f "$out"
    if [ -z "$p" ]; then
        # It died before its tally: count that as one failure.
        p=0; f=1
    elif [ "$rc" -ne 0 ] && [ "$f" = 0 ]; then
        f=1
    fi
    passed=$(( passed + p ))
    failed=$(( failed + f ))
    summary+=("$(printf '%-8s %3d passed, %d failed, %4d s' "$name" "$p" "$f" "$(( $(date +%s) - start ))")")
}

stage crash "$bin/crash-test" "${crash_args[@]}"
stage soak "$bin/soak" --connections "$soak_connections" --duration "$soak_duration" "${soak_args[@]}"
# 64 concurrent logins at the default cost: RSS ≤ 150 MiB and flat, profile
# p99 ≤ 20 ms meanwhile, 503 server_busy past a small queue.
stage storm "$bin/login-storm" --connections 64 --duration "$storm_duration" \
    --profile-p99-max-ms "${STORM_PROFILE_P99_MS:-20}"
stage slow "$bin/slow-clients" "${slow_args[@]}"
secrets_args=()
for f in ${SECRETS_EXTRA_LOGS:-}; do secrets_args+=("--extra-log=$f"); done
stage secrets "$bin/secrets-scan" "${secrets_args[@]}"

echo
echo "== robustness: stages (wall time)"
for line in "${summary[@]}"; do echo "   $line"; done
echo "== robustness: total $(( $(date +%s) - t0 )) s including the build"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
