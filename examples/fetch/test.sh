#!/usr/bin/env bash
# The fetch page has no build: serve this folder as it is on port 5101 and run the shared flow.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
exec ../e2e/run-app.sh fetch 5101 .
