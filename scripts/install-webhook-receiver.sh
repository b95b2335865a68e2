#!/usr/bin/env bash
# Installs the contract suite's webhook receiver (tests/webhook-receiver: the
# Standard Webhooks reference library, npm `standardwebhooks`), idempotently;
# prints the receiver script's path.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="$ROOT/tests/webhook-receiver"
if [ ! -f "$DIR/node_modules/standardwebhooks/package.json" ]; then
  (cd "$DIR" && npm ci --ignore-scripts --no-audit --no-fund >&2)
fi
echo "$DIR/receiver.mjs"
