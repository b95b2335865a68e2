#!/usr/bin/env bash
# CI: npm ci (once, from the lockfile), ng build, serve dist/browser on 5104 with the
# SPA fallback and /config.json from GATEHOUSE_URL/_CLIENT_ID/_API_KEY, and run the
# shared browser flow (examples/e2e/flow.mjs), then interceptor.test.mjs (the
# interceptor's 401 paths) against the same server. See ../e2e/run-app.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
export NG_CLI_ANALYTICS=false
export EXAMPLE_EXTRA_TEST="node interceptor.test.mjs"  # run-app.sh runs in this folder
exec ../e2e/run-app.sh angular "$((${EXAMPLES_APP_PORT_BASE:-5100} + 4))" dist/browser
