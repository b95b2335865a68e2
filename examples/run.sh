#!/usr/bin/env bash
# Starts one example against a local gatehouse, in one command:
#
#   examples/run.sh react        # or fetch, vue, angular; then open the printed URL
#   examples/run.sh curl         # or postman: runs it once against the server, then stops
#   examples/run.sh server       # only the gatehouse, for an app's `npm run dev`
#
# Without GATEHOUSE_URL it starts its own `gatehouse serve` on 127.0.0.1:8000
# ($GATEHOUSE_PORT) over examples/.run/gatehouse.db (kept between runs), with
# --access-ttl $ACCESS_TTL (60 s, so the header's refresh counter moves while
# you watch), and creates one web API client for the example origins the first
# time (examples/.run/client.json). The binary is $GATEHOUSE_BIN, else
# target/debug/gatehouse, built with cargo if missing.
# With GATEHOUSE_URL, GATEHOUSE_CLIENT_ID and GATEHOUSE_API_KEY set, it uses
# that server and client instead (its origins must allow http://127.0.0.1:<port>).
# Then it runs the example's test.sh in serve mode: npm ci if needed, build,
# serve on the example's port with /config.json. Ctrl-C stops everything.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
name="${1:?usage: examples/run.sh fetch|react|vue|angular|curl|postman|server}"
# `server`: only the gatehouse (and examples/.run/config.json), for `npm run dev` in an app.
[ "$name" = server ] || [ -x "$ROOT/examples/$name/test.sh" ] || { echo "no examples/$name/test.sh" >&2; exit 2; }
export PATH="$HOME/.cargo/bin:$PATH"
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"

pid="" app=""
stop() { for p in $app $pid; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap stop EXIT
if [ -z "${GATEHOUSE_URL:-}" ]; then
  state="$ROOT/examples/.run"
  mkdir -p "$state"
  BIN="${GATEHOUSE_BIN:-$ROOT/target/debug/gatehouse}"
  [ -x "$BIN" ] || (cd "$ROOT" && cargo build -p gatehouse)
  ls "$ROOT"/client-wasm/pkg/gatehouse-client-*.tgz >/dev/null 2>&1 ||
    { bash "$ROOT/scripts/install-wasm-tools.sh" && bash "$ROOT/scripts/pack-client.sh"; }
  export GATEHOUSE_DATABASE_URL="$state/gatehouse.db"
  "$BIN" migrate >/dev/null
  examples_client "$BIN" "$state/client.json" "Examples (local)"
  GATEHOUSE_URL="http://127.0.0.1:${GATEHOUSE_PORT:-8000}"
  export GATEHOUSE_URL
  "$BIN" serve --addr "127.0.0.1:${GATEHOUSE_PORT:-8000}" --access-ttl "${ACCESS_TTL:-60}" >"$state/out" 2>"$state/log" &
  pid=$!
  for _ in $(seq 1 400); do grep -q listening "$state/out" 2>/dev/null && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  grep -q listening "$state/out" || { tail "$state/log"; echo "gatehouse did not start" >&2; exit 1; }
  echo "gatehouse on $GATEHOUSE_URL (log: examples/.run/log); API client $GATEHOUSE_CLIENT_ID"
  # For `npm run dev` (vite, ng serve): the same configuration as a file.
  printf '{"baseUrl":"%s","clientId":"%s","apiKey":"%s"}\n' "$GATEHOUSE_URL" "$GATEHOUSE_CLIENT_ID" "$GATEHOUSE_API_KEY" >"$state/config.json"
fi
if [ "$name" = server ]; then
  [ -n "$pid" ] || { echo "GATEHOUSE_URL is set: nothing to start" >&2; exit 2; }
  echo "for a dev server: cd examples/<app> && mkdir -p public && cp ../.run/config.json public/ && npm run dev"
  wait "$pid"
  exit 0
fi
cd "$ROOT/examples/$name"
EXAMPLES_SERVE=1 ./test.sh &
app=$!
wait "$app"
