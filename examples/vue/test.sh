#!/usr/bin/env bash
# npm ci, vite build into dist/, serve it on port 5103 and run the shared browser flow.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
exec ../e2e/run-app.sh vue "$((${EXAMPLES_APP_PORT_BASE:-5100} + 3))" dist
