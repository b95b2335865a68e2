#!/usr/bin/env bash
# Builds one example app and runs the shared browser flow against it.
# Called by examples/<name>/test.sh from the app's folder:
#
#   ../e2e/run-app.sh <name> <port> <dist-dir>      # dist-dir relative to the app folder
#
# Needs GATEHOUSE_URL, GATEHOUSE_CLIENT_ID, GATEHOUSE_API_KEY (scripts/test-examples.sh
# exports them). Steps: `npm ci` (skipped when node_modules is newer than the
# lockfile), `npm run build` (skipped when there is no package.json: the fetch
# page has no build), then serves <dist-dir> with serve.mjs on 127.0.0.1:<port>
# (SPA fallback, /config.json from the environment) and runs flow.mjs.
# Prints "example <name>: npm-ci Ns build Ns test Ns bundle <raw> B raw / <gz> B gzip".
# EXAMPLES_PHASE=build stops after the build; EXAMPLES_PHASE=test skips npm ci and
# the build (scripts/test-examples.sh runs all builds first, then all tests).
# EXAMPLES_SERVE=1 (examples/run.sh) builds and serves without running the flow.
# EXAMPLE_EXTRA_TEST="cmd args" runs `cmd args <app-url>` beside the flow (an example's own test).
set -euo pipefail
name="$1"; port="$2"; dist="$3"
E2E="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
: "${GATEHOUSE_URL:?set by scripts/test-examples.sh}" "${GATEHOUSE_CLIENT_ID:?}" "${GATEHOUSE_API_KEY:?}"

now() { date +%s.%N; }
dt() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
t_ci=0 t_build=0
phase="${EXAMPLES_PHASE:-all}" # build | test | all (scripts/test-examples.sh builds every app first)
if [ -f package.json ] && [ "$phase" != test ]; then
  t=$(now)
  # The client is a file: dependency on the packed tarball (client-wasm/pkg/*.tgz,
  # scripts/pack-client.sh): a newer tarball means a new install.
  tgz=$(node -e 'const v=Object.values(require("./package.json").dependencies||{}).find((v)=>/^file:.*\.tgz$/.test(v)); if (v) console.log(v.slice(5))')
  if [ -n "$tgz" ] && [ ! -f "$tgz" ]; then echo "$name: no $tgz (run scripts/pack-client.sh)" >&2; exit 1; fi
  if [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] &&
    { [ -z "$tgz" ] || [ node_modules/.package-lock.json -nt "$tgz" ]; }; then
    echo "$name: node_modules up to date"
  else
    npm ci --no-audit --no-fund --loglevel=error
  fi
  t_ci=$(dt "$t")
  t=$(now)
  npm run build
  t_build=$(dt "$t")
fi
[ -f "$dist/index.html" ] || { echo "$name: no $dist/index.html after the build" >&2; exit 1; }
if [ "$phase" = build ]; then
  echo "example $name: npm-ci ${t_ci}s build ${t_build}s"
  exit 0
fi

# What a browser downloads: every JS, wasm and HTML file of the build, raw and gzip -9.
read -r raw gz < <(find "$dist" -type f \( -name '*.js' -o -name '*.mjs' -o -name '*.wasm' -o -name '*.html' \) ! -name '*.test.mjs' -print0 |
  xargs -0 -r -n1 sh -c 'printf "%s %s\n" "$(wc -c <"$0")" "$(gzip -9 -c "$0" | wc -c)"' |
  awk '{ r += $1; g += $2 } END { printf "%d %d\n", r, g }')

log=$(mktemp)
node "$E2E/serve.mjs" "$dist" "$port" >"$log" 2>&1 &
spid=$!
trap 'kill "$spid" 2>/dev/null || true; wait "$spid" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 200); do grep -q serving "$log" && break; kill -0 "$spid" 2>/dev/null || break; sleep 0.05; done
grep -q serving "$log" || { cat "$log"; echo "$name: static server did not start on $port" >&2; exit 1; }

# examples/run.sh: build and serve only, in the foreground, until Ctrl-C.
if [ "${EXAMPLES_SERVE:-}" = 1 ]; then
  echo "$name: open http://127.0.0.1:$port/ (against $GATEHOUSE_URL; Ctrl-C stops)"
  wait "$spid"
  exit 0
fi

t=$(now)
if [ -n "${EXAMPLE_EXTRA_TEST:-}" ]; then
  # An example's own check, beside the flow (its own user; both mostly wait on the clock).
  $EXAMPLE_EXTRA_TEST "http://127.0.0.1:$port" &
  xpid=$!
  rc=0
  node "$E2E/flow.mjs" "http://127.0.0.1:$port" "$name" || rc=$?
  wait "$xpid" || rc=$?
  [ "$rc" = 0 ] || exit "$rc"
else
  node "$E2E/flow.mjs" "http://127.0.0.1:$port" "$name"
fi
t_test=$(dt "$t")
if [ "$phase" = test ]; then
  echo "example $name: test ${t_test}s bundle $raw B raw / $gz B gzip (JS, wasm, HTML)"
else
  echo "example $name: npm-ci ${t_ci}s build ${t_build}s test ${t_test}s bundle $raw B raw / $gz B gzip (JS, wasm, HTML)"
fi
