#!/usr/bin/env bash
# The benchmark: builds the release `gatehouse` and `gatehouse-bench`,
# starts `gatehouse serve` on a free port over a temp database, creates an
# API client with a huge rate limit through the CLI, runs the load generator
# (profile GET, login, chained refresh, register, profile GET during a login
# storm; 50 connections, 10 s each by default) and stops the server by pid.
# A bare hyper server answering a profile-sized body (gatehouse-bare-baseline)
# is measured first in the same run; each scenario is printed as its share.
#
#   scripts/bench.sh                         # everything, default figures
#   scripts/bench.sh --duration 2s           # quicker (CI)
#   scripts/bench.sh --scenarios profile,storm --connections 100
#
# Arguments go to `gatehouse-bench` (see `gatehouse-bench --help`).
# Environment:
#   GATEHOUSE_DATABASE_URL / GATEHOUSE_DATABASE_AUTH_TOKEN
#       bench on that database (a remote sqld: http://127.0.0.1:8080) instead
#       of a fresh temp file. Each run creates its own client and users.
#   GATEHOUSE_BENCH_URL + GATEHOUSE_BENCH_API_KEY + GATEHOUSE_BENCH_CLIENT_ID
#       bench a host that is already running (e.g. the Worker under
#       `wrangler dev`): nothing is started, only the load generator is built.
#   GATEHOUSE_BENCH_REPLICA=1  with a remote GATEHOUSE_DATABASE_URL: the
#       server keeps an embedded replica of it (--replica-path, a temp file).
#   GATEHOUSE_BENCH_CALLGRIND=1  both servers run under valgrind's callgrind
#       (with collection off until each measured window): the table adds the
#       server's instructions per answer, and each window's profile is kept
#       in GATEHOUSE_BENCH_PROFILES (default: a temp dir, removed) for
#       callgrind_annotate. Slow: use few connections (--connections 4).
#   GATEHOUSE_BENCH_SERVER=PATH  serve with this `gatehouse` binary (another
#       build, to compare two builds against the same baseline and generator).
#   GATEHOUSE_BENCH_NO_USAGE=1  the server counts no usage (analytics), to
#       measure what counting costs: compare a run with and without it.
#   GATEHOUSE_LOG   the server's log filter (default: warn, so per-request
#       access logs don't cost the server its throughput).
#   CARGO_TARGET_DIR  where cargo builds (default: target).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
bin="$target_dir/release"
server_bin="${GATEHOUSE_BENCH_SERVER:-$bin/gatehouse}"

if [ -n "${GATEHOUSE_BENCH_URL:-}" ]; then
    echo "== bench: building the load generator (release)" >&2
    cargo build --release -p gatehouse-bench >&2
    echo "== bench: external host $GATEHOUSE_BENCH_URL" >&2
    exec "$bin/gatehouse-bench" "$@"
fi

echo "== bench: building gatehouse and gatehouse-bench (release)" >&2
cargo build --release -p gatehouse -p gatehouse-bench >&2

work="$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-bench.XXXXXX")"
server_pid=""
cleanup() {
    status=$?
    if [ -n "$server_pid" ]; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [ "$status" -ne 0 ] && [ -s "$work/server.log" ]; then
        echo "== bench: failed (exit $status); last lines of the server log:" >&2
        tail -n 20 "$work/server.log" >&2 || true
    fi
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

db="${GATEHOUSE_DATABASE_URL:-$work/bench.db}"
export GATEHOUSE_LOG="${GATEHOUSE_LOG:-warn}"
# Every simulated user registers from 127.0.0.1.
export GATEHOUSE_REGISTRATIONS_PER_IP="${GATEHOUSE_REGISTRATIONS_PER_IP:-1000000}"

echo "== bench: API client (rate limit 100000000) on $db" >&2
creds="$("$server_bin" --database-url "$db" create-api-client \
    --name "bench-$$" --type web --rate-limit 100000000 --json)"
json_field() { printf '%s' "$creds" | sed -n "s/.*\"$1\": *\"\([^\"]*\)\".*/\1/p"; }
client_id="$(json_field client_id)"
api_key="$(json_field api_key)"
if [ -z "$client_id" ] || [ -z "$api_key" ]; then
    echo "bench: cannot read client_id/api_key from: $creds" >&2
    exit 1
fi

# Under callgrind: no collection until gatehouse-bench switches it on for
# a measured window (the profiles land in $profiles).
profiles=""
counting=()
if [ "${GATEHOUSE_BENCH_CALLGRIND:-0}" = 1 ]; then
    profiles="${GATEHOUSE_BENCH_PROFILES:-$work/profiles}"
    counting=(--callgrind)
    mkdir -p "$profiles"
    echo "== bench: servers under callgrind; profiles in $profiles" >&2
fi
# Runs NAME's command in place of this (sub)shell, so `$!` is its pid.
exec_server() {
    local name="$1"
    shift
    if [ -n "$profiles" ]; then
        exec valgrind --tool=callgrind --instr-atstart=no \
            --callgrind-out-file="$profiles/$name.%p" "$@"
    fi
    exec "$@"
}
serve_args=(--database-url "$db" serve --addr 127.0.0.1:0)
if [ "${GATEHOUSE_BENCH_REPLICA:-0}" = 1 ]; then
    serve_args=(--replica-path "$work/replica.db" "${serve_args[@]}")
fi

echo "== bench: starting gatehouse serve" >&2
mkfifo "$work/stdout"
exec_server gatehouse "$server_bin" "${serve_args[@]}" \
    >"$work/stdout" 2>"$work/server.log" &
server_pid=$!
exec 3<"$work/stdout"
line=""
if ! read -r -t 300 line <&3; then
    echo "bench: the server printed no listening line within 300 s" >&2
    exit 1
fi
# Keep draining stdout so the server never blocks on a full pipe.
cat <&3 >/dev/null &
exec 3<&-
url="${line#gatehouse listening on }"
case "$url" in
http://*) ;;
*)
    echo "bench: unexpected first line: $line" >&2
    exit 1
    ;;
esac
echo "== bench: server pid $server_pid at $url" >&2

# The ceiling, in the same run: a bare hyper server answering a
# profile-sized JSON body. Every scenario is printed as a share of it.
echo "== bench: starting the bare hyper baseline" >&2
mkfifo "$work/bare"
exec_server bare "$bin/gatehouse-bare-baseline" 127.0.0.1:0 >"$work/bare" 2>>"$work/server.log" &
bare_pid=$!
exec 4<"$work/bare"
read -r -t 120 bare_line <&4 || { echo "bench: no line from the baseline" >&2; exit 1; }
cat <&4 >/dev/null &
exec 4<&-
bare_url="${bare_line#listening on }"

status=0
"$bin/gatehouse-bench" --base-url "$url" --api-key "$api_key" --client-id "$client_id" \
    --server-pid "$server_pid" --baseline-url "$bare_url" --baseline-pid "$bare_pid" \
    "${counting[@]}" "$@" || status=$?
kill "$bare_pid" 2>/dev/null || true
exit "$status"
