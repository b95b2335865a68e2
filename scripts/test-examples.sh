#!/usr/bin/env bash
# End-to-end tests of the frontend examples (examples/*/test.sh).
#
#   scripts/test-examples.sh               # every examples/<name>/test.sh, sorted
#   scripts/test-examples.sh fetch react   # only these
#
# Installs what it needs (idempotently): examples/e2e's npm deps (playwright-core,
# `npm ci` with its lockfile), Debian's chromium when missing, the wasm client's
# package when client-wasm/pkg/gatehouse-client-*.tgz is missing (scripts/pack-client.sh),
# and `gatehouse` when $GATEHOUSE_BIN is unset or missing (cargo build -p gatehouse).
# Starts ONE native gatehouse on a temporary libSQL file with --access-ttl 3 on
# 127.0.0.1:$EXAMPLES_GATEHOUSE_PORT (28600), creates one web API client serving
# creators and allowing every example's origin, and exports GATEHOUSE_URL,
# GATEHOUSE_CLIENT_ID, GATEHOUSE_API_KEY (and GATEHOUSE_BIN, GATEHOUSE_DATABASE_URL)
# to each example's test.sh. The whole run is under scripts/with-smtp.sh (a real
# SMTP server; GATEHOUSE_TEST_MAILDIR for the tests) and scripts/with-oidc.sh (a
# real OpenID Provider, registered as provider `dev-oidc` for the client with the
# React example's /auth/return page; GATEHOUSE_SOCIAL_PROVIDERS puts its button
# on the React login page), and the client's reset_url is the React example's
# /reset page. Example ports: fetch 5101, react 5102, vue 5103,
# angular 5104 (all moved by EXAMPLES_APP_PORT_BASE, default 5100). The examples
# run in parallel (EXAMPLES_PARALLEL=0: one by one).
# Prints each example's seconds; stops everything it started on exit.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The server sends real mail to a test SMTP server (aiosmtpd): the React
# example's reset test reads the link from its Maildir.
if [ -z "${GATEHOUSE_TEST_MAILDIR:-}" ]; then exec bash "$ROOT/scripts/with-smtp.sh" bash "${BASH_SOURCE[0]}" "$@"; fi
EX="$ROOT/examples"
export PATH="$HOME/.cargo/bin:$PATH"
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"
PORT="${EXAMPLES_GATEHOUSE_PORT:-28600}"
# And a real OpenID Provider (scripts/with-oidc.sh) for the React example's
# social sign-in (examples/e2e/social-flow.mjs); it allows the callback of
# this run's server, whose public URL is its address.
if [ -z "${GATEHOUSE_TEST_OIDC_ISSUER:-}" ]; then
  GATEHOUSE_TEST_OIDC_EXTRA_REDIRECT_URIS="http://127.0.0.1:$PORT/api/auth/social/callback/" \
    exec bash "$ROOT/scripts/with-oidc.sh" bash "${BASH_SOURCE[0]}" "$@"
fi
T_ALL=$SECONDS

declare -a REPORT=()
current="setup"
dir=$(mktemp -d)
pid=""
on_exit() {
  local rc=$?
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  if [ $rc -ne 0 ] && [ -f "$dir/err" ]; then echo "--- gatehouse log (tail)"; tail -n 30 "$dir/err"; fi
  rm -rf "$dir"
  echo "=== examples"
  report_result test-examples $rc "" "  "
}
trap on_exit EXIT
step() { # step LABEL CMD... : runs and records its seconds
  current="$1"; shift
  local t0=$SECONDS
  "$@"
  REPORT+=("$(printf '%-28s %5ss' "$current" $((SECONDS - t0)))")
}

NAMES=("$@")
if [ ${#NAMES[@]} -eq 0 ]; then
  for t in "$EX"/*/test.sh; do [ -x "$t" ] && NAMES+=("$(basename "$(dirname "$t")")"); done
fi
for n in "${NAMES[@]}"; do
  [ -x "$EX/$n/test.sh" ] || { echo "no executable examples/$n/test.sh" >&2; exit 2; }
done
echo "test-examples: ${NAMES[*]}"

# --- tools ----------------------------------------------------------------------
tools() {
  if [ -d "$EX/e2e/node_modules/playwright-core" ] && [ "$EX/e2e/node_modules/.package-lock.json" -nt "$EX/e2e/package-lock.json" ]; then
    echo "examples/e2e node_modules up to date"
  else
    (cd "$EX/e2e" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  if [ -z "${CHROMIUM:-}" ]; then
    if ! command -v chromium >/dev/null 2>&1; then
      echo "installing chromium (Debian package)"
      local SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null ||
        { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null; }
    fi
    export CHROMIUM="$(command -v chromium)"
  fi
  # The JS examples depend on the packed client, file:../../client-wasm/pkg/gatehouse-client-*.tgz
  # (the client-wasm stage packs it), as a fresh project installs the tarball.
  if ! ls "$ROOT"/client-wasm/pkg/gatehouse-client-*.tgz >/dev/null 2>&1; then
    bash "$ROOT/scripts/install-wasm-tools.sh"
    bash "$ROOT/scripts/pack-client.sh"
  fi
  if [ -z "${GATEHOUSE_BIN:-}" ] || [ ! -x "$GATEHOUSE_BIN" ]; then
    (cd "$ROOT" && cargo build -p gatehouse)
    local target
    target="$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')"
    GATEHOUSE_BIN="$target/debug/gatehouse"
  fi
  export GATEHOUSE_BIN
}
step "tools" tools

# --- one server, one API client ---------------------------------------------------
server() {
  export GATEHOUSE_DATABASE_URL="$dir/gatehouse.db"
  "$GATEHOUSE_BIN" migrate >/dev/null
  examples_client "$GATEHOUSE_BIN" "$dir/client.json" "Examples"
  # The provider, enabled for the client with the React example's return page.
  export GATEHOUSE_SOCIAL_PROVIDER=dev-oidc GATEHOUSE_SOCIAL_PROVIDERS=dev-oidc
  GATEHOUSE_PROVIDER_CLIENT_SECRET="$GATEHOUSE_TEST_OIDC_CLIENT_SECRET" "$GATEHOUSE_BIN" providers add \
    --id dev-oidc --issuer "$GATEHOUSE_TEST_OIDC_ISSUER" --client-id "$GATEHOUSE_TEST_OIDC_CLIENT_ID" \
    --client "$GATEHOUSE_CLIENT_ID=http://127.0.0.1:$(example_port react)/auth/return,http://localhost:$(example_port react)/auth/return" >/dev/null
  # Outbound HTTP refuses loopback unless allowed: the provider's host:port only.
  "$GATEHOUSE_BIN" serve --addr "127.0.0.1:$PORT" --public-url "http://127.0.0.1:$PORT" --access-ttl 3 \
    --outbound-allow "${GATEHOUSE_TEST_OIDC_ISSUER#http://}" \
    --smtp-url "$GATEHOUSE_TEST_SMTP_URL" >"$dir/out" 2>"$dir/err" &
  pid=$!
  for _ in $(seq 1 400); do grep -q listening "$dir/out" 2>/dev/null && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  grep -q listening "$dir/out" || { cat "$dir/err"; echo "gatehouse did not start on $PORT" >&2; return 1; }
  export GATEHOUSE_URL="http://127.0.0.1:$PORT"
  echo "gatehouse on $GATEHOUSE_URL (access-ttl 3 s), client $GATEHOUSE_CLIENT_ID"
}
step "gatehouse" server

# --- each example -----------------------------------------------------------------
# Two phases, each in parallel, each app with its own log (printed whole when the
# phase ends):
#  1. build: the browser apps (test.sh through e2e/run-app.sh) run `npm ci` and
#     `npm run build` (EXAMPLES_PHASE=build). CPU-heavy, and no clock involved.
#  2. test: every test.sh (the apps with EXAMPLES_PHASE=test: serve + flow). Most
#     of a flow is waiting for a 3 s token (plus the server's 5 s clock-skew
#     tolerance) to die, so they overlap well even on 2 cores; keeping the builds
#     out of this phase keeps 3 s tokens from dying mid-step under load.
# EXAMPLES_PARALLEL=0 runs everything one by one with live output.
APPS=()
for n in "${NAMES[@]}"; do grep -q 'run-app.sh' "$EX/$n/test.sh" && APPS+=("$n"); done
is_app() { local a; for a in "${APPS[@]}"; do [ "$a" = "$1" ] && return 0; done; return 1; }
run_one() { # run_one PHASE NAME
  if is_app "$2"; then (cd "$EX/$2" && EXAMPLES_PHASE="$1" ./test.sh); else (cd "$EX/$2" && ./test.sh); fi
}

if [ "${EXAMPLES_PARALLEL:-1}" = 0 ]; then
  for n in "${NAMES[@]}"; do
    echo "=== example: $n ($(date +%T))"
    step "example $n" run_one all "$n"
  done
  exit 0
fi

phase() { # phase PHASE NAME... : runs them in parallel, prints their logs, records seconds
  local ph="$1"; shift
  local t_par=$SECONDS n rc secs
  local -a pids=() failed=()
  current="$ph"
  for n in "$@"; do
    (
      t0=$SECONDS rc=0
      run_one "$ph" "$n" >"$dir/$ph-$n.log" 2>&1 || rc=$?
      echo "$rc $((SECONDS - t0))" >"$dir/$ph-$n.rc"
    ) &
    pids+=($!)
  done
  wait "${pids[@]}" # these only: a bare `wait` would also wait for the server
  for n in "$@"; do
    read -r rc secs <"$dir/$ph-$n.rc"
    echo "=== $ph: $n (exit $rc, ${secs}s)"
    cat "$dir/$ph-$n.log"
    REPORT+=("$(printf '%-28s %5ss%s' "$ph $n" "$secs" "$([ "$rc" = 0 ] || echo '  FAILED')")")
    [ "$rc" = 0 ] || failed+=("$n")
  done
  REPORT+=("$(printf '%-28s %5ss' "$ph (wall)" $((SECONDS - t_par)))")
  current="$ph: ${failed[*]:-}"
  [ ${#failed[@]} -eq 0 ]
}
[ ${#APPS[@]} -eq 0 ] || phase build "${APPS[@]}"
phase test "${NAMES[@]}"
