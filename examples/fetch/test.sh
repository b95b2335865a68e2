#!/usr/bin/env bash
# The fetch page has no build: serve this folder as it is on port 5101 and run
# the shared flow and, beside it (its own browser and user), this page's
# single-flight test: 10 calls at once after expiry → exactly one refresh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
EXAMPLE_EXTRA_TEST="node single-flight.test.mjs" exec ../e2e/run-app.sh fetch "$((${EXAMPLES_APP_PORT_BASE:-5100} + 1))" .
