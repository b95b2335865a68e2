#!/usr/bin/env bash
# CI: npm ci (once, from the lockfile), ng build, serve dist/browser on 5104 with the
# SPA fallback and /config.json from GATEHOUSE_URL/_CLIENT_ID/_API_KEY, and run the
# shared browser flow (examples/e2e/flow.mjs; see ../e2e/run-app.sh). Then serves the
# same build again for interceptor.test.mjs (the interceptor's 401 paths).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
export NG_CLI_ANALYTICS=false
../e2e/run-app.sh angular 5104 dist/browser

log=$(mktemp)
node ../e2e/serve.mjs dist/browser 5104 >"$log" 2>&1 &
spid=$!
trap 'kill "$spid" 2>/dev/null || true; wait "$spid" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 200); do grep -q serving "$log" && break; kill -0 "$spid" 2>/dev/null || break; sleep 0.05; done
grep -q serving "$log" || { cat "$log"; echo "angular: static server did not start on 5104" >&2; exit 1; }
t=$SECONDS
node interceptor.test.mjs http://127.0.0.1:5104
echo "example angular: interceptor test $((SECONDS - t))s"
