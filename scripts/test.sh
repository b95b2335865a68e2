#!/usr/bin/env bash
# The whole test suite: what CI runs (.ci/run) and what a newcomer runs.
# Installs what it needs (idempotently), then: format, lints, the core for
# wasm32, unit + in-process service tests, the black-box contract suite
# against the native host on embedded libSQL and on a real sqld (also through
# embedded replicas of it, and three hosts in network namespaces behind nginx:
# docs/SCALING.md) and against the Cloudflare Worker under `wrangler dev` (same sqld setup), a migration
# from the seed Django deployment (../shared/django-ref), the OpenAPI
# document and schemathesis against it, the README quick start, the admin
# dashboard in Chromium, the wasm client, the frontend examples (React, Vue,
# Angular, fetch in Chromium; curl; newman), the robustness suite and a bounded
# fuzzing run.
# Prints what each stage cost. Pick stages by name: scripts/test.sh clippy unit
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"
export CARGO_TERM_COLOR=never
# No incremental caches: the suite builds each crate once, and they were
# 1.7 GB of the debug build's 8.8 GB.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
export GATEHOUSE_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/gatehouse"

# worker after client-wasm and examples: its browser tests (passkeys, the
# React social sign-in) use the packed client and the React build they make.
ALL=(install fmt clippy wasm32 unit remote replica multihost django openapi schemathesis quickstart admin-ui client-wasm examples worker robustness fuzz)
STAGES=("$@")
[ ${#STAGES[@]} -gt 0 ] || STAGES=("${ALL[@]}")

declare -a REPORT=()
T_ALL=$SECONDS
current=""
summary() {
  local rc=$?
  echo
  echo "=== stage timings"
  report_result scripts/test.sh $rc stage "  "
}
trap summary EXIT

# Free disk after each stage, beside its time: the builds are the suite's
# biggest cost in disk, and a full disk fails a link, not a test.
free_kib() { df -Pk "$ROOT" | awk 'NR==2 {print $4}'; }
disk_free() { awk -v k="$(free_kib)" 'BEGIN {printf "%.1f GiB", k / 1048576}'; }
# robustness and fuzz use release and fuzz builds only: where the disk is
# short (under GATEHOUSE_TEST_MIN_FREE_GIB, default 8), the debug build goes
# before them, with a line saying so (the next debug stage builds it again).
free_debug_build_if_low() {
  local debug="${CARGO_TARGET_DIR:-$ROOT/target}/debug"
  if [ "$(free_kib)" -lt $((${GATEHOUSE_TEST_MIN_FREE_GIB:-8} * 1048576)) ] && [ -d "$debug" ]; then
    echo "test.sh: $(disk_free) free, under ${GATEHOUSE_TEST_MIN_FREE_GIB:-8} GiB: removing the debug build ($debug)"
    rm -rf "$debug"
    echo "test.sh: $(disk_free) free now"
  fi
}
run_stage() {
  current="$1"
  echo
  echo "=== stage: $current ($(date +%T), $(disk_free) free)"
  local t0=$SECONDS
  "stage_$1"
  REPORT+=("$(printf '%-12s %5ss   %s free after' "$1" $((SECONDS - t0)) "$(disk_free)")")
}

stage_install() { scripts/install-tools.sh; }
stage_fmt() {
  cargo fmt --all -- --check
  for ws in client-wasm host-worker; do
    [ -f "$ws/Cargo.toml" ] && cargo fmt --manifest-path "$ws/Cargo.toml" --all -- --check
  done
  # No file imports a file that imports it back (docs/ARCHITECTURE.md).
  for src in core/src host-native/src host-worker/src client-wasm/src tests/src robustness/src testkit/webauthn-soft/src; do
    python3 scripts/import-cycles.py "$src" >/dev/null || { python3 scripts/import-cycles.py "$src"; echo "import cycle in $src"; return 1; }
  done
  return 0
}
stage_clippy() { cargo clippy --workspace --all-targets -- -D warnings; }
stage_wasm32() { cargo build -p gatehouse-core --target wasm32-unknown-unknown; }
# Unit tests, the in-process service tests, and the contract suite against
# the native host on an embedded libSQL file (cargo builds the `gatehouse`
# binary for host-native's own integration tests, before any test runs).
# Mail goes to a real SMTP server (aiosmtpd in .venv-smtp/, docs/mail.md).
# The social sign-in tests' real OpenID Provider (npm oidc-provider) runs
# beside it (scripts/with-oidc.sh).
stage_unit() { scripts/with-smtp.sh scripts/with-oidc.sh cargo test --workspace; }
# Runs a stage's contract tests with the servers' logs kept in a folder of
# the stage's own; when it fails, prints their warnings (a 503's cause is in
# its server's log only), and removes the folder either way.
with_server_logs() {
  local logs rc=0
  logs=$(mktemp -d)
  TMPDIR="$logs" GATEHOUSE_TEST_KEEP_LOGS=1 "$@" || rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "--- warnings and errors in the servers' logs (the last 40):"
    find "$logs" -name server.log -exec grep -h -E 'WARN|ERROR' {} + | tail -40 || true
  fi
  rm -rf "$logs"
  return "$rc"
}
# The same contract suite against the native host on a real libSQL server.
# A remote database gets no data-key file beside it (docs/CONTRACT.md, "Second
# factors"), so the servers are given one, as a deployment would be.
stage_remote() {
  GATEHOUSE_DATA_KEY="$(head -c 32 /dev/urandom | base64)" \
    with_server_logs scripts/with-smtp.sh scripts/with-sqld.sh scripts/with-oidc.sh bash -c 'GATEHOUSE_TEST_DATABASE_URL=$GATEHOUSE_SQLD_URL cargo test -p gatehouse-contract'
}
# The contract suite's groups where a replica could answer differently (a
# row written through the CLI or another server, then read here), on sqld,
# each server through an embedded replica of it (--replica-path,
# docs/SCALING.md). The whole suite runs on replicas in `multihost`.
REPLICA_GROUPS=(api_clients cors login logout profile refresh refresh_grace rate_limits tokens change_password)
stage_replica() {
  GATEHOUSE_DATA_KEY="$(head -c 32 /dev/urandom | base64)" GATEHOUSE_TEST_REPLICA=1 \
    with_server_logs scripts/with-smtp.sh scripts/with-sqld.sh bash -c 'GATEHOUSE_TEST_LIBSQL_URL=$GATEHOUSE_SQLD_URL cargo test -p gatehouse --lib db:: &&
      GATEHOUSE_TEST_DATABASE_URL=$GATEHOUSE_SQLD_URL cargo test -p gatehouse-contract -- "$@"' _ "${REPLICA_GROUPS[@]}"
}
# Three native hosts (network namespaces, replicas of one sqld) behind nginx:
# the contract suite through nginx, shared limits, propagation, a refresh
# chain across hosts, the primary restarting, a host killed (docs/SCALING.md).
stage_multihost() { scripts/test-multihost.sh; }
# Migrating from the seed Django deployment (../shared/django-ref): its users,
# hashes, clients and tokens imported and used through gatehouse
# (docs/MIGRATING.md); installs the seed's requirements into .venv-django/.
stage_django() { cargo build -q -p gatehouse && scripts/test-django.sh "$GATEHOUSE_BIN"; }
stage_openapi() { scripts/check-openapi.sh "$GATEHOUSE_BIN"; }
# Property-based API tests against the served OpenAPI document (no 5xx,
# every answer as documented); installs schemathesis into .venv-schemathesis/.
stage_schemathesis() { scripts/test-schemathesis.sh "$GATEHOUSE_BIN"; }
stage_quickstart() { scripts/test-quickstart.sh "$GATEHOUSE_BIN"; }
stage_admin-ui() { scripts/test-admin-ui.sh; }
stage_client-wasm() { scripts/test-client-wasm.sh; }
# Every example app built (npm ci && npm run build) and driven through the shared
# browser flow against one gatehouse with --access-ttl 3 (examples/README.md).
stage_examples() { scripts/test-examples.sh; }
# The Worker under `wrangler dev` (scripts/test-worker.sh runs itself under
# scripts/with-oidc.sh, with the Worker's own callback registered there).
stage_worker() { scripts/test-worker.sh; }
# Crash safety, a 60 s soak at 1,000 connections, slow clients, secrets in logs.
# It builds and drives the release binary, not the debug one the others use.
stage_robustness() { free_debug_build_if_low && env -u GATEHOUSE_BIN scripts/test-robustness.sh; }
# libFuzzer on the core's service for 2 minutes (skipped without nightly).
stage_fuzz() { free_debug_build_if_low && scripts/fuzz.sh 120; }

for s in "${STAGES[@]}"; do run_stage "$s"; done
