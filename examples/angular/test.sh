#!/usr/bin/env bash
# CI: npm ci (once, from the lockfile), ng build, serve dist/browser on 5104 with the
# SPA fallback and /config.json from GATEHOUSE_URL/_CLIENT_ID/_API_KEY, and run the
# shared browser flow (examples/e2e/flow.mjs). See ../e2e/run-app.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
ROOT="$(cd ../.. && pwd)"
export NG_CLI_ANALYTICS=false
# The app depends on file:../../client-wasm/pkg/web; the runner builds pkg/bundler only.
if [ ! -f "$ROOT/client-wasm/pkg/web/package.json" ]; then
  bash "$ROOT/scripts/install-wasm-tools.sh"
  bash "$ROOT/client-wasm/build.sh" web
fi
exec ../e2e/run-app.sh angular 5104 dist/browser
